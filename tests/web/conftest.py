"""Browser tests of the web UI: the system started as `make run` starts it, driven by Playwright in
Debian's chromium (headless), at the 1366x768 of an ordinary office PC.

Fixtures:
- ``system``: ``crm up --demo`` in its own folder (its own PostgreSQL and NATS), demo extracts loaded.
  ``system.base``, ``system.demo_password``, ``system.api(username, password=None)`` (an httpx client
  with that user's token), ``system.new_agent(unique)`` (a workflow agent and its login user).
- ``browser``: one chromium for the session; ``page``: a fresh context (no cookies) per test.
Helpers: ``sign_in(page, system, username, password=None)``, ``screenshot(page, name)`` (kept under
docs/screenshots/), ``assert_accessible(page)`` (axe-core: no serious or critical violation).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from crm.launch import System

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class AgentLogin:
    username: str
    password: str
    agent_id: str


class RunningSystem:
    def __init__(self, system: System) -> None:
        self.system = system
        self.base = system.base
        self.demo_password = (system.work / "secrets" / "demo-password").read_text().strip()
        self.admin = system.admin

    def token(self, username: str, password: str | None = None) -> str:
        credentials = {"username": username, "password": password or self.demo_password}
        if username == self.admin["username"]:
            credentials = self.admin
        r = httpx.post(f"{self.base}/api/auth/token", data=credentials, timeout=30)
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def api(self, username: str, password: str | None = None) -> httpx.Client:
        """An API client with the user's token (demo users: agent, supervisor, admin, processor)."""
        headers = {"Authorization": f"Bearer {self.token(username, password)}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def new_supervisor(self) -> tuple[str, str]:
        """A supervisor login of one test alone (its language preference is its own): user, password."""
        username, password = f"sup.{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
        with self.api("admin") as admin:
            body = {"username": username, "password": password, "roles": ["SUPERVISOR"]}
            r = admin.post("/api/auth/users", json=body)
            assert r.status_code == 201, r.text
        return username, password

    def new_agent(self, name: str | None = None, **fields: Any) -> AgentLogin:
        """A workflow agent (ADMIN created) and a login user acting as it, with its own password."""
        suffix = uuid.uuid4().hex[:8]
        with self.api("admin") as admin:
            body = {
                "employeeId": f"WEB{suffix}",
                "name": name or f"Agent {suffix}",
                "email": f"agent.{suffix}@bank.example",
                "type": "AGENT",
                "team": "EARLY_STAGE_CALL",
                "maxCustomers": 200,
                **fields,
            }
            r = admin.post("/api/agents", json=body)
            assert r.status_code == 201, r.text
            agent_id = str(r.json()["id"])
            login = AgentLogin(f"agent.{suffix}", f"pw-{uuid.uuid4().hex}", agent_id)
            r = admin.post(
                "/api/auth/users",
                json={
                    "username": login.username,
                    "password": login.password,
                    "roles": ["AGENT"],
                    "agentId": agent_id,
                },
            )
            assert r.status_code == 201, r.text
        return login

    def customers(self, count: int, **filters: Any) -> list[dict[str, Any]]:
        """Delinquent customers of the demo data (bank-sync's search), worst first."""
        with self.api("admin") as admin:
            r = admin.get("/api/customers", params={"pageSize": count, **filters})
            assert r.status_code == 200, r.text
            return list(r.json()["items"])


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    work = tmp_path_factory.mktemp("web-system")
    with System(work) as started:
        import asyncio

        asyncio.run(started.loaded())
        yield RunningSystem(started)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    opened = await context.new_page()
    try:
        yield opened
    finally:
        await context.close()


async def sign_in(page: Page, system: RunningSystem, username: str, password: str | None = None) -> None:
    """Sign in through the sign-in page, as a person does."""
    await page.goto(f"{system.base}/login")
    await page.fill("#username", username)
    await page.fill("#password", password or system.demo_password)
    await page.click("button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, await page.inner_text("main")


async def screenshot(page: Page, name: str) -> None:
    """Taken on every run; written to docs/screenshots only with ``CRM_SCREENSHOTS=1`` (``make
    screenshots``), so that ``make test`` leaves the working tree as it found it."""
    image = await page.screenshot(full_page=False)
    if os.environ.get("CRM_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(image)


async def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    # From the server (the same file, installed with the front-end packages): the pages' CSP runs no
    # inline script, which is what add_script_tag(path=...) would inject.
    origin = "/".join(page.url.split("/")[:3])
    await page.add_script_tag(url=f"{origin}/static/vendor/axe-core/axe.min.js")
    result = await page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, json.dumps(
        [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:3]]} for v in serious],
        indent=1,
    )

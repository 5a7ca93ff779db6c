"""Every page and API answer carries the security headers; the pages' CSP runs no inline script but
their own by hash, and nothing on any screen is blocked by it (the browser would say so)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.conftest import sign_in

pytestmark = pytest.mark.e2e

PAGES = {
    "agent": ["/my-day", "/customers?q=NGUYEN"],
    "supervisor": ["/team", "/team/trends", "/assignments", "/assignments/history", "/customers?q=A"],
    "admin": [
        "/admin",
        "/admin/agents",
        "/admin/agents/new",
        "/admin/audit",
        "/admin/payments",
        "/admin/reconciliation",
        "/admin/sync",
        "/admin/users",
        "/admin/vocabularies",
    ],
}


def _script_src(policy: str) -> str:
    return next(part for part in policy.split(";") if part.strip().startswith("script-src"))


def _check_common(headers: dict[str, str], where: str) -> None:
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "no-referrer", where
    assert headers.get("cache-control") == "no-store", where


def _check_page(headers: dict[str, str], where: str) -> None:
    _check_common(headers, where)
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, where
    assert "'unsafe-inline'" not in _script_src(policy) and "'unsafe-eval'" not in policy, where


@pytest.mark.parametrize("role", list(PAGES))
async def test_every_screen_carries_the_headers_and_the_csp_blocks_nothing(system, page, role):
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    await sign_in(page, system, role)
    for path in PAGES[role]:
        response = await page.goto(f"{system.base}{path}")
        assert response is not None and response.status == 200, path
        _check_page(await response.all_headers(), path)
        await page.wait_for_load_state("networkidle")
    if role == "agent":  # the language menu (its handler was inline) still switches at once
        await page.goto(f"{system.base}/my-day")
        await page.select_option("#language", "en")
        await page.wait_for_load_state("networkidle")
        assert await page.get_attribute("html", "lang") == "en"
    assert refused == []


async def test_the_api_docs_run_their_own_script_by_hash(system, page):
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    response = await page.goto(f"{system.base}/docs")
    assert response is not None
    policy = (await response.all_headers())["content-security-policy"]
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+'", policy)
    await page.wait_for_function("typeof ui === 'object'", timeout=20_000)  # the inline script ran
    assert refused == []


def test_api_answers_and_the_sign_in_page_carry_the_headers_hsts_behind_tls(system):
    token = system.token("admin")
    auth = {"Authorization": f"Bearer {token}"}
    for path in (
        "/api/agents",
        "/api/customers?q=A",
        "/api/payments/NOPE",
        "/api/sync/status",
        "/health/ready",
    ):
        r = httpx.get(f"{system.base}{path}", headers=auth)
        _check_common(dict(r.headers), path)
        assert "strict-transport-security" not in r.headers, "plain HTTP: no HSTS"
    login = httpx.get(f"{system.base}/login")
    _check_page(dict(login.headers), "/login")
    behind_tls = httpx.get(f"{system.base}/login", headers={"X-Forwarded-Proto": "https"})
    assert behind_tls.headers["strict-transport-security"].startswith("max-age=")
    static = httpx.get(f"{system.base}/static/web/app.js")
    assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"

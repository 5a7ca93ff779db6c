"""The first minutes after ``make run``: ready only once the demo data is there, and a start banner
that stands out from the log lines."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from crm.cli import BANNER_RULE, _banner
from crm.launch import System
from crm.platform.settings import DEMO_AGENT_ID, PlatformSettings

pytestmark = pytest.mark.e2e


async def _first_ready(client: httpx.AsyncClient) -> list[dict[str, object]]:
    """Ask /health/ready until it answers 200; the answers before it (503 problem+json)."""
    refused: list[dict[str, object]] = []
    for _ in range(2400):
        try:
            answer = await client.get("/health/ready")
        except httpx.HTTPError:
            await asyncio.sleep(0.25)
            continue
        if answer.status_code == 200:
            return refused
        refused.append(answer.json())
        await asyncio.sleep(0.25)
    raise AssertionError("never ready")


def test_demo_mode_is_ready_only_once_the_demo_data_is_loaded(tmp_path):
    with System(tmp_path / "first-minutes") as system:

        async def check() -> None:
            async with httpx.AsyncClient(base_url=system.base, timeout=30) as client:
                refused = await _first_ready(client)
                # the moment it is ready: the extracts are loaded and the demo agent has customers
                admin = (await client.post("/api/auth/token", data=system.admin)).json()["access_token"]
                status = await client.get("/api/sync/status", headers={"Authorization": f"Bearer {admin}"})
                runs = [source.get("lastRun") or {} for source in status.json()["sources"]]
                assert any(runs), status.text
                assert all(run.get("state") not in ("QUEUED", "RUNNING") for run in runs), status.text
                password = (system.work / "secrets" / "demo-password").read_text().strip()
                token = await client.post("/api/auth/token", data={"username": "agent", "password": password})
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                queue = await client.get(f"/api/agents/{DEMO_AGENT_ID}/queue", headers=headers)
                assert queue.status_code == 200 and queue.json()["total"] > 0, queue.text
                loading = [r for r in refused if "'demo': 'loading'" in str(r.get("detail"))]
                for answer in loading:  # while loading: a 503 that says so, as problem+json
                    assert answer["status"] == 503 and answer["code"], answer

        asyncio.run(check())


def test_the_start_banner_stands_out_from_the_json_log_lines(capsys, tmp_path):
    settings = PlatformSettings(data_dir=tmp_path, demo=True)
    _banner(settings, "http://127.0.0.1:8000", "is ready", web=True, workers=2)
    lines = capsys.readouterr().err.splitlines()
    framed = [n for n, line in enumerate(lines) if line == BANNER_RULE]
    assert len(framed) == 2 and framed[1] - framed[0] > 3, lines  # a rule above and below
    assert lines[0] == "" and lines[-1] == ""  # and a blank line on either side
    inside = lines[framed[0] + 1 : framed[1]]
    assert inside[0] == "Collection CRM is ready at http://127.0.0.1:8000"
    assert any("password:" in line for line in inside)  # where the demo password is
    for line in inside:  # nothing of it reads as a log line
        with pytest.raises(ValueError):
            json.loads(line)

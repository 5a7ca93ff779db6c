"""A sync asked for through the API runs in the background; its progress, counts and rejects are readable."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date

import httpx
import pytest

from crm.bank_sync.app import spec
from crm.bank_sync.settings import BankSyncSettings
from crm.bank_sync.sync.worker import run_worker
from crm.platform.auth import Role
from crm.platform.service import create_service_app
from tests.bank_sync.extracts import CUSTOMER_HEADER, customer, write_delivery


@pytest.fixture
async def api(settings, isolated_database, tmp_path):
    """bank-sync with its worker, on a database of its own and an inbox in tmp_path."""
    local = BankSyncSettings(**settings.model_dump(), inbox_dir=tmp_path, sync_poll_interval=0.05)
    local.database_url = await isolated_database("bank-sync")
    app = create_service_app(
        dataclasses.replace(spec(), consumers=(), background=(run_worker,)), local, standalone=False
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def _finished(api, run_id, headers) -> dict:
    for _ in range(200):
        run = (await api.get(f"/api/sync/runs/{run_id}", headers=headers)).json()
        if run["state"] in ("SUCCEEDED", "FAILED"):
            return run
        await asyncio.sleep(0.05)
    raise AssertionError("the run did not finish in 10 s")


async def test_admin_triggers_a_sync_and_browses_its_rejects(api, tmp_path, token_for):
    rows = [customer("A1"), customer("A2", type="MARTIAN"), customer("A3")]
    write_delivery(tmp_path, "T24", date(2026, 11, 28), {"customers": (CUSTOMER_HEADER, rows)})
    admin, agent = token_for(Role.ADMIN), token_for(Role.AGENT)
    queued = await api.post("/api/sync/run", json={"sourceSystem": "T24"}, headers=admin)
    assert queued.status_code == 202
    run = await _finished(api, queued.json()["runId"], agent)
    assert run["state"] == "SUCCEEDED" and run["businessDate"] == "2026-11-28"
    assert run["counts"]["customers"]["inserted"] == 2 and run["counts"]["customers"]["rejected"] == 1
    rejects = (await api.get(f"/api/sync/runs/{run['runId']}/rejects", headers=agent)).json()
    assert rejects["total"] == 1
    assert rejects["items"][0] == {
        "entityType": "customers",
        "lineNumber": 3,
        "reason": "unknown type value: MARTIAN",
        "row": {h: (v or None) for h, v in zip(CUSTOMER_HEADER, rows[1], strict=True)},  # empty cell = null
    }
    status = (await api.get("/api/sync/status", headers=agent)).json()
    t24 = next(s for s in status["sources"] if s["sourceSystem"] == "T24")
    assert t24["lastRun"]["runId"] == run["runId"]
    assert [(e["entityType"], e["staleRecords"]) for e in t24["entities"]] == [("customers", 0)]
    again = await api.post("/api/sync/run", json={"sourceSystem": "T24"}, headers=admin)
    assert again.status_code == 202, "a finished run frees its source"
    assert (await _finished(api, again.json()["runId"], agent))["counts"]["customers"]["unchanged"] == 2


async def test_rejects_of_an_unknown_run_is_404(api, token_for):
    r = await api.get(
        "/api/sync/runs/00000000-0000-0000-0000-000000000000/rejects", headers=token_for(Role.AGENT)
    )
    assert r.status_code == 404


async def test_a_run_whose_process_died_frees_its_source_a_live_one_does_not(api, tmp_path, token_for):
    """`kill -9` of a sync leaves its run RUNNING; it used to block its source (409, the nightly
    schedule skipped it) until a restart. Its lock is free, so the next request marks it FAILED."""
    import asyncpg

    from crm.bank_sync.sync.runner import _lock_key

    write_delivery(tmp_path, "W4", date(2026, 11, 28), {"customers": (CUSTOMER_HEADER, [customer("W1")])})
    url = api._transport.app.state.settings.database_url  # type: ignore[attr-defined]
    conn, holder = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        insert = (
            "INSERT INTO bank_sync.sync_run (id, source_system, state, counts, requested_by, created_at, "
            "started_at) VALUES (gen_random_uuid(), $1, 'RUNNING', '{}', 'test', now(), "
            "now() - interval '1 minute') RETURNING id"
        )
        dead = await conn.fetchval(insert, "W4")
        live = await conn.fetchval(insert, "OTHER")
        await holder.execute("SELECT pg_advisory_lock($1)", _lock_key("OTHER"))  # a process still at work
        admin = token_for(Role.ADMIN)
        busy = await api.post("/api/sync/run", json={"sourceSystem": "OTHER"}, headers=admin)
        assert busy.status_code == 409, "a run whose process holds its lock is alive"
        queued = await api.post("/api/sync/run", json={"sourceSystem": "W4"}, headers=admin)
        assert queued.status_code == 202, queued.text
        row = await conn.fetchrow("SELECT state, error FROM bank_sync.sync_run WHERE id = $1", dead)
        assert row["state"] == "FAILED" and "Interrupted" in row["error"]
        assert await conn.fetchval("SELECT state FROM bank_sync.sync_run WHERE id = $1", live) == "RUNNING"
        run = await _finished(api, queued.json()["runId"], admin)
        assert run["state"] == "SUCCEEDED" and run["counts"]["customers"]["inserted"] == 1
    finally:
        await holder.close()
        await conn.close()

"""The acceptance path on generated data: exact counts, a second run all unchanged, the next day's
snapshot updates exactly the changed rows, and a set with bad rows rejects exactly those lines."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, text

from crm.bank_sync.models import platform_tables
from crm.bank_sync.sync.entities import LOAD_ORDER
from crm.bank_sync.sync.models import SyncRun
from crm.bank_sync.sync.runner import SyncRunner, connector_for
from crm.demo_data.generation import generate
from crm.demo_data.planning import share_of
from crm.platform.db import Database
from crm.platform.outbox import Outbox
from crm.platform.settings import PlatformSettings

DAY1, DAY2 = date(2026, 11, 27), date(2026, 11, 28)
CUSTOMERS = 600


@pytest.fixture
async def db(isolated_database):
    database = Database(await isolated_database("bank-sync"), schema="bank_sync")
    yield database
    await database.dispose()


async def sync(db: Database, inbox, source: str, day: date) -> SyncRun:
    async with db.transaction() as session:
        run = SyncRun(
            source_system=source, state="RUNNING", counts={}, requested_by="test", business_date=day
        )
        session.add(run)
    # Small files take the bulk path of large ones: an empty table gets its indexes after the rows.
    runner = SyncRunner(db, Outbox(platform_tables.outbox), rebuild_indexes_from=1, tz=PlatformSettings().tz)
    return await runner.execute(run.id, connector_for(source, inbox_dir=inbox))


async def index_definitions(db: Database) -> list[str]:
    async with db.transaction() as session:
        rows = await session.execute(
            text(
                """SELECT pg_get_indexdef(indexrelid) FROM pg_index
                   WHERE indrelid::regclass::text LIKE 'bank_sync.%'
                   UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
                   WHERE connamespace = 'bank_sync'::regnamespace ORDER BY 1"""
            )
        )
        return list(rows.scalars())


async def announced_keys(db: Database, run: SyncRun, entity: str) -> list[str]:
    async with db.transaction() as session:
        payloads = (await session.scalars(select(platform_tables.outbox.c.payload))).all()
    events = [json.loads(p) for p in payloads]
    return [
        key
        for e in events
        if e["type"] == "ENTITY_UPDATED" and e["runId"] == str(run.id) and e["entityType"] == entity
        for key in e["affectedRecords"]
    ]


def manifest(inbox, source: str, day: date) -> dict:
    return json.loads((inbox / source / day.isoformat() / "manifest.json").read_text())["files"]


async def test_generated_snapshots_load_exactly(db, tmp_path):
    inbox = tmp_path / "inbox"
    generate(inbox, CUSTOMERS, DAY1, seed=7)
    generate(inbox, CUSTOMERS, DAY2, seed=7, changed=0.05)
    indexes = await index_definitions(db)
    for source in ("T24", "W4"):
        rows = {name.removesuffix(".csv"): f["rows"] for name, f in manifest(inbox, source, DAY1).items()}
        first = await sync(db, inbox, source, DAY1)
        assert first.state == "SUCCEEDED", first.error
        for spec in LOAD_ORDER:
            c = first.counts[spec.name]
            assert (c["read"], c["inserted"], c["rejected"]) == (rows[spec.name], rows[spec.name], 0), (
                spec.name
            )
        assert await index_definitions(db) == indexes, "every index and constraint is back after the load"
        keys = await announced_keys(db, first, "customers")
        assert len(keys) == len(set(keys)) == rows["customers"], "every new customer is announced once"

        again = await sync(db, inbox, source, DAY1)
        assert all(again.counts[s.name]["unchanged"] == rows[s.name] for s in LOAD_ORDER)
        assert all(
            again.counts[s.name]["updated"] + again.counts[s.name]["inserted"] == 0 for s in LOAD_ORDER
        )

        nextday = await sync(db, inbox, source, DAY2)
        for spec in LOAD_ORDER:
            c = nextday.counts[spec.name]
            expected = 0 if spec.name == "loan_collaterals" else share_of(rows[spec.name], 0.05)
            assert (c["updated"], c["inserted"], c["stale"], c["rejected"]) == (expected, 0, 0, 0), spec.name


async def test_bad_rows_are_rejected_exactly_and_the_rest_loads(db, tmp_path):
    inbox = tmp_path / "inbox"
    generate(inbox, CUSTOMERS, DAY1, seed=11, bad=0.02, sources=("T24",))
    run = await sync(db, inbox, "T24", DAY1)
    assert run.state == "SUCCEEDED", run.error
    listed = json.loads((inbox / "T24" / DAY1.isoformat() / "bad_rows.json").read_text())
    rows = {name.removesuffix(".csv"): f["rows"] for name, f in manifest(inbox, "T24", DAY1).items()}
    async with db.transaction() as session:
        from sqlalchemy import select

        from crm.bank_sync.sync.models import SyncReject

        found = (
            await session.execute(
                select(SyncReject.entity_type, SyncReject.line_number).where(SyncReject.run_id == run.id)
            )
        ).all()
    for spec in LOAD_ORDER:
        expected = sorted(b["line"] for b in listed.get(spec.file_name, []))
        got = sorted(line for entity, line in found if entity == spec.name)
        assert got == expected, spec.name
        c = run.counts[spec.name]
        assert c["inserted"] == rows[spec.name] - len(expected) and c["rejected"] == len(expected)
    assert sum(len(v) for v in listed.values() if v) > 0

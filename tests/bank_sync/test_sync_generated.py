"""The acceptance path on generated data: exact counts, a second run all unchanged, the next day's
snapshot updates exactly the changed rows, and a set with bad rows rejects exactly those lines."""

from __future__ import annotations

import json
from datetime import date

import pytest

from crm.bank_sync.generator import generate, share_of
from crm.bank_sync.models import platform_tables
from crm.bank_sync.sync.entities import LOAD_ORDER
from crm.bank_sync.sync.models import SyncRun
from crm.bank_sync.sync.runner import SyncRunner, connector_for
from crm.platform.db import Database
from crm.platform.outbox import Outbox

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
    return await SyncRunner(db, Outbox(platform_tables.outbox)).execute(
        run.id, connector_for(source, inbox_dir=inbox)
    )


def manifest(inbox, source: str, day: date) -> dict:
    return json.loads((inbox / source / day.isoformat() / "manifest.json").read_text())["files"]


async def test_generated_snapshots_load_exactly(db, tmp_path):
    inbox = tmp_path / "inbox"
    generate(inbox, CUSTOMERS, DAY1, seed=7)
    generate(inbox, CUSTOMERS, DAY2, seed=7, changed=0.05)
    for source in ("T24", "W4"):
        rows = {name.removesuffix(".csv"): f["rows"] for name, f in manifest(inbox, source, DAY1).items()}
        first = await sync(db, inbox, source, DAY1)
        assert first.state == "SUCCEEDED", first.error
        for spec in LOAD_ORDER:
            c = first.counts[spec.name]
            assert (c["read"], c["inserted"], c["rejected"]) == (rows[spec.name], rows[spec.name], 0), (
                spec.name
            )

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

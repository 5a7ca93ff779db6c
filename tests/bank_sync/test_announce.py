"""``crm sync-announce``: ENTITY_UPDATED events naming every record bank-sync holds, staged in its outbox."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from sqlalchemy import select
from typer.testing import CliRunner

from crm.bank_sync.models import platform_tables
from crm.platform.db import Database
from crm.platform.events import SyncEvent
from crm.platform.settings import PlatformSettings
from tests.bank_sync.test_customers_loans import add_customer_with_loan


async def test_the_command_names_each_record_of_a_source_once(
    settings: PlatformSettings, isolated_database, monkeypatch
):
    from crm.cli import app

    url = await isolated_database("bank-sync")
    db = Database(url, schema="bank_sync")
    try:
        bank_sync = SimpleNamespace(state=SimpleNamespace(db=db))
        for n in range(3):
            await add_customer_with_loan(bank_sync, f"CIFW{n}", f"CARD{n}", source_system="W4")
        await add_customer_with_loan(bank_sync, "CIFT0", "LNT0")  # T24: not asked for
        for name, value in {"DATABASE_URL": url, "NATS_URL": settings.nats_url}.items():
            monkeypatch.setenv(name, str(value))

        done = await asyncio.to_thread(CliRunner().invoke, app, ["sync-announce", "--source", "W4"])

        assert done.exit_code == 0, done.output
        assert "customers: 3 records announced" in done.output and "loans: 3 records announced" in done.output
        async with db.transaction() as session:
            payloads = (await session.execute(select(platform_tables.outbox.c.payload))).scalars().all()
        events = sorted((SyncEvent.model_validate_json(p) for p in payloads), key=lambda e: e.entity_type)
        assert [(e.type, e.entity_type, e.source_system, e.affected_records) for e in events] == [
            ("ENTITY_UPDATED", "customers", "W4", ["CIFW0", "CIFW1", "CIFW2"]),
            ("ENTITY_UPDATED", "loans", "W4", ["CARD0", "CARD1", "CARD2"]),
        ]
        refused = await asyncio.to_thread(CliRunner().invoke, app, ["sync-announce", "--entity", "nope"])
        assert refused.exit_code == 2 and "--entity one of customers" in refused.output
    finally:
        await db.dispose()

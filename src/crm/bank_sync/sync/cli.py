"""``crm sync``: the same run as ``POST /api/sync/run``, in this process, with a progress display."""

from __future__ import annotations

import asyncio
import sys
from datetime import date

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from crm.bank_sync.models import platform_tables
from crm.bank_sync.records.schemas import EntityType, SourceSystem
from crm.bank_sync.settings import BankSyncSettings
from crm.bank_sync.sync import service
from crm.bank_sync.sync.announce import announce
from crm.bank_sync.sync.entities import ENTITIES
from crm.bank_sync.sync.runner import SyncRunner, connector_for
from crm.bank_sync.sync.worker import claim_next_run
from crm.platform.db import Database
from crm.platform.errors import Conflict
from crm.platform.outbox import Outbox
from crm.platform.settings import PlatformSettings


async def run_sync(
    settings: BankSyncSettings, source: str, business_date: date | None, entity: str | None
) -> int:
    """Queue, claim and carry out one run; returns the process exit code (0 when it succeeded)."""
    assert settings.database_url
    console = Console(stderr=True)
    db = Database(settings.database_url, schema="bank_sync", pool_size=4, max_overflow=2)
    try:
        try:
            async with db.transaction() as session:
                runs = await service.queue_runs(
                    session,
                    sources=[SourceSystem(source)],
                    entity_type=EntityType(entity) if entity else None,
                    business_date=business_date,
                    today=date.today(),
                    requested_by="crm sync",
                )
                run_id = runs[0].id
        except Conflict as exc:
            console.print(f"[red]{exc.detail}[/red]")
            return 1
        await claim_next_run(db, run_id)
        with Progress(
            TextColumn("{task.description:<20}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=not console.is_terminal,
        ) as bar:
            tasks: dict[str, TaskID] = {}
            started: dict[str, float] = {}

            def progress(name: str, phase: str, amount: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=None, status="copying")
                    started[name] = asyncio.get_running_loop().time()
                elapsed = max(asyncio.get_running_loop().time() - started[name], 1e-6)
                if phase == "bytes":
                    bar.update(
                        tasks[name],
                        status=f"{amount / 1e6:,.1f} MB read ({amount / 1e6 / elapsed:,.1f} MB/s)",
                    )
                else:
                    bar.update(
                        tasks[name], status=f"{phase}: {amount:,} rows ({amount / elapsed:,.0f} rows/s)"
                    )

            runner = SyncRunner(
                db,
                Outbox(platform_tables.outbox),
                progress=progress,
                parallel=settings.sync_parallel_entities,
                tz=settings.tz,
            )
            connector = connector_for(source, inbox_dir=settings.inbox, sql_sources=settings.sync_sql_sources)
            run = await runner.execute(run_id, connector)
        table = Table(title=f"Sync run {run.id} - {run.source_system} {run.business_date} - {run.state}")
        for column in (
            "entity",
            "state",
            "read",
            "inserted",
            "updated",
            "unchanged",
            "rejected",
            "stale",
            "rows/s",
        ):
            table.add_column(column, justify="right" if column not in ("entity", "state") else "left")
        for name in ENTITIES:
            r = run.counts.get(name)
            if r is None:
                continue
            rate = f"{r['read'] / r['seconds']:,.0f}" if r["seconds"] else "-"
            table.add_row(
                name,
                r["state"],
                *(f"{r[k]:,}" for k in ("read", "inserted", "updated", "unchanged", "rejected", "stale")),
                rate,
            )
        Console(file=sys.stdout).print(table)
        if run.error:
            console.print(f"[red]{run.error}[/red]")
        return 0 if run.state == "SUCCEEDED" else 1
    finally:
        await db.dispose()


async def announce_all(settings: PlatformSettings, entities: list[str], source: str | None) -> dict[str, int]:
    """``crm sync-announce``: stage the events; the service's relay (or ``crm up``) publishes them."""
    assert settings.database_url
    db = Database(settings.database_url, schema="bank_sync", pool_size=1, max_overflow=0)
    try:
        outbox = Outbox(platform_tables.outbox)
        announced = await announce(db, outbox, entities, sources=[source] if source else None)
        return announced.records
    finally:
        await db.dispose()

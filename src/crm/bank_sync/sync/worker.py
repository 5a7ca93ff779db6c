"""The bank-sync service's background work: carrying out queued runs, and the nightly schedule."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from croniter import croniter
from fastapi import FastAPI
from sqlalchemy import select, text

from crm.bank_sync.records.schemas import SourceSystem
from crm.bank_sync.settings import BankSyncSettings
from crm.bank_sync.sync import service
from crm.bank_sync.sync.models import SyncRun
from crm.bank_sync.sync.runner import SyncRunner, connector_for, fail_interrupted_runs
from crm.bank_sync.sync.schemas import RunState
from crm.platform.db import Database
from crm.platform.errors import Conflict
from crm.platform.logging import get_logger

log = get_logger("crm.bank_sync.worker")
LIVENESS_INTERVAL_SECONDS = 20.0
"""How often the worker looks for runs whose process died (they are FAILED within about this long)."""


async def claim_next_run(db: Database, run_id: uuid.UUID | None = None) -> tuple[uuid.UUID, str] | None:
    """Move the oldest QUEUED run (or the given one) to RUNNING; several workers never take the same run."""
    async with db.transaction() as session:
        candidate = select(SyncRun.id).where(SyncRun.state == RunState.QUEUED.value)
        if run_id is not None:
            candidate = candidate.where(SyncRun.id == run_id)
        candidate = candidate.order_by(SyncRun.created_at).limit(1).with_for_update(skip_locked=True)
        row = (
            await session.execute(
                text(
                    "UPDATE bank_sync.sync_run SET state = 'RUNNING', started_at = now() "
                    "WHERE id = (:id) RETURNING id, source_system"
                ),
                {"id": await session.scalar(candidate)},
            )
        ).first()
    return (row[0], row[1]) if row else None


async def run_worker(app: FastAPI) -> None:
    """Carry out queued runs one at a time, for as long as the service runs."""
    settings: BankSyncSettings = app.state.settings
    if not settings.sync_worker:
        return
    db: Database = app.state.db
    interrupted = await fail_interrupted_runs(db, grace_seconds=0)
    if interrupted:
        log.warning("sync_runs_interrupted", count=interrupted)
    runner = SyncRunner(db, app.state.outbox, parallel=settings.sync_parallel_entities, tz=settings.tz)
    checked = asyncio.get_running_loop().time()
    while True:
        try:
            if asyncio.get_running_loop().time() - checked >= LIVENESS_INTERVAL_SECONDS:
                # A run killed in another process (crm sync, another replica) frees its source.
                checked = asyncio.get_running_loop().time()
                await fail_interrupted_runs(db)
            claimed = await claim_next_run(db)
            if claimed is None:
                await asyncio.sleep(settings.sync_poll_interval)
                continue
            run_id, source = claimed
            connector = connector_for(source, inbox_dir=settings.inbox, sql_sources=settings.sync_sql_sources)
            await runner.execute(run_id, connector)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sync_worker_failed")
            await asyncio.sleep(settings.sync_poll_interval)


async def run_schedule(app: FastAPI) -> None:
    """Queue a run of every source at each time of ``CRM_SYNC_SCHEDULE`` (business time zone).

    A run picks up the newest extract of its source; a source that already has a run queued or
    running is skipped for that night (logged).
    """
    settings: BankSyncSettings = app.state.settings
    if not settings.sync_schedule:
        return
    schedule = croniter(settings.sync_schedule, datetime.now(settings.tz))
    while True:
        due: datetime = schedule.get_next(datetime)
        await asyncio.sleep(max(0.0, (due - datetime.now(settings.tz)).total_seconds()))
        for source in settings.sources:
            try:
                async with app.state.db.transaction() as session:
                    await service.queue_runs(
                        session,
                        sources=[SourceSystem(source)],
                        entity_type=None,
                        business_date=None,
                        today=due.date(),
                        requested_by="SCHEDULE",
                    )
            except Conflict:
                log.warning("scheduled_sync_skipped", source=source, reason="a run is already active")
            except Exception:
                log.exception("scheduled_sync_failed", source=source)


async def demo_data_loading(app: FastAPI) -> str | None:
    """Readiness in demo mode: "loading" until the demo extracts' first runs have finished (also
    while they are not yet queued); remembered once loaded. None outside demo mode."""
    settings: BankSyncSettings = app.state.settings
    if not settings.demo or getattr(app.state, "demo_loaded", False):
        return None
    delivered = any((settings.inbox / s.value).is_dir() for s in (SourceSystem.T24, SourceSystem.W4))
    unfinished = SyncRun.requested_by == "DEMO", SyncRun.state.in_((RunState.QUEUED, RunState.RUNNING))
    async with app.state.db.transaction() as session:
        any_run = await session.scalar(select(SyncRun.id).limit(1))
        loading = await session.scalar(select(SyncRun.id).where(*unfinished).limit(1))
    if loading is not None or (delivered and any_run is None):
        return "loading"
    app.state.demo_loaded = True
    return None


async def queue_demo_runs(app: FastAPI) -> None:
    """Demo mode: load the generated demo extracts once, the first time the service starts."""
    settings: BankSyncSettings = app.state.settings
    if not settings.demo:
        return
    async with app.state.db.transaction() as session:
        if await session.scalar(select(SyncRun.id).limit(1)) is not None:
            return
        delivered = [s for s in (SourceSystem.T24, SourceSystem.W4) if (settings.inbox / s.value).is_dir()]
        if delivered:
            await service.queue_runs(
                session,
                sources=delivered,
                entity_type=None,
                business_date=None,
                today=datetime.now(settings.tz).date(),
                requested_by="DEMO",
            )
            log.info("demo_sync_queued", sources=[s.value for s in delivered])

"""Carrying out sync runs: pick the extract, load its entities parent-first, record what happened.

Used by the service's background worker (runs queued through the API or the nightly schedule) and
by ``crm sync``. A run holds a PostgreSQL advisory lock on its source while it works, so a RUNNING
run whose lock is free was interrupted (the process died): the worker marks it FAILED and the next
run does the job again; a half-loaded entity was never committed.
"""

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random

from crm.bank_sync.sync.connectors import ExtractError, FileConnector, SourceConnector, SqlConnector
from crm.bank_sync.sync.entities import ENTITIES, LOAD_ORDER, EntitySpec, load_levels
from crm.bank_sync.sync.models import SyncRun
from crm.bank_sync.sync.pipeline import EntityLoader, EntityResult, Progress
from crm.bank_sync.sync.schemas import RunState
from crm.platform.db import Database, utcnow
from crm.platform.events import SyncEvent
from crm.platform.logging import get_logger
from crm.platform.outbox import Outbox

log = get_logger("crm.bank_sync.runner")


def connector_for(source_system: str, *, inbox_dir: Path, sql_sources: str | None = None) -> SourceConnector:
    """The SQL connector when ``CRM_SYNC_SQL_SOURCES`` configures this source, else the file inbox."""
    configured = json.loads(sql_sources) if sql_sources else {}
    if source_system in configured:
        entry = configured[source_system]
        return SqlConnector(source_system, entry["url"], entry["queries"])
    return FileConnector(inbox_dir, source_system)


LOAD_ATTEMPTS = 3
CONFLICTS = {"40P01", "40001"}
"""SQLSTATEs of a transaction PostgreSQL aborted to let another go on: deadlock, serialization failure."""


def _conflict(exc: BaseException) -> bool:
    """Whether ``exc`` (asyncpg's, or SQLAlchemy's wrapping it) is a deadlock or serialization failure."""
    while exc is not None:
        if getattr(exc, "sqlstate", None) in CONFLICTS:
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__  # type: ignore[assignment]
    return False


def _lock_key(source_system: str) -> int:
    return zlib.crc32(f"crm-sync-{source_system}".encode())


class SyncRunner:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        *,
        progress: Progress | None = None,
        parallel: int = 2,
        rebuild_indexes_from: int = 10_000,
        tz: ZoneInfo,
    ) -> None:
        """``parallel``: entity files loaded at the same time (each in its own connection and
        transaction), among those whose parents are already loaded. ``tz``: the business time zone."""
        self.db = db
        self.outbox = outbox
        self.parallel = max(1, parallel)
        self.loader = EntityLoader(
            db, outbox, progress=progress, rebuild_indexes_from=rebuild_indexes_from, tz=tz
        )

    async def execute(self, run_id: uuid.UUID, connector: SourceConnector) -> SyncRun:
        """Run a QUEUED run to the end; returns it SUCCEEDED or FAILED with per-entity counts."""
        async with self.db.engine.connect() as lock_conn:
            await lock_conn.execute(
                text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(connector.source_system)}
            )
            try:
                return await self._execute(run_id, connector)
            finally:
                await lock_conn.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(connector.source_system)}
                )
                await lock_conn.commit()

    async def _execute(self, run_id: uuid.UUID, connector: SourceConnector) -> SyncRun:
        async with self.db.transaction() as session:
            run = await session.get_one(SyncRun, run_id)
            run.state, run.started_at = RunState.RUNNING.value, utcnow()
            requested_entity, business_date = run.entity_type, run.business_date
        results: dict[str, dict[str, Any]] = {}
        error: str | None = None
        try:
            business_date = business_date or await _newest(connector)
            specs: Sequence[EntitySpec] = [ENTITIES[requested_entity]] if requested_entity else LOAD_ORDER
            slots = asyncio.Semaphore(self.parallel)

            async def load(spec: EntitySpec) -> None:
                async with slots:
                    result = await self._load(spec, connector, run_id, business_date)
                results[spec.name] = result.as_dict()
                await self._save_progress(run_id, business_date, results)

            for wave in load_levels(specs):
                async with asyncio.TaskGroup() as wave_group:  # a crash in one stops the others
                    for spec in wave:
                        wave_group.create_task(load(spec))
            results = {spec.name: results[spec.name] for spec in specs if spec.name in results}
            failed = [name for name, r in results.items() if r["state"] == "FAILED"]
            if failed:
                error = "Not loaded: " + "; ".join(f"{n}: {results[n]['error']}" for n in failed)
        except ExtractError as exc:
            error = str(exc)
        except Exception as exc:
            log.exception("sync_run_crashed", run_id=str(run_id))
            error = f"The run stopped unexpectedly ({type(exc).__name__}); loaded entities are kept."
        return await self._finish(run_id, connector.source_system, business_date, results, error)

    async def _load(
        self, spec: EntitySpec, connector: SourceConnector, run_id: uuid.UUID, business_date: date
    ) -> EntityResult:
        """Load one entity file; a load PostgreSQL chose to abort in a deadlock (say, with the
        balance consumer applying payments to the same loans) runs again from the file's start."""
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_conflict),
                stop=stop_after_attempt(LOAD_ATTEMPTS),
                wait=wait_random(0.5, 2),
                before_sleep=lambda state: log.warning(
                    "sync_entity_retried", entity=spec.name, attempt=state.attempt_number
                ),
                reraise=True,
            ):
                with attempt:
                    extract = await connector.open(business_date, spec.name)
                    if extract is None:
                        return EntityResult(entity=spec.name, state="SKIPPED", error="not delivered")
                    result = await self.loader.load(
                        spec,
                        extract,
                        run_id=run_id,
                        source_system=connector.source_system,
                        business_date=business_date,
                    )
            log.info("sync_entity_loaded", **{k: v for k, v in result.as_dict().items() if k != "warnings"})
            return result
        except ExtractError as exc:
            log.warning("sync_entity_not_loaded", entity=spec.name, reason=str(exc))
            return EntityResult(entity=spec.name, state="FAILED", error=str(exc))

    async def _save_progress(self, run_id: uuid.UUID, business_date: date, results: dict[str, Any]) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(counts=dict(results), business_date=business_date)
            )

    async def _finish(
        self,
        run_id: uuid.UUID,
        source: str,
        business_date: date | None,
        results: dict[str, Any],
        error: str | None,
    ) -> SyncRun:
        state = RunState.FAILED if error else RunState.SUCCEEDED
        async with self.db.transaction() as session:
            run = await session.get_one(SyncRun, run_id)
            run.state, run.finished_at, run.error = state.value, utcnow(), error
            run.counts, run.business_date = dict(results), business_date
            await self.outbox.add(
                session,
                SyncEvent(
                    type="SYNC_FAILED" if error else "SYNC_COMPLETED",
                    entity_type=run.entity_type or "ALL",
                    source_system=source,
                    run_id=str(run_id),
                ),
            )
        log.info("sync_run_finished", run_id=str(run_id), state=state.value, error=error)
        return run


async def _newest(connector: SourceConnector) -> date:
    dates = await connector.business_dates()
    if not dates:
        raise ExtractError(f"No extract has arrived for {connector.source_system}.")
    return dates[-1]


STARTING_GRACE_SECONDS = 5.0
"""A run claimed this recently may not hold its source's lock yet (claimed, then locked): not judged."""


async def fail_dead_runs(session: AsyncSession, *, grace_seconds: float = STARTING_GRACE_SECONDS) -> int:
    """RUNNING runs whose source lock is free belong to a process that died (``kill -9``, a lost
    node): mark them FAILED, in ``session``'s transaction. Whoever notices first does it: the worker
    every ``LIVENESS_INTERVAL_SECONDS``, and anyone queueing a run of that source."""
    failed = 0
    running = (
        await session.scalars(
            select(SyncRun)
            .where(SyncRun.state == RunState.RUNNING.value)
            .where(
                or_(
                    SyncRun.started_at.is_(None),
                    SyncRun.started_at < func.now() - timedelta(seconds=grace_seconds),
                )
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    for run in running:
        free = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _lock_key(run.source_system)}
        )
        if free:
            run.state, run.finished_at = RunState.FAILED.value, utcnow()
            run.error = "Interrupted (the process stopped); entities not yet committed were not loaded."
            failed += 1
            log.warning("sync_run_interrupted", run_id=str(run.id), source=run.source_system)
    return failed


async def fail_interrupted_runs(db: Database, *, grace_seconds: float = STARTING_GRACE_SECONDS) -> int:
    """``fail_dead_runs`` in a transaction of its own."""
    async with db.transaction() as session:
        return await fail_dead_runs(session, grace_seconds=grace_seconds)

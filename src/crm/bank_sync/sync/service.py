"""Sync runs: queueing them (one active run per source system) and reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.records.models import SyncEntityState
from crm.bank_sync.records.schemas import EntityType, SourceSystem
from crm.bank_sync.sync.entities import ENTITIES
from crm.bank_sync.sync.models import SyncReject, SyncRun
from crm.bank_sync.sync.runner import fail_dead_runs
from crm.bank_sync.sync.schemas import EntityStatus, RunState
from crm.platform.errors import BusinessRuleViolation, Conflict, NotFound
from crm.platform.problems import declare

DATE_IN_FUTURE = declare("sync.date_in_future", "The business date {businessDate} is in the future.")
RUN_BUSY = declare("sync.already_running", "A sync run is already queued or running for: {sources}.")
NO_RUN = declare("sync.run_not_found", "No sync run with id {id}.")

ONE_ACTIVE_RUN_INDEX = "ix_sync_run_source_system"


def _is_active_run_violation(exc: IntegrityError) -> bool:
    cause = getattr(exc.orig, "__cause__", None)
    sqlstate = getattr(cause, "sqlstate", None) or getattr(exc.orig, "sqlstate", None)
    constraint = getattr(cause, "constraint_name", None)
    return sqlstate == "23505" and constraint in (None, ONE_ACTIVE_RUN_INDEX)


async def queue_runs(
    session: AsyncSession,
    *,
    sources: Sequence[SourceSystem],
    entity_type: EntityType | None,
    business_date: date | None,
    today: date,
    requested_by: str,
) -> list[SyncRun]:
    """Queue one run per source system, all or none; 409 naming the sources that already have one.

    Each insert runs in a savepoint so that every busy source can be named; the unique partial
    index decides between concurrent requests, so exactly one of them can queue a source's run.
    """
    if business_date is not None and business_date > today:
        day = {"businessDate": business_date, "today": today}
        raise BusinessRuleViolation.of(
            DATE_IN_FUTURE, errors=[DATE_IN_FUTURE.field("businessDate", **day)], **day
        )
    await fail_dead_runs(session)  # a run whose process died holds its source no longer
    runs: list[SyncRun] = []
    busy: list[str] = []
    for source in sources:
        run = SyncRun(
            source_system=source.value,
            entity_type=entity_type.value if entity_type else None,
            business_date=business_date,
            state=RunState.QUEUED.value,
            counts={},
            requested_by=requested_by,
        )
        try:
            async with session.begin_nested():
                session.add(run)
                await session.flush()
        except IntegrityError as exc:
            if not _is_active_run_violation(exc):
                raise
            busy.append(source.value)
        else:
            runs.append(run)
    if busy:
        raise Conflict.of(RUN_BUSY, sources=", ".join(busy))
    return runs


async def get_run(session: AsyncSession, run_id: uuid.UUID) -> SyncRun:
    """One run by id, or 404."""
    run = await session.get(SyncRun, run_id)
    if run is None:
        raise NotFound.of(NO_RUN, id=run_id)
    return run


async def last_runs(session: AsyncSession) -> dict[str, SyncRun]:
    """The most recent run of each source system that has one, keyed by source system."""
    rows = await session.scalars(
        select(SyncRun)
        .ext(distinct_on(SyncRun.source_system))
        .order_by(SyncRun.source_system, SyncRun.created_at.desc(), SyncRun.id)
    )
    return {run.source_system: run for run in rows}


async def rejects(
    session: AsyncSession, run_id: uuid.UUID, *, entity_type: EntityType | None, offset: int, limit: int
) -> tuple[list[SyncReject], int]:
    """A run's rejected rows in file order; 404 for an unknown run."""
    await get_run(session, run_id)
    query = select(SyncReject).where(SyncReject.run_id == run_id)
    if entity_type is not None:
        query = query.where(SyncReject.entity_type == entity_type.value)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(SyncReject.entity_type, SyncReject.line_number).offset(offset).limit(limit)
    )
    return list(rows), total


async def entity_states(session: AsyncSession) -> dict[str, list[EntityStatus]]:
    """Per source: each entity's last snapshot and how many of its records it no longer had (stale)."""
    stale: dict[tuple[str, str], int] = {}
    for name, spec in ENTITIES.items():
        table = spec.table
        rows = await session.execute(
            select(table.c.source_system, func.count())
            .where(table.c.missing_since.is_not(None))
            .group_by(table.c.source_system)
        )
        for source, count in rows:
            stale[(source, name)] = count
    result: dict[str, list[EntityStatus]] = {}
    for state in await session.scalars(select(SyncEntityState).order_by(SyncEntityState.entity_type)):
        result.setdefault(state.source_system, []).append(
            EntityStatus(
                entity_type=EntityType(state.entity_type),
                last_snapshot_at=state.last_snapshot_at,
                business_date=state.business_date,
                run_id=state.run_id,
                stale_records=stale.get((state.source_system, state.entity_type), 0),
            )
        )
    return result

"""Sync runs: queueing them (one active run per source system) and reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.sync.models import SyncRun
from crm.bank_sync.sync.schemas import EntityType, RunState, SourceSystem
from crm.platform.errors import BusinessRuleViolation, Conflict, NotFound

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
        raise BusinessRuleViolation(
            f"The business date {business_date} is in the future.",
            errors=[{"field": "businessDate", "message": f"must not be after {today}"}],
        )
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
        raise Conflict(f"A sync run is already queued or running for: {', '.join(busy)}.")
    return runs


async def get_run(session: AsyncSession, run_id: uuid.UUID) -> SyncRun:
    """One run by id, or 404."""
    run = await session.get(SyncRun, run_id)
    if run is None:
        raise NotFound(f"No sync run with id {run_id}.")
    return run


async def last_runs(session: AsyncSession) -> dict[str, SyncRun]:
    """The most recent run of each source system that has one, keyed by source system."""
    rows = await session.scalars(
        select(SyncRun)
        .ext(distinct_on(SyncRun.source_system))
        .order_by(SyncRun.source_system, SyncRun.created_at.desc(), SyncRun.id)
    )
    return {run.source_system: run for run in rows}

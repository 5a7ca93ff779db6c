"""Routes: asking for a sync run and following it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Body, Path, Query

from crm.bank_sync.access import READ, WRITE
from crm.bank_sync.records.schemas import EntityType, SourceSystem
from crm.bank_sync.sync import service
from crm.bank_sync.sync.models import SyncRun
from crm.bank_sync.sync.schemas import (
    SourceStatus,
    SyncRejectRead,
    SyncRunCreate,
    SyncRunQueued,
    SyncRunRead,
    SyncStatus,
)
from crm.platform.auth import Caller, SecureRouter
from crm.platform.db import Session
from crm.platform.schemas import Page, Paging
from crm.platform.state import BusinessZone

router = SecureRouter(prefix="/api/sync", tags=["sync"])


@router.post(
    "/run",
    access=WRITE,
    status_code=202,
    response_model=SyncRunQueued | list[SyncRunQueued],
    responses={
        202: {
            "description": "Queued: `{runId, sourceSystem, state}` when `sourceSystem` is given, "
            "otherwise a JSON array with one such object per source system (T24, W4, OTHER)."
        },
        409: {"description": "a run for that source system (or one of them) is already queued or running"},
    },
)
async def request_run(
    tz: BusinessZone,
    session: Session,
    caller: Caller,
    body: Annotated[SyncRunCreate | None, Body()] = None,
) -> SyncRunQueued | list[SyncRunQueued]:
    """Queue a sync of a source's newest extract (every source when none named); it runs in the background."""
    body = body or SyncRunCreate()
    sources = [body.source_system] if body.source_system else list(SourceSystem)
    runs = await service.queue_runs(
        session,
        sources=sources,
        entity_type=body.entity_type,
        business_date=body.business_date,
        today=datetime.now(tz).date(),
        requested_by=caller.subject,
    )
    queued = [SyncRunQueued.model_validate(run) for run in runs]
    return queued[0] if body.source_system else queued


@router.get("/runs/{runId}", access=READ, response_model=SyncRunRead)
async def get_run(session: Session, run_id: Annotated[uuid.UUID, Path(alias="runId")]) -> SyncRun:
    """One sync run with its state and counts."""
    return await service.get_run(session, run_id)


@router.get("/runs/{runId}/rejects", access=READ, response_model=Page[SyncRejectRead])
async def get_rejects(
    session: Session,
    paging: Paging,
    run_id: Annotated[uuid.UUID, Path(alias="runId")],
    entity_type: Annotated[EntityType | None, Query(alias="entityType")] = None,
) -> Page[SyncRejectRead]:
    """The rows a run did not load: entity, line number, reason and the row as delivered."""
    rows, total = await service.rejects(
        session, run_id, entity_type=entity_type, offset=paging.offset, limit=paging.page_size
    )
    return Page[SyncRejectRead].of(rows, total, paging)


@router.get("/status", access=READ, response_model=SyncStatus)
async def sync_status(session: Session) -> SyncStatus:
    """Each source: its last run (with counts) and, per entity, the last snapshot and its stale records."""
    last = await service.last_runs(session)
    entities = await service.entity_states(session)
    return SyncStatus(
        sources=[
            SourceStatus(
                source_system=source,
                last_run=SyncRunRead.model_validate(last[source]) if source in last else None,
                entities=entities.get(source.value, []),
            )
            for source in SourceSystem
        ]
    )

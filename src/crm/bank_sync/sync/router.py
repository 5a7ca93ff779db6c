"""Routes: asking for a sync run and following it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Body, Path, Request

from crm.bank_sync.access import READ, WRITE
from crm.bank_sync.sync import service
from crm.bank_sync.sync.models import SyncRun
from crm.bank_sync.sync.schemas import (
    SourceStatus,
    SourceSystem,
    SyncRunCreate,
    SyncRunQueued,
    SyncRunRead,
    SyncStatus,
)
from crm.platform.auth import Caller, SecureRouter
from crm.platform.db import Session

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
    request: Request,
    session: Session,
    caller: Caller,
    body: Annotated[SyncRunCreate | None, Body()] = None,
) -> SyncRunQueued | list[SyncRunQueued]:
    """Queued for the sync worker (one run per source system when none is named); no worker runs it yet."""
    body = body or SyncRunCreate()
    sources = [body.source_system] if body.source_system else list(SourceSystem)
    runs = await service.queue_runs(
        session,
        sources=sources,
        entity_type=body.entity_type,
        business_date=body.business_date,
        today=datetime.now(request.app.state.settings.tz).date(),
        requested_by=caller.subject,
    )
    queued = [SyncRunQueued.model_validate(run) for run in runs]
    return queued[0] if body.source_system else queued


@router.get("/runs/{runId}", access=READ, response_model=SyncRunRead)
async def get_run(session: Session, run_id: Annotated[uuid.UUID, Path(alias="runId")]) -> SyncRun:
    """One sync run with its state and counts."""
    return await service.get_run(session, run_id)


@router.get("/status", access=READ, response_model=SyncStatus)
async def sync_status(session: Session) -> SyncStatus:
    """The last run of each source system (null when it has never run)."""
    last = await service.last_runs(session)
    return SyncStatus(
        sources=[
            SourceStatus(
                source_system=source,
                last_run=SyncRunRead.model_validate(last[source]) if source in last else None,
            )
            for source in SourceSystem
        ]
    )

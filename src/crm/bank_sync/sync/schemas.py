"""Sync runs: what a caller asks for and what it gets back; also the source systems every entity names."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from crm.platform.schemas import ApiModel, Day, Moment


class SourceSystem(StrEnum):
    """The core system a synchronized record came from."""

    T24 = "T24"
    W4 = "W4"
    OTHER = "OTHER"


class EntityType(StrEnum):
    """The Bank Sync entities, named like their extract files (docs/extracts.md) without ``.csv``."""

    CUSTOMERS = "customers"
    PHONES = "phones"
    ADDRESSES = "addresses"
    EMAILS = "emails"
    LOANS = "loans"
    COLLATERALS = "collaterals"
    LOAN_COLLATERALS = "loan_collaterals"
    DUE_SEGMENTATIONS = "due_segmentations"
    REFERENCE_CUSTOMERS = "reference_customers"


class RunState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


ACTIVE_STATES = (RunState.QUEUED, RunState.RUNNING)
"""At most one run per source system may be in one of these states (a partial unique index)."""


class SyncRunCreate(ApiModel):
    """``POST /api/sync/run``: every field optional; no source system means one run per source."""

    source_system: SourceSystem | None = None
    entity_type: EntityType | None = None
    business_date: Day | None = None


class SyncRunQueued(ApiModel):
    run_id: uuid.UUID
    source_system: SourceSystem
    state: RunState


class SyncRunRead(ApiModel):
    run_id: uuid.UUID
    source_system: SourceSystem
    entity_type: EntityType | None
    business_date: Day | None
    state: RunState
    counts: dict[str, Any]
    error: str | None
    requested_by: str
    created_at: Moment
    started_at: Moment | None
    finished_at: Moment | None


class EntityStatus(ApiModel):
    entity_type: EntityType
    last_snapshot_at: Moment
    business_date: Day | None
    run_id: uuid.UUID | None
    stale_records: int


class SourceStatus(ApiModel):
    source_system: SourceSystem
    last_run: SyncRunRead | None
    entities: list[EntityStatus] = []


class SyncRejectRead(ApiModel):
    entity_type: EntityType
    line_number: int | None
    reason: str
    row: dict[str, Any] | None


class SyncStatus(ApiModel):
    sources: list[SourceStatus]

"""The source systems and entity types every record names, and the fields every record read answers."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from crm.platform.schemas import ApiModel, Moment


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


class SynchronizedRead(ApiModel):
    """The SynchronizedEntity fields of every record that comes from a core system.

    ``lastSyncedAt`` is the last snapshot that saw the record (an unchanged row is not rewritten,
    so it is the later of the row's own time and its entity's last snapshot); ``stale`` is true
    when the latest snapshot of its source no longer had it.
    """

    id: uuid.UUID
    source_system: SourceSystem
    created_by: str
    updated_by: str
    created_at: Moment
    updated_at: Moment
    is_editable: bool
    last_synced_at: Moment | None
    stale: bool = False


MAX_LOOKUP_KEYS = 1000
"""Most keys one lookup (``POST /api/customers/lookup``, ``POST /api/loans/lookup``) may name."""

LookupKey = Annotated[str, Field(min_length=1, max_length=64)]

"""The columns every synchronized record has, and the last snapshot of each entity that dates them."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.bank_sync.models import Base
from crm.platform.db import TimestampMixin


class SynchronizedMixin(TimestampMixin):
    """The SynchronizedEntity fields of docs/data-model.md (besides the natural key)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    source_system: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    is_editable: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    last_synced_at: Mapped[datetime | None]
    missing_since: Mapped[datetime | None] = mapped_column(
        comment="set when a full snapshot of its source no longer has the record (stale)"
    )
    sync_hash: Mapped[uuid.UUID | None] = mapped_column(
        comment="fingerprint of the source row last loaded; NULL once the CRM changed the record itself"
    )


class SyncEntityState(Base):
    """The last full snapshot of an entity loaded from a source: drives lastSyncedAt and staleness."""

    __tablename__ = "sync_entity_state"

    source_system: Mapped[str] = mapped_column(Text, primary_key=True)
    entity_type: Mapped[str] = mapped_column(Text, primary_key=True)
    last_snapshot_at: Mapped[datetime]
    business_date: Mapped[date | None]
    run_id: Mapped[uuid.UUID | None]

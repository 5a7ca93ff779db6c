"""A sync run: one request to load a source system's extract, and what became of it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.bank_sync.models import Base
from crm.platform.db import utcnow


class SyncRun(Base):
    __tablename__ = "sync_run"
    __audit__ = True
    __audit_key__ = "id"
    __table_args__ = (
        CheckConstraint("state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')", name="state_known"),
        # The database, not the application, guarantees one QUEUED-or-RUNNING run per source system.
        Index(
            "ix_sync_run_source_system",
            "source_system",
            unique=True,
            postgresql_where=text("state IN ('QUEUED', 'RUNNING')"),
        ),
        Index("ix_sync_run_source_system_created_at", "source_system", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    source_system: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str | None] = mapped_column(Text)
    business_date: Mapped[date | None]
    state: Mapped[str] = mapped_column(Text, default="QUEUED", server_default=text("'QUEUED'"))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def run_id(self) -> uuid.UUID:
        return self.id


class SyncReject(Base):
    """A row a run did not load: why, where in the file, and the row as it was delivered."""

    __tablename__ = "sync_reject"
    __table_args__ = (
        Index("ix_sync_reject_run_id_entity_type_line_number", "run_id", "entity_type", "line_number"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(SyncRun.id, ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(Text)
    line_number: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    row: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

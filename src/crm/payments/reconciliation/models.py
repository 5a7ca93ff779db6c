"""A business date's reconciliation report (one per date, replaced by each run) and its discrepancies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.payments.models import Base
from crm.platform.db import TimestampMixin

KINDS = ("MISSING_IN_CRM", "MISSING_IN_CORE", "AMOUNT_MISMATCH", "STATUS_MISMATCH")
RESOLUTIONS = ("IMPORTED", "FLAGGED")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ReconciliationReport(TimestampMixin, Base):
    """``created_at`` is the date's first run, ``updated_at`` its latest; ``runs`` counts them."""

    __tablename__ = "reconciliation_report"
    __audit__ = True  # who ran the reconciliation of a date, and what it found
    __audit_key__ = "business_date"
    __audit_exclude__ = ("rejects",)  # the rows of the core's file: kept on the report, not copied

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    business_date: Mapped[date] = mapped_column(unique=True)
    sources: Mapped[list[str]] = mapped_column(
        ARRAY(Text), comment="the core systems whose file was compared"
    )
    core_rows: Mapped[int] = mapped_column(comment="valid core rows dated on the business date")
    crm_rows: Mapped[int] = mapped_column(comment="CRM payments dated on the business date")
    matched: Mapped[int]
    missing_in_crm: Mapped[int]
    missing_in_core: Mapped[int]
    amount_mismatch: Mapped[int]
    status_mismatch: Mapped[int]
    rejected: Mapped[int] = mapped_column(comment="core rows that could not be read or validated")
    rejects: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    runs: Mapped[int]
    run_by: Mapped[str] = mapped_column(Text)


class ReconciliationDiscrepancy(Base):
    """One difference, with both sides as they were found (JSON snapshots, money as decimal strings)."""

    __tablename__ = "reconciliation_discrepancy"
    __table_args__ = (
        UniqueConstraint("report_id", "position"),
        CheckConstraint(_one_of("kind", KINDS), name="kind"),
        CheckConstraint(_one_of("resolution", RESOLUTIONS), name="resolution"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reconciliation_report.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(Text)
    reference_number: Mapped[str] = mapped_column(Text)
    core: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    crm: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    resolution: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)

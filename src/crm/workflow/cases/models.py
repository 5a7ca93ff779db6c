"""One case status update of a customer; the customer's case status is the latest value of each field."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.db import utcnow
from crm.workflow.models import Base

STATUS_FIELDS = (
    "customer_status",
    "collateral_status",
    "processing_state_status",
    "lending_violation_status",
    "recovery_ability_status",
)


class CustomerCaseAction(Base):
    __tablename__ = "customer_case_action"
    __audit__ = True
    __audit_key__ = "id"
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(notes, customer_status, collateral_status, processing_state_status, "
            "lending_violation_status, recovery_ability_status) > 0",
            name="has_content",
        ),
        Index("ix_customer_case_action_cif_action_date", "cif", "action_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    cif: Mapped[str] = mapped_column(Text)
    action_date: Mapped[datetime]
    notes: Mapped[str | None] = mapped_column(Text)
    customer_status: Mapped[str | None] = mapped_column(Text)
    collateral_status: Mapped[str | None] = mapped_column(Text)
    processing_state_status: Mapped[str | None] = mapped_column(Text)
    lending_violation_status: Mapped[str | None] = mapped_column(Text)
    recovery_ability_status: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

"""One thing an agent did about a customer: a call, a visit, a letter, and what came of it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.db import TimestampMixin
from crm.workflow.models import Base

PROMISE_STATUSES = ("OPEN", "KEPT", "BROKEN")


class ActionRecord(TimestampMixin, Base):
    __tablename__ = "action_record"
    __audit__ = True
    __audit_key__ = "id"
    __table_args__ = (
        CheckConstraint("promise_status IN ('OPEN', 'KEPT', 'BROKEN')", name="promise_status_known"),
        CheckConstraint("(promise_amount IS NULL) = (promise_date IS NULL)", name="promise_amount_and_date"),
        CheckConstraint("promise_amount IS NULL OR promise_amount > 0", name="promise_amount_positive"),
        CheckConstraint("(promise_status IS NULL) = (promise_amount IS NULL)", name="promise_has_status"),
        Index("ix_action_record_cif_action_date", "cif", text("action_date DESC")),
        Index(
            "ix_action_record_loan_action_date",
            "loan_account_number",
            text("action_date DESC"),
            postgresql_where=text("loan_account_number IS NOT NULL"),
        ),
        Index("ix_action_record_agent_action_date", "agent_id", text("action_date DESC")),
        Index(
            "ix_action_record_open_promise_date",
            "promise_date",
            postgresql_where=text("promise_status = 'OPEN'"),
        ),
        Index("ix_action_record_open_promise_cif", "cif", postgresql_where=text("promise_status = 'OPEN'")),
        Index(
            "uq_action_record_idempotency",
            "created_by",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        Index(
            "ix_action_record_agent_settled",
            "agent_id",
            "promise_settled_at",
            postgresql_where=text("promise_settled_at IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    cif: Mapped[str] = mapped_column(Text)
    loan_account_number: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow.agent.id"))
    type: Mapped[str] = mapped_column(Text)
    subtype: Mapped[str | None] = mapped_column(Text)
    action_result: Mapped[str] = mapped_column(Text)
    action_date: Mapped[datetime]
    notes: Mapped[str | None] = mapped_column(Text)
    promise_amount: Mapped[Decimal | None]
    promise_date: Mapped[date | None]
    promise_status: Mapped[str | None] = mapped_column(Text)
    promise_settled_at: Mapped[datetime | None]
    """When the promise became KEPT or BROKEN."""
    follow_up_date: Mapped[date | None]
    dpd_at_action: Mapped[int | None]
    due_amount_at_action: Mapped[Decimal | None]
    call_trace_id: Mapped[str | None] = mapped_column(Text)
    visit_latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    visit_longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    visit_address: Mapped[str | None] = mapped_column(Text)
    rules_overridden_by: Mapped[str | None] = mapped_column(Text)
    """The SUPERVISOR who let it through the contact rules (hours, attempts per day), if one did."""
    created_by: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    """The ``Idempotency-Key`` it was recorded with: the same caller's same key answers this action again."""
    updated_by: Mapped[str] = mapped_column(Text)

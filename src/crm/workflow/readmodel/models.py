"""Workflow's own copy of what it needs from bank-sync and payments, kept current by their events.

Workload, queues and performance read these tables instead of asking bank-sync once per customer:
``CustomerView`` / ``LoanView`` follow SyncEvents (the changed keys are fetched from bank-sync's
API in batches) and PaymentEvents (a received payment lowers the balances at once);
``PaymentView`` is every payment of a customer workflow has heard of, for promises and for the
amount collected while a customer was assigned to an agent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.db import utcnow
from crm.workflow.models import Base


class CustomerView(Base):
    __tablename__ = "customer_view"

    cif: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    segment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=text("now()")
    )


class LoanView(Base):
    __tablename__ = "loan_view"
    __table_args__ = (Index("ix_loan_view_cif", "cif"),)

    account_number: Mapped[str] = mapped_column(Text, primary_key=True)
    cif: Mapped[str] = mapped_column(Text)
    product_type: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    outstanding: Mapped[Decimal]
    due_amount: Mapped[Decimal]
    dpd: Mapped[int]
    status: Mapped[str] = mapped_column(Text)
    synced_at: Mapped[datetime | None]
    """When bank-sync's sync run read this snapshot from the core (its ``lastSyncedAt``): a payment
    made before that business day is already in the balances (``business_time.snapshot_includes``)."""
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=text("now()")
    )


class PaymentView(Base):
    __tablename__ = "payment_view"
    __table_args__ = (
        Index("ix_payment_view_cif_payment_date", "cif", "payment_date"),
        Index("ix_payment_view_loan_payment_date", "loan_account_number", "payment_date"),
    )

    reference_number: Mapped[str] = mapped_column(Text, primary_key=True)
    cif: Mapped[str] = mapped_column(Text)
    loan_account_number: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(Text)
    payment_date: Mapped[datetime]
    status: Mapped[str] = mapped_column(Text)
    """RECEIVED, or REVERSED once a reversal arrived (a reversed payment counts for nothing)."""
    applied_outstanding: Mapped[Decimal | None]
    """What the payment took off its loan's outstanding in ``loan_view`` (a reversal puts back this)."""
    applied_due: Mapped[Decimal | None]
    """What it took off the loan's due amount."""
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=text("now()")
    )

"""A loan (or card, or overdraft), unique by account number, and the payments applied to its balance."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.bank_sync.models import Base
from crm.bank_sync.records.models import SynchronizedMixin
from crm.platform.db import utcnow


class Loan(SynchronizedMixin, Base):
    __tablename__ = "loan"
    __audit__ = True
    __audit_key__ = "account_number"
    __table_args__ = (
        CheckConstraint("dpd >= 0", name="dpd_non_negative"),
        Index("ix_loan_cif", "cif"),
        Index("ix_loan_delinquent_dpd", "dpd", postgresql_where=text("status = 'OPEN' AND dpd > 0")),
        Index("ix_loan_product_type_dpd", "product_type", "dpd"),
        Index("ix_loan_delinquency_status_dpd", "delinquency_status", "dpd"),
    )

    account_number: Mapped[str] = mapped_column(Text, unique=True)
    cif: Mapped[str] = mapped_column(Text)
    product_type: Mapped[str] = mapped_column(Text)
    original_amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="VND", server_default=text("'VND'"))
    disbursement_date: Mapped[date]
    maturity_date: Mapped[date]
    interest_rate: Mapped[Decimal] = mapped_column(Numeric(8, 4), comment="percent per year")
    term: Mapped[int] = mapped_column(comment="months")
    payment_frequency: Mapped[str] = mapped_column(Text)
    limit_amount: Mapped[Decimal | None]
    outstanding: Mapped[Decimal]
    remaining_amount: Mapped[Decimal] = mapped_column(comment="outstanding - due_amount")
    due_amount: Mapped[Decimal]
    min_pay: Mapped[Decimal | None]
    next_payment_date: Mapped[date | None]
    dpd: Mapped[int] = mapped_column(comment="days past due")
    delinquency_status: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    close_date: Mapped[date | None]
    resolution_code: Mapped[str | None] = mapped_column(Text)
    resolution_notes: Mapped[str | None] = mapped_column(Text)


class LoanPaymentApplied(Base):
    """What one payment took off a loan's balance: applied at most once, reversed at most once.

    ``amount`` and ``paid_at`` (NULL on rows applied before they were kept) let a load take the
    payments made since its snapshot's cut off the fresh balances again."""

    __tablename__ = "loan_payment_applied"
    __table_args__ = (
        Index("ix_loan_payment_applied_paid_at", "paid_at", postgresql_where=text("reversed_at IS NULL")),
    )

    payment_reference_number: Mapped[str] = mapped_column(Text, primary_key=True)
    loan_account_number: Mapped[str] = mapped_column(Text, ForeignKey(Loan.account_number))
    applied_outstanding: Mapped[Decimal]
    applied_due: Mapped[Decimal]
    amount: Mapped[Decimal | None]
    paid_at: Mapped[datetime | None]
    applied_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    reversed_at: Mapped[datetime | None]

"""Collaterals securing loans, the loan-collateral links, and the instalments due on each loan."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Index, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.bank_sync.models import Base
from crm.bank_sync.records.models import SynchronizedMixin


class Collateral(SynchronizedMixin, Base):
    __tablename__ = "collateral"
    __table_args__ = (Index("ix_collateral_cif", "cif"),)

    collateral_number: Mapped[str] = mapped_column(Text, unique=True)
    cif: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    value: Mapped[Decimal]
    valuation_date: Mapped[date | None]
    make: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None]
    vin: Mapped[str | None] = mapped_column(Text)
    license_plate: Mapped[str | None] = mapped_column(Text)
    property_type: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    size: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), comment="square metres")
    title_number: Mapped[str | None] = mapped_column(Text)


class LoanCollateral(SynchronizedMixin, Base):
    __tablename__ = "loan_collateral"
    __table_args__ = (
        UniqueConstraint("loan_account_number", "collateral_number"),
        Index("ix_loan_collateral_collateral_number", "collateral_number"),
    )

    loan_account_number: Mapped[str] = mapped_column(Text)
    collateral_number: Mapped[str] = mapped_column(Text)


class DueSegmentation(SynchronizedMixin, Base):
    """What is due on a loan on one date, split into principal, interest, fees and penalty."""

    __tablename__ = "due_segmentation"
    __table_args__ = (UniqueConstraint("loan_account_number", "due_date"),)

    loan_account_number: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date]
    principal_amount: Mapped[Decimal]
    interest_amount: Mapped[Decimal]
    fees_amount: Mapped[Decimal]
    penalty_amount: Mapped[Decimal]

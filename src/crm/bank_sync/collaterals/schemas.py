"""What the collateral routes answer: collaterals and the instalments due on a loan."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, PlainSerializer

from crm.bank_sync.records.schemas import SynchronizedRead
from crm.platform.schemas import Day, Money

Area = Annotated[
    Decimal,
    Field(max_digits=12, decimal_places=2),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
]
"""A size in square metres, a decimal string such as ``"120.50"``."""


class CollateralType(StrEnum):
    REAL_ESTATE = "REAL_ESTATE"
    VEHICLE = "VEHICLE"
    DEPOSIT = "DEPOSIT"
    EQUIPMENT = "EQUIPMENT"
    OTHER = "OTHER"


class CollateralRead(SynchronizedRead):
    collateral_number: str
    cif: str
    type: CollateralType
    description: str
    value: Money
    valuation_date: Day | None
    make: str | None
    model: str | None
    year: int | None
    vin: str | None
    license_plate: str | None
    property_type: str | None
    address: str | None
    size: Area | None
    title_number: str | None


class DueSegmentationRead(SynchronizedRead):
    """What is due on a loan on one date, split into principal, interest, fees and penalty."""

    loan_account_number: str
    due_date: Day
    principal_amount: Money
    interest_amount: Money
    fees_amount: Money
    penalty_amount: Money

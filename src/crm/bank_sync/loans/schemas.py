"""What the loan routes answer: a loan with its DPD bucket, and the full view with collaterals and dues."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, PlainSerializer, computed_field

from crm.bank_sync.collaterals.schemas import CollateralRead, DueSegmentationRead
from crm.bank_sync.records.schemas import MAX_LOOKUP_KEYS, LookupKey, SynchronizedRead
from crm.platform.buckets import DpdBucket
from crm.platform.schemas import ApiModel, Day, Money

Rate = Annotated[
    Decimal,
    Field(max_digits=8, decimal_places=4),
    PlainSerializer(lambda d: f"{d:.4f}", return_type=str, when_used="json"),
]
"""An interest rate in percent per year, a decimal string such as ``"12.5000"``."""


class ProductType(StrEnum):
    MORTGAGE = "MORTGAGE"
    AUTO = "AUTO"
    SECURED_PERSONAL = "SECURED_PERSONAL"
    PERSONAL = "PERSONAL"
    EDUCATION = "EDUCATION"
    BUSINESS = "BUSINESS"
    CREDIT_CARD = "CREDIT_CARD"
    OVERDRAFT = "OVERDRAFT"
    LINE_OF_CREDIT = "LINE_OF_CREDIT"
    REFINANCE = "REFINANCE"
    CONSOLIDATION = "CONSOLIDATION"
    OTHER = "OTHER"


class DelinquencyStatus(StrEnum):
    CURRENT = "CURRENT"
    DELINQUENT = "DELINQUENT"
    DEFAULT = "DEFAULT"


class LoanStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class LoanRead(SynchronizedRead):
    account_number: str
    cif: str
    product_type: ProductType
    original_amount: Money
    currency: str
    disbursement_date: Day
    maturity_date: Day
    interest_rate: Rate
    term: int
    payment_frequency: str
    limit_amount: Money | None
    outstanding: Money
    remaining_amount: Money
    due_amount: Money
    min_pay: Money | None
    next_payment_date: Day | None
    dpd: int
    delinquency_status: DelinquencyStatus
    status: LoanStatus
    close_date: Day | None
    resolution_code: str | None
    resolution_notes: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def bucket(self) -> DpdBucket:
        """The DPD bucket of ``dpd``."""
        return DpdBucket.of(self.dpd)


class LoanFullRead(LoanRead):
    """LoanFullView: the loan with the collaterals securing it and its due segmentation by due date."""

    collaterals: list[CollateralRead] = []
    due_segmentations: list[DueSegmentationRead] = []


class LoanLookup(ApiModel):
    """``POST /api/loans/lookup``: the account numbers to read (1 to 1,000)."""

    account_numbers: list[LookupKey] = Field(min_length=1, max_length=MAX_LOOKUP_KEYS)


class LoanLookupResult(ApiModel):
    """The loans found among the account numbers asked for (unknown ones are absent), by account number."""

    items: list[LoanRead]

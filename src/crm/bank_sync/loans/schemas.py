from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, PlainSerializer

from crm.bank_sync.sync.schemas import SourceSystem
from crm.platform.schemas import ApiModel, Money

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


class LoanRead(ApiModel):
    id: uuid.UUID
    account_number: str
    cif: str
    product_type: ProductType
    original_amount: Money
    currency: str
    disbursement_date: date
    maturity_date: date
    interest_rate: Rate
    term: int
    payment_frequency: str
    limit_amount: Money | None
    outstanding: Money
    remaining_amount: Money
    due_amount: Money
    min_pay: Money | None
    next_payment_date: date | None
    dpd: int
    delinquency_status: DelinquencyStatus
    status: LoanStatus
    close_date: date | None
    resolution_code: str | None
    resolution_notes: str | None
    source_system: SourceSystem
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    is_editable: bool
    last_synced_at: datetime | None

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import Field

from crm.platform.schemas import ApiModel, AwareMoment, Moment, Money, PositiveMoney


class PaymentChannel(StrEnum):
    BANK_TRANSFER = "BANK_TRANSFER"
    CASH = "CASH"
    CARD = "CARD"
    ONLINE = "ONLINE"
    AUTO_DEBIT = "AUTO_DEBIT"
    MOBILE_APP = "MOBILE_APP"
    OTHER = "OTHER"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REVERSED = "REVERSED"


class PaymentSource(StrEnum):
    T24 = "T24"
    W4 = "W4"
    OTHER = "OTHER"
    CRM = "CRM"


class PaymentCreate(ApiModel):
    reference_number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/:-]+$")
    loan_account_number: str = Field(min_length=1, max_length=64)
    cif: str = Field(min_length=1, max_length=64)
    amount: PositiveMoney
    currency: str = Field(default="VND", pattern=r"^[A-Z]{3}$")
    payment_date: AwareMoment
    payment_channel: PaymentChannel
    status: PaymentStatus = PaymentStatus.COMPLETED
    status_reason: str | None = Field(default=None, max_length=500)
    source_system: PaymentSource = PaymentSource.CRM


class PaymentRead(ApiModel):
    id: uuid.UUID
    reference_number: str
    loan_account_number: str
    cif: str
    amount: Money
    currency: str
    payment_date: Moment
    payment_channel: PaymentChannel
    status: PaymentStatus
    status_reason: str | None
    source_system: PaymentSource
    created_by: str
    updated_by: str
    created_at: Moment
    updated_at: Moment
    is_editable: bool
    last_synced_at: Moment | None

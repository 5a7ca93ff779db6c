"""The reconciliation API's shapes: the request, the stored report and its discrepancies."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from crm.payments.ledger.schemas import PaymentChannel, PaymentSource, PaymentStatus
from crm.platform.schemas import ApiModel, Day, Moment, Money


class DiscrepancyKind(StrEnum):
    MISSING_IN_CRM = "MISSING_IN_CRM"
    MISSING_IN_CORE = "MISSING_IN_CORE"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    STATUS_MISMATCH = "STATUS_MISMATCH"


class Resolution(StrEnum):
    IMPORTED = "IMPORTED"
    FLAGGED = "FLAGGED"


class ReconciliationRequest(ApiModel):
    business_date: Day = Field(alias="date", description="The business date (business time zone)")


class PaymentSide(ApiModel):
    """A payment as one side saw it. ``lineNumber``: its row in the core's file (core side only)."""

    source_system: PaymentSource
    reference_number: str
    loan_account_number: str
    cif: str
    amount: Money
    currency: str
    payment_date: Moment
    payment_channel: PaymentChannel
    status: PaymentStatus
    status_reason: str | None = None
    line_number: int | None = None


class DiscrepancyRead(ApiModel):
    kind: DiscrepancyKind
    reference_number: str
    resolution: Resolution
    resolved_at: Moment
    note: str
    core: PaymentSide | None
    crm: PaymentSide | None


class RejectedRow(ApiModel):
    """A row of the core's file that could not be compared."""

    source_system: str
    line_number: int
    reference_number: str | None = None
    reason: str


class DiscrepancyCounts(ApiModel):
    missing_in_crm: int = Field(alias="MISSING_IN_CRM")
    missing_in_core: int = Field(alias="MISSING_IN_CORE")
    amount_mismatch: int = Field(alias="AMOUNT_MISMATCH")
    status_mismatch: int = Field(alias="STATUS_MISMATCH")


class ReconciliationReportRead(ApiModel):
    business_date: Day
    sources: list[str]
    core_rows: int
    crm_rows: int
    matched: int
    counts: DiscrepancyCounts
    rejected: int
    rejects: list[RejectedRow]
    discrepancies: list[DiscrepancyRead]
    runs: int
    run_by: str
    first_run_at: Moment
    last_run_at: Moment

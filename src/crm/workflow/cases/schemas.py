"""Case status updates. The status vocabularies are the defaults of data-model.md (editable later)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, Field, field_validator, model_validator

from crm.platform.schemas import ApiModel

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of our clock a client's ``actionDate`` may be."""


class CustomerStatus(StrEnum):
    COOPERATIVE = "COOPERATIVE"
    PARTIALLY_COOPERATIVE = "PARTIALLY_COOPERATIVE"
    UNCOOPERATIVE = "UNCOOPERATIVE"
    UNREACHABLE = "UNREACHABLE"
    DISPUTED = "DISPUTED"
    BANKRUPT = "BANKRUPT"
    DECEASED = "DECEASED"
    LEGAL_REPRESENTATION = "LEGAL_REPRESENTATION"
    UNKNOWN = "UNKNOWN"


class CollateralStatus(StrEnum):
    SECURED = "SECURED"
    PARTIALLY_SECURED = "PARTIALLY_SECURED"
    AT_RISK = "AT_RISK"
    DAMAGED = "DAMAGED"
    MISSING = "MISSING"
    SEIZED = "SEIZED"
    IN_LIQUIDATION = "IN_LIQUIDATION"
    LIQUIDATED = "LIQUIDATED"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    UNKNOWN = "UNKNOWN"


class ProcessingStateStatus(StrEnum):
    NEW = "NEW"
    IN_PROGRESS = "IN_PROGRESS"
    PENDING_CUSTOMER = "PENDING_CUSTOMER"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    PENDING_LEGAL = "PENDING_LEGAL"
    ON_HOLD = "ON_HOLD"
    ESCALATED = "ESCALATED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"


class LendingViolationStatus(StrEnum):
    NONE = "NONE"
    PAYMENT_DELAY = "PAYMENT_DELAY"
    COVENANT_BREACH = "COVENANT_BREACH"
    COLLATERAL_ISSUE = "COLLATERAL_ISSUE"
    FINANCIAL_REPORTING = "FINANCIAL_REPORTING"
    MULTIPLE = "MULTIPLE"
    SEVERE = "SEVERE"
    UNDER_INVESTIGATION = "UNDER_INVESTIGATION"
    RESOLVED = "RESOLVED"
    UNKNOWN = "UNKNOWN"


class RecoveryAbilityStatus(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    VERY_LOW = "VERY_LOW"
    REQUIRES_RESTRUCTURING = "REQUIRES_RESTRUCTURING"
    REQUIRES_LEGAL = "REQUIRES_LEGAL"
    WRITE_OFF_RECOMMENDED = "WRITE_OFF_RECOMMENDED"
    UNKNOWN = "UNKNOWN"


class CaseStatus(ApiModel):
    """The five case status fields; in ``current`` each is the latest value ever set (or null)."""

    customer_status: CustomerStatus | None = None
    collateral_status: CollateralStatus | None = None
    processing_state_status: ProcessingStateStatus | None = None
    lending_violation_status: LendingViolationStatus | None = None
    recovery_ability_status: RecoveryAbilityStatus | None = None


class CaseActionCreate(CaseStatus):
    cif: str = Field(min_length=1, max_length=64)
    action_date: AwareDatetime | None = Field(
        default=None, description="When the update happened; now when left out. Not in the future."
    )
    notes: str | None = Field(default=None, min_length=1, max_length=4000)

    @field_validator("action_date")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("must not be in the future")
        return value

    @model_validator(mode="after")
    def _has_content(self) -> CaseActionCreate:
        if self.notes is None and not self.status_values():
            raise ValueError("give at least one status field or notes")
        return self

    def status_values(self) -> dict[str, str]:
        """The status fields this update sets, by column name."""
        return {
            name: value.value
            for name in CaseStatus.model_fields
            if (value := getattr(self, name)) is not None
        }


class CaseActionRead(CaseStatus):
    id: uuid.UUID
    cif: str
    action_date: datetime
    notes: str | None
    created_by: str
    created_at: datetime


class CustomerCase(ApiModel):
    """A customer's case: the current status and the status updates, newest first (paged)."""

    cif: str
    current: CaseStatus
    history: list[CaseActionRead]
    page: int
    page_size: int
    total: int

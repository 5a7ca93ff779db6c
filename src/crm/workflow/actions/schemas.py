"""Actions as the API takes and shows them (camelCase, money as decimal strings)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field, field_validator

from crm.platform.schemas import ApiModel, Money
from crm.workflow.actions.rules import FUTURE_TOLERANCE

Code = Annotated[str, Field(min_length=1, max_length=64)]
Latitude = Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)]
Longitude = Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6)]
PromiseAmount = Annotated[Money, Field(gt=0)]


class ResultUpdate(ApiModel):
    """A new result for a recorded action (and the promise, when the result is one)."""

    action_result: Code
    notes: str | None = Field(default=None, max_length=4000)
    promise_amount: PromiseAmount | None = None
    promise_date: date | None = None


class ActionCreate(ApiModel):
    cif: str = Field(min_length=1, max_length=64)
    loan_account_number: str | None = Field(default=None, min_length=1, max_length=64)
    agent_id: uuid.UUID
    type: Code
    subtype: Code | None = None
    action_result: Code
    action_date: AwareDatetime | None = Field(
        default=None, description="When it happened; now when left out. Not in the future."
    )
    notes: str | None = Field(default=None, max_length=4000)
    promise_amount: PromiseAmount | None = None
    promise_date: date | None = None
    call_trace_id: str | None = Field(default=None, min_length=1, max_length=200)
    visit_latitude: Latitude | None = None
    visit_longitude: Longitude | None = None
    visit_address: str | None = Field(default=None, min_length=1, max_length=500)
    override_contact_rules: bool = Field(
        default=False,
        description="SUPERVISOR or ADMIN only: record it although it breaks the contact hours or the "
        "daily call attempts.",
    )

    @field_validator("action_date")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError("must not be in the future")
        return value


class ActionRead(ApiModel):
    id: uuid.UUID
    cif: str
    loan_account_number: str | None
    agent_id: uuid.UUID
    type: str
    subtype: str | None
    action_result: str
    action_date: datetime
    notes: str | None
    promise_amount: Money | None
    promise_date: date | None
    promise_status: str | None
    promise_settled_at: datetime | None
    follow_up_date: date | None
    dpd_at_action: int | None
    due_amount_at_action: Money | None
    call_trace_id: str | None
    visit_latitude: Decimal | None
    visit_longitude: Decimal | None
    visit_address: str | None
    rules_overridden_by: str | None
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime

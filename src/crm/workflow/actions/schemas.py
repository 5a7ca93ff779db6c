"""Actions as the API takes and shows them (camelCase, money as decimal strings)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from crm.platform.problems import declare
from crm.platform.schemas import ApiModel, AwareMoment, Day, Moment, Money, PositiveMoney
from crm.workflow.actions.rules import FUTURE_TOLERANCE

IN_FUTURE = declare("action.in_future", "must not be in the future")
DEGREES = declare("coordinate.format", "degrees, such as 10.776889")

Code = Annotated[str, Field(min_length=1, max_length=64)]


def _to_six_decimals(value: object) -> object:
    """Degrees, as a number or a decimal string, kept to six decimals (about 0.1 m): a phone's GPS
    sends more digits than it measures."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    try:
        return Decimal(str(value)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
    except (InvalidOperation, ValueError):
        raise DEGREES.invalid() from None


def _degrees(limit: int, whole: str) -> WithJsonSchema:
    """The schema of degrees up to ``limit``: a number, or a string whose pattern keeps the range."""
    text = rf"^-?(({whole})(\.[0-9]+)?|{limit}(\.0+)?)$"
    number = {"type": "number", "minimum": -limit, "maximum": limit}
    return WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": text}]}, mode="validation")


Latitude = Annotated[
    Decimal, BeforeValidator(_to_six_decimals), Field(ge=-90, le=90), _degrees(90, "[0-9]|[1-8][0-9]")
]
Longitude = Annotated[
    Decimal,
    BeforeValidator(_to_six_decimals),
    Field(ge=-180, le=180),
    _degrees(180, "[0-9]|[1-9][0-9]|1[0-7][0-9]"),
]
PromiseAmount = PositiveMoney


class ResultUpdate(ApiModel):
    """A new result for a recorded action (and the promise, when the result is one)."""

    action_result: Code
    notes: str | None = Field(default=None, max_length=4000)
    promise_amount: PromiseAmount | None = None
    promise_date: Day | None = None


class ActionCreate(ApiModel):
    cif: str = Field(min_length=1, max_length=64)
    loan_account_number: str | None = Field(default=None, min_length=1, max_length=64)
    agent_id: uuid.UUID
    type: Code
    subtype: Code | None = None
    action_result: Code
    action_date: AwareMoment | None = Field(
        default=None, description="When it happened; now when left out. Not in the future."
    )
    notes: str | None = Field(default=None, max_length=4000)
    promise_amount: PromiseAmount | None = None
    promise_date: Day | None = None
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
    def _not_in_future(cls, value: Moment | None) -> Moment | None:
        if value is not None and value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise IN_FUTURE.invalid()
        return value


class ActionRead(ApiModel):
    id: uuid.UUID
    cif: str
    loan_account_number: str | None
    agent_id: uuid.UUID
    type: str
    subtype: str | None
    action_result: str
    action_date: Moment
    notes: str | None
    promise_amount: Money | None
    promise_date: Day | None
    promise_status: str | None
    promise_settled_at: Moment | None
    follow_up_date: Day | None
    dpd_at_action: int | None
    due_amount_at_action: Money | None
    call_trace_id: str | None
    visit_latitude: Decimal | None
    visit_longitude: Decimal | None
    visit_address: str | None
    rules_overridden_by: str | None
    created_by: str
    updated_by: str
    created_at: Moment
    updated_at: Moment

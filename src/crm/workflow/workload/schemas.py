"""What an agent's workload, performance and call queue look like in the API."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import Field

from crm.platform.schemas import ApiModel, Day, Moment, Money


class CurrencyTotal(ApiModel):
    """Sums over the loans of one currency (amounts in different currencies are never added up)."""

    currency: str
    outstanding: Money
    due: Money


class Workload(ApiModel):
    agent_id: uuid.UUID
    business_date: Day
    """"Today" in the business time zone, the day the counts below are about."""
    assigned_customers: int
    """Customers whose current assignment names the agent as call or field agent."""
    totals: list[CurrencyTotal]
    """Outstanding and due of those customers' loans, one entry per currency, by currency."""
    actions_today: int
    """Actions the agent recorded today (business day), on any customer."""
    open_promises: int
    """OPEN promises on the agent's current customers, whoever recorded them."""
    promises_due_today: int
    """Of those, the ones whose promise date is today."""


class CurrencyAmount(ApiModel):
    currency: str
    amount: Money


class Performance(ApiModel):
    agent_id: uuid.UUID
    from_date: Day = Field(alias="from")
    to_date: Day = Field(alias="to")
    actions_total: int
    actions_by_type: dict[str, int]
    actions_by_result: dict[str, int]
    contacts: int
    """Actions whose result reached the customer (the result's ``isContact``)."""
    contact_rate: str | None
    """contacts / actionsTotal as a decimal string with 4 places ("0.4250"); null without actions."""
    promises_made: int
    amount_promised: list[CurrencyAmount]
    """The amounts of the promises made in the range, per currency (the loan's; a promise on the
    customer as a whole: the currency of its loans when they have one, else VND)."""
    promises_kept: int
    """Promises recorded by the agent (at any time) that became KEPT within the range."""
    promises_broken: int
    kept_rate: str | None
    """kept / (kept + broken), 4 places; null when none was settled in the range."""
    amount_collected: list[CurrencyAmount]
    """RECEIVED payments in the range on customers assigned to the agent at the payment's time."""


class QueueReason(StrEnum):
    PROMISE_DUE_TODAY = "PROMISE_DUE_TODAY"
    PROMISE_BROKEN = "PROMISE_BROKEN"
    FOLLOW_UP_DUE = "FOLLOW_UP_DUE"
    DELINQUENT = "DELINQUENT"


class QueueItem(ApiModel):
    cif: str
    name: str | None
    max_dpd: int
    total_due: Money
    total_outstanding: Money
    reason: QueueReason
    promise_amount: Money | None = None
    """The promise due today or the one broken, for those two reasons."""
    promise_date: Day | None = None
    last_action_date: Moment | None
    open_promise_amount: Money | None = None
    """The customer's OPEN promise (whatever its date), what an agent mentions on the call."""
    open_promise_date: Day | None = None
    next_follow_up_date: Day | None = None
    """The follow-up date the last action set (due, past or still to come)."""

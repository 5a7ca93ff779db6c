"""What the customer list and the customer facts look like in the API."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from crm.platform.buckets import DpdBucket
from crm.platform.schemas import ApiModel, Day, Moment, Money

MAX_LOOKUP_CIFS = 500


class PromiseFilter(StrEnum):
    """``promiseStatus`` of the list: an OPEN promise, a BROKEN one (no newer promise since), none."""

    OPEN = "OPEN"
    BROKEN = "BROKEN"
    NONE = "NONE"


class CustomerSort(StrEnum):
    """The list's order: worst dpd or total due, highest (``-``) or lowest first."""

    DPD_DESC = "-dpd"
    DPD_ASC = "dpd"
    DUE_DESC = "-due"
    DUE_ASC = "due"


class CustomerFacts(ApiModel):
    """One customer as workflow knows it: the loan facts, the current agents, the promise, the
    follow-up and the last results (workflow's read model; names and segment as last synced)."""

    cif: str
    name: str | None
    segment: str | None
    status: str | None
    max_dpd: int
    """The worst dpd of the customer's loans (0 without loans)."""
    bucket: DpdBucket
    """The bucket of ``maxDpd``."""
    total_due: Money
    """Due of every loan, added up across currencies (as the call queue ranks them)."""
    total_outstanding: Money
    product_types: list[str]
    """The product types of the customer's loans, sorted."""
    call_agent_id: uuid.UUID | None
    call_agent_name: str | None
    field_agent_id: uuid.UUID | None
    field_agent_name: str | None
    open_promise_amount: Money | None
    """The OPEN promise that falls due first, and its date."""
    open_promise_date: Day | None
    broken_promise_amount: Money | None
    """The last BROKEN promise, unless a newer promise was made since."""
    broken_promise_date: Day | None
    follow_up_date: Day | None
    """The follow-up date of the newest action."""
    last_action_date: Moment | None
    last_result: str | None
    """The result code of the newest action."""
    last_contact_at: Moment | None
    """The newest action that reached the customer, and its result code."""
    last_contact_result: str | None


class CustomerList(ApiModel):
    items: list[CustomerFacts]
    page: int
    page_size: int
    total: int
    """Customers matching, counted up to ``COUNT_LIMIT``; ``totalExact`` false when there are more."""
    total_exact: bool


class CustomerFactsLookup(ApiModel):
    """``POST /api/workflow/customers/lookup``: the CIFs to read (1 to 500)."""

    cifs: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_LOOKUP_CIFS
    )


class CustomerFactsResult(ApiModel):
    """The facts of the CIFs asked for that workflow knows (the others are absent)."""

    items: list[CustomerFacts]

"""The customer list (agents: their own book; supervisors and admins: any customer) and the facts
of some customers, from workflow's read model."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.auth import Principal
from crm.platform.buckets import DpdBucket
from crm.platform.business_time import business_date
from crm.platform.errors import BusinessRuleViolation
from crm.platform.problems import declare
from crm.workflow.callers import acting_agent_id, ensure_own_agent, is_only_agent
from crm.workflow.portfolio import repository
from crm.workflow.portfolio.schemas import CustomerFacts, CustomerList, CustomerSort, PromiseFilter

TEXT_NEEDS_AGENT = declare(
    "customers.text_needs_agent",
    "q searches one agent's customers: give agentId (the whole bank is searched by GET /api/customers).",
)


def facts(row: Row[Any]) -> CustomerFacts:
    """One list row as the API answers it."""
    m = row._mapping
    return CustomerFacts(
        cif=m["cif"],
        name=m["name"],
        segment=m["segment"],
        status=m["status"],
        max_dpd=m["max_dpd"],
        bucket=DpdBucket.of(max(m["max_dpd"], 0)),
        total_due=m["total_due"],
        total_outstanding=m["total_outstanding"],
        product_types=sorted(m["product_types"] or []),
        call_agent_id=m["call_agent_id"],
        call_agent_name=m["call_agent_name"],
        field_agent_id=m["field_agent_id"],
        field_agent_name=m["field_agent_name"],
        open_promise_amount=m["open_promise_amount"],
        open_promise_date=m["open_promise_date"],
        broken_promise_amount=m["broken_promise_amount"] if m["broken_settled_at"] else None,
        broken_promise_date=m["broken_promise_date"] if m["broken_settled_at"] else None,
        follow_up_date=m["follow_up_date"],
        last_action_date=m["last_action_date"],
        last_result=m["last_result"],
        last_contact_at=m["last_contact_at"],
        last_contact_result=m["last_contact_result"],
    )


async def customer_list(
    session: AsyncSession,
    caller: Principal,
    *,
    now: datetime,
    tz: ZoneInfo,
    agent_id: uuid.UUID | None,
    team: str | None,
    bucket: DpdBucket | None,
    product_type: str | None,
    promise: PromiseFilter | None,
    last_result: str | None,
    follow_up_due: bool | None,
    text: str | None,
    sort: CustomerSort,
    offset: int,
    limit: int,
    page_number: int,
) -> CustomerList:
    """A page of the customers matching the filters; an AGENT reads only its own book (403 otherwise)."""
    if is_only_agent(caller):
        own = acting_agent_id(caller)
        if agent_id is not None:
            ensure_own_agent(caller, agent_id)
        elif own is None:
            ensure_own_agent(caller, uuid.UUID(int=0))
        agent_id = own
    if text and agent_id is None:
        raise BusinessRuleViolation.of(TEXT_NEEDS_AGENT, errors=[TEXT_NEEDS_AGENT.field("q")])
    criteria = repository.ListCriteria(
        agent_id=agent_id,
        team=team,
        dpd_range=bucket.dpd_range if bucket else None,
        product_type=product_type,
        promise=promise,
        last_result=last_result,
        follow_up_due_by=business_date(now, tz) if follow_up_due else None,
        text=text or None,
    )
    rows, total, exact = await repository.page(session, criteria, sort, offset=offset, limit=limit)
    return CustomerList(
        items=[facts(r) for r in rows], page=page_number, page_size=limit, total=total, total_exact=exact
    )


async def lookup(session: AsyncSession, cifs: list[str]) -> list[CustomerFacts]:
    """The facts of these customers, by CIF (a CIF workflow has no facts of is absent)."""
    return [facts(r) for r in await repository.lookup(session, cifs)]

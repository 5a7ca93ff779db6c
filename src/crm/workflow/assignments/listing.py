"""The delinquent customers a supervisor assigns, one row per customer, filtered in the database.

The web page used to page bank-sync's delinquent *loans* and filter "unassigned" and "team" on the
page it had (issue 17, item 7). Here the read model (``loan_view``, ``customer_view``) and the
current assignments are joined, so every filter applies to the whole result and pages are pages
of customers. A customer is delinquent when one of its open loans is past due; its bucket is that
of its worst open loan (as the assignment rule takes it); a product filter keeps customers with a
delinquent loan of that product.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.buckets import DpdBucket
from crm.workflow.agents.models import Agent
from crm.workflow.assignments.models import CustomerAgent
from crm.workflow.readmodel.models import CustomerView, LoanView


@dataclass(frozen=True)
class CustomerFilter:
    bucket: DpdBucket | None = None
    product_type: str | None = None
    team: str | None = None
    assigned: bool | None = None
    """True: only customers with a current assignment; False: only those without; None: both."""


def _matching(only: CustomerFilter) -> Any:
    worst = func.max(LoanView.dpd)
    loans = (
        select(
            LoanView.cif.label("cif"),
            worst.label("max_dpd"),
            func.sum(LoanView.due_amount).label("due_amount"),
            func.count().label("loans"),
            func.min(LoanView.currency).label("currency"),
            func.count(func.distinct(LoanView.currency)).label("currencies"),
            func.array_agg(func.distinct(LoanView.product_type)).label("product_types"),
        )
        .where(LoanView.status == "OPEN", LoanView.dpd > 0)
        .group_by(LoanView.cif)
    )
    if only.product_type is not None:
        loans = loans.having(func.bool_or(LoanView.product_type == only.product_type))
    if only.bucket is not None:
        low, high = only.bucket.dpd_range
        loans = loans.having(worst >= low)
        if high is not None:
            loans = loans.having(worst <= high)
    found = loans.subquery("found")
    query = (
        select(found, CustomerView.name, CustomerAgent)
        .outerjoin(CustomerView, CustomerView.cif == found.c.cif)
        .outerjoin(CustomerAgent, and_(CustomerAgent.cif == found.c.cif, CustomerAgent.is_current))
    )
    if only.assigned is True:
        query = query.where(CustomerAgent.id.is_not(None))
    elif only.assigned is False:
        query = query.where(CustomerAgent.id.is_(None))
    if only.team is not None:
        of_team = select(Agent.id).where(
            Agent.team == only.team,
            or_(
                Agent.id == CustomerAgent.assigned_call_agent_id,
                Agent.id == CustomerAgent.assigned_field_agent_id,
            ),
        )
        query = query.where(of_team.exists())
    return query, found


async def delinquent_customers(
    session: AsyncSession, only: CustomerFilter, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of delinquent customers matching ``only``, worst dpd first, with their current assignment."""
    query, found = _matching(only)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(found.c.max_dpd.desc(), found.c.cif).offset(offset).limit(limit)
    )
    items = []
    for row in rows:
        current: CustomerAgent | None = row.CustomerAgent
        single = row.currencies == 1
        items.append(
            {
                "cif": row.cif,
                "name": row.name,
                "max_dpd": row.max_dpd,
                "bucket": DpdBucket.of(row.max_dpd),
                "delinquent_loans": row.loans,
                "product_types": sorted(p for p in row.product_types if p),
                "due_amount": Decimal(row.due_amount) if single else None,
                "currency": row.currency if single else None,
                "assignment_id": current.id if current else None,
                "assigned_call_agent_id": current.assigned_call_agent_id if current else None,
                "assigned_field_agent_id": current.assigned_field_agent_id if current else None,
            }
        )
    return items, total


async def current_of(session: AsyncSession, cifs: Sequence[str]) -> list[CustomerAgent]:
    """The current assignments of these customers (those that have one), by cif."""
    rows = await session.scalars(
        select(CustomerAgent).where(CustomerAgent.cif.in_(list(cifs)), CustomerAgent.is_current)
    )
    return sorted(rows, key=lambda row: row.cif)


def agent_ids(item: dict[str, Any]) -> list[uuid.UUID]:
    return [a for a in (item["assigned_call_agent_id"], item["assigned_field_agent_id"]) if a]

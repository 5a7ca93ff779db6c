"""The customer list's queries: ``customer_queue_fact`` (one row per customer, kept by triggers)
with the newest result, the name and the agents, filtered and sorted in the database.

Each sort is a backward range of one index (``ix_customer_queue_fact_max_dpd`` / ``..._total_due``,
migration 0010) cut at the page, so a supervisor's first page over a million customers reads a page
of index entries; an agent's book comes from the two partial indexes on its agent columns (0006).
The total is counted up to ``COUNT_LIMIT`` rows: an exact count of a million rows costs more than
the page itself, and "more than 10,000" is all a person paging a list needs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Text,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from crm.workflow.agents.models import Agent
from crm.workflow.portfolio.models import ResultFact
from crm.workflow.portfolio.schemas import CustomerSort, PromiseFilter
from crm.workflow.readmodel.models import CustomerView, LoanView
from crm.workflow.workload.models import QueueFact

COUNT_LIMIT = 10_000
LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class ListCriteria:
    """What the list keeps: every condition ANDed; None leaves it out."""

    agent_id: uuid.UUID | None = None
    team: str | None = None
    dpd_range: tuple[int, int | None] | None = None
    product_type: str | None = None
    promise: PromiseFilter | None = None
    last_result: str | None = None
    follow_up_due_by: date | None = None
    """Customers whose follow-up date is on or before this day."""
    text: str | None = None
    """A CIF prefix or part of the name (accents and case ignored)."""


def _folded(value: Any) -> ColumnElement[str]:
    return func.lower(func.public.unaccent(value, type_=Text), type_=Text)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(criteria: ListCriteria) -> list[ColumnElement[bool]]:
    f = QueueFact
    where: list[ColumnElement[bool]] = []
    if criteria.agent_id is not None:
        where.append(or_(f.call_agent_id == criteria.agent_id, f.field_agent_id == criteria.agent_id))
    if criteria.team is not None:
        team = select(Agent.id).where(Agent.team == criteria.team)
        where.append(or_(f.call_agent_id.in_(team), f.field_agent_id.in_(team)))
    if criteria.dpd_range is not None:
        first, last = criteria.dpd_range
        where.append(f.max_dpd >= first)
        if last is not None:
            where.append(f.max_dpd <= last)
    if criteria.product_type is not None:
        where.append(exists().where(LoanView.cif == f.cif, LoanView.product_type == criteria.product_type))
    if criteria.promise is PromiseFilter.OPEN:
        where.append(f.open_promise_date.is_not(None))
    elif criteria.promise is PromiseFilter.BROKEN:
        where.append(f.broken_settled_at.is_not(None))
    elif criteria.promise is PromiseFilter.NONE:
        where.append(and_(f.open_promise_date.is_(None), f.broken_settled_at.is_(None)))
    if criteria.last_result is not None:
        where.append(exists().where(ResultFact.cif == f.cif, ResultFact.last_result == criteria.last_result))
    if criteria.follow_up_due_by is not None:
        where.append(f.follow_up_date <= criteria.follow_up_due_by)
    if criteria.text is not None:
        words = _like_escape(criteria.text)
        named = exists().where(
            CustomerView.cif == f.cif,
            _folded(CustomerView.name).like(
                literal("%") + _folded(literal(words)) + literal("%"), escape=LIKE_ESCAPE
            ),
        )
        where.append(or_(f.cif.like(words + "%", escape=LIKE_ESCAPE), named))
    return where


def _rows(query: Select[Any]) -> Select[Any]:
    """The columns of a list row, joined to a page (or a lookup) of ``customer_queue_fact``."""
    facts = query.subquery("f")
    call, field = aliased(Agent), aliased(Agent)
    products = (
        select(func.array_agg(func.distinct(LoanView.product_type)))
        .where(LoanView.cif == facts.c.cif, LoanView.product_type.is_not(None))
        .scalar_subquery()
    )
    return (
        select(
            facts,
            CustomerView.name,
            CustomerView.segment,
            CustomerView.status,
            call.name.label("call_agent_name"),
            field.name.label("field_agent_name"),
            ResultFact.last_result,
            ResultFact.last_contact_result,
            func.coalesce(products, literal([], ARRAY(Text))).label("product_types"),
        )
        .select_from(facts)
        .outerjoin(CustomerView, CustomerView.cif == facts.c.cif)
        .outerjoin(call, call.id == facts.c.call_agent_id)
        .outerjoin(field, field.id == facts.c.field_agent_id)
        .outerjoin(ResultFact, ResultFact.cif == facts.c.cif)
    )


_ORDER: dict[CustomerSort, tuple[ColumnElement[Any], ColumnElement[Any]]] = {
    CustomerSort.DPD_DESC: (QueueFact.max_dpd.desc(), QueueFact.cif.desc()),
    CustomerSort.DPD_ASC: (QueueFact.max_dpd.asc(), QueueFact.cif.asc()),
    CustomerSort.DUE_DESC: (QueueFact.total_due.desc(), QueueFact.cif.desc()),
    CustomerSort.DUE_ASC: (QueueFact.total_due.asc(), QueueFact.cif.asc()),
}
_ROW_ORDER: dict[CustomerSort, tuple[str, bool]] = {
    CustomerSort.DPD_DESC: ("max_dpd", True),
    CustomerSort.DPD_ASC: ("max_dpd", False),
    CustomerSort.DUE_DESC: ("total_due", True),
    CustomerSort.DUE_ASC: ("total_due", False),
}


def page_statement(criteria: ListCriteria, sort: CustomerSort, *, offset: int, limit: int) -> Select[Any]:
    """One page of the list: the facts cut to the page in the sort's index order, then joined."""
    where = _conditions(criteria)
    order = _ORDER[sort]
    if criteria.agent_id is not None:
        # One agent's book (a few thousand rows of its two partial indexes) is read whole and sorted:
        # ``+ 0`` keeps the planner from walking the sort index over every customer, filtering by agent.
        _, tie = order
        by_dpd = sort in (CustomerSort.DPD_ASC, CustomerSort.DPD_DESC)
        shifted: ColumnElement[Any] = (QueueFact.max_dpd if by_dpd else QueueFact.total_due) + 0
        key = shifted.desc() if sort in (CustomerSort.DPD_DESC, CustomerSort.DUE_DESC) else shifted.asc()
        order = (key, tie)
    cut = select(QueueFact).where(*where).order_by(*order).offset(offset).limit(limit)
    query = _rows(cut)
    column, descending = _ROW_ORDER[sort]
    sub = query.selected_columns
    return query.order_by(
        sub[column].desc() if descending else sub[column].asc(),
        sub["cif"].desc() if descending else sub["cif"].asc(),
    )


def count_statement(criteria: ListCriteria) -> Select[Any]:
    """How many customers match, counted up to ``COUNT_LIMIT + 1``."""
    counted = (
        select(literal(1))
        .select_from(QueueFact)
        .where(*_conditions(criteria))
        .limit(COUNT_LIMIT + 1)
        .subquery()
    )
    return select(func.count()).select_from(counted)


async def page(
    session: AsyncSession, criteria: ListCriteria, sort: CustomerSort, *, offset: int, limit: int
) -> tuple[list[Row[Any]], int, bool]:
    """A page of the list, how many match (up to ``COUNT_LIMIT``) and whether that count is exact."""
    query = page_statement(criteria, sort, offset=offset, limit=limit)
    rows = list((await session.execute(query)).all())
    if offset == 0 and len(rows) < limit:
        return rows, len(rows), True
    n = int(await session.scalar(count_statement(criteria)) or 0)
    return rows, min(n, COUNT_LIMIT), n <= COUNT_LIMIT


async def lookup(session: AsyncSession, cifs: list[str]) -> list[Row[Any]]:
    """The list rows of these customers (those without facts are absent), by CIF."""
    query = _rows(select(QueueFact).where(QueueFact.cif.in_(sorted(set(cifs)))))
    return list((await session.execute(query.order_by(query.selected_columns["cif"]))).all())

"""An agent's workload, performance over a period and today's call queue.

"Today" and every day boundary are in the business time zone; ``now`` is a parameter so that the
callers (and tests) decide what time it is.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.auth import Principal
from crm.platform.business_time import business_date, check_period, day_bounds
from crm.platform.errors import NotFound
from crm.workflow.agents.models import Agent
from crm.workflow.agents.service import NO_AGENT
from crm.workflow.callers import ensure_own_agent
from crm.workflow.workload import repository
from crm.workflow.workload.schemas import (
    CurrencyAmount,
    CurrencyTotal,
    Performance,
    QueueItem,
    QueueReason,
    Workload,
)

MAX_RANGE_DAYS = 366
BROKEN_LOOKBACK_DAYS = 7
_REASONS = {
    1: QueueReason.PROMISE_DUE_TODAY,
    2: QueueReason.PROMISE_BROKEN,
    3: QueueReason.FOLLOW_UP_DUE,
    4: QueueReason.DELINQUENT,
}
_RATE_PLACES = Decimal("0.0001")


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The instant a business day begins."""
    return day_bounds(day, tz)[0]


def rate(part: int, whole: int) -> str | None:
    """``part / whole`` as a decimal string with 4 places, or None when ``whole`` is 0."""
    if whole == 0:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP))


async def readable_agent(session: AsyncSession, agent_id: uuid.UUID, caller: Principal) -> Agent:
    """The agent whose figures the caller may read: an AGENT reads only its own (403), 404 if unknown."""
    ensure_own_agent(caller, agent_id)
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound.of(NO_AGENT, id=agent_id)
    return agent


async def workload(session: AsyncSession, agent_id: uuid.UUID, *, now: datetime, tz: ZoneInfo) -> Workload:
    """The agent's current customers, their totals per currency, actions today and open promises."""
    today = business_date(now, tz)
    row = await repository.workload(
        session,
        agent_id,
        today=today,
        day_start=day_start(today, tz),
        day_end=day_start(today + timedelta(days=1), tz),
    )
    totals = [
        CurrencyTotal(currency=c, outstanding=o, due=d)
        for c, o, d in zip(row.currencies or [], row.outstandings or [], row.dues or [], strict=True)
    ]
    return Workload(
        agent_id=agent_id,
        business_date=today,
        assigned_customers=row.assigned_customers,
        totals=totals,
        actions_today=row.actions_today,
        open_promises=row.open_promises,
        promises_due_today=row.due_today,
    )


async def performance(
    session: AsyncSession, agent_id: uuid.UUID, *, from_date: date, to_date: date, tz: ZoneInfo
) -> Performance:
    """The agent's actions, contacts, promises and collections between two business dates, inclusive."""
    check_period(from_date, to_date, max_days=MAX_RANGE_DAYS)
    start, end = day_start(from_date, tz), day_start(to_date + timedelta(days=1), tz)
    by_type: Counter[str] = Counter()
    by_result: Counter[str] = Counter()
    contacts = promises_made = 0
    for row in await repository.actions_in_range(session, agent_id, start=start, end=end):
        by_type[row.type] += row.actions
        by_result[row.action_result] += row.actions
        contacts += row.actions if row.is_contact else 0
        promises_made += row.promises
    total = sum(by_type.values())
    settled = await repository.promises_settled(session, agent_id, start=start, end=end)
    collected = await repository.amount_collected(session, agent_id, start=start, end=end)
    promised = await repository.amount_promised(session, agent_id, start=start, end=end)
    return Performance(
        agent_id=agent_id,
        from_date=from_date,
        to_date=to_date,
        actions_total=total,
        actions_by_type=dict(sorted(by_type.items())),
        actions_by_result=dict(sorted(by_result.items())),
        contacts=contacts,
        contact_rate=rate(contacts, total),
        promises_made=promises_made,
        amount_promised=[CurrencyAmount(currency=r.currency, amount=r.amount) for r in promised],
        promises_kept=settled.kept,
        promises_broken=settled.broken,
        kept_rate=rate(settled.kept, settled.kept + settled.broken),
        amount_collected=[CurrencyAmount(currency=r.currency, amount=r.amount) for r in collected],
    )


async def queue(
    session: AsyncSession, agent_id: uuid.UUID, *, now: datetime, tz: ZoneInfo, offset: int, limit: int
) -> tuple[list[QueueItem], int]:
    """Today's call list of the agent's current customers, in priority order, one page of it."""
    today = business_date(now, tz)
    rows = await repository.queue(
        session,
        agent_id,
        today=today,
        day_start=day_start(today, tz),
        day_end=day_start(today + timedelta(days=1), tz),
        broken_since=day_start(today - timedelta(days=BROKEN_LOOKBACK_DAYS), tz),
        offset=offset,
        limit=limit,
    )
    total = rows[0].total if rows else 0
    items = []
    for r in rows:
        if r.cif is None:  # the page is past the end: only the total came back
            continue
        reason = _REASONS[r.priority]
        promise_amount, promise_date = {
            QueueReason.PROMISE_DUE_TODAY: (r.due_amount, r.due_date),
            QueueReason.PROMISE_BROKEN: (r.broken_amount, r.broken_date),
        }.get(reason, (None, None))
        items.append(
            QueueItem(
                cif=r.cif,
                name=r.name,
                max_dpd=r.max_dpd,
                total_due=r.total_due,
                total_outstanding=r.total_outstanding,
                reason=reason,
                promise_amount=promise_amount,
                promise_date=promise_date,
                last_action_date=r.last_action_date,
                open_promise_amount=r.open_promise_amount,
                open_promise_date=r.open_promise_date,
                next_follow_up_date=r.follow_up_date,
            )
        )
    return items, total

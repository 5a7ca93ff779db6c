"""A team's workload and performance: every active agent of a team in a few set-based queries.

The figures are those of ``GET /api/agents/:id/workload`` and ``.../performance`` (same schemas,
same rules), computed for all the team's agents at once: each query takes the agents' ids as one
array and groups by agent, so a dashboard costs the same number of statements for 2 agents as for
50. The 30-day trend groups the team's promises by business day in the same way.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.business_time import business_date, check_period
from crm.platform.schemas import ApiModel, Day
from crm.workflow.agents.schemas import AgentTeam
from crm.workflow.workload.schemas import CurrencyAmount, CurrencyTotal, Performance, Workload
from crm.workflow.workload.service import MAX_RANGE_DAYS, day_start, rate

MAX_AGENTS = 500
"""One answer holds at most this many agents (the largest page of ``GET /api/agents``)."""


class TeamAgent(ApiModel):
    id: uuid.UUID
    employee_id: str
    name: str
    team: AgentTeam
    max_customers: int
    workload: Workload
    performance: Performance


class TeamFigures(ApiModel):
    team: AgentTeam | None
    """null: every team."""
    business_date: Day
    from_date: Day = Field(alias="from")
    to_date: Day = Field(alias="to")
    agents_total: int
    """Active agents of the team; ``agents`` holds the first ``MAX_AGENTS`` of them by name."""
    agents: list[TeamAgent]


class TrendDay(ApiModel):
    date: Day
    promises_made: int
    promises_kept: int
    promises_broken: int


class TeamTrend(ApiModel):
    team: AgentTeam | None
    from_date: Day = Field(alias="from")
    to_date: Day = Field(alias="to")
    days: list[TrendDay]
    """Every business day of the range, in order, also the quiet ones."""


AGENTS = text(
    """
SELECT id, employee_id, name, team, max_customers, count(*) OVER () AS total
FROM workflow.agent
WHERE is_active AND (CAST(:team AS text) IS NULL OR team = :team)
ORDER BY name, employee_id
LIMIT :limit
"""
)

CUSTOMERS_AND_PROMISES = text(
    """
WITH mine AS (  -- the agents' current customers, as call or field agent (a partial index range each)
    SELECT assigned_call_agent_id AS agent_id, cif FROM workflow.customer_agent
    WHERE is_current AND assigned_call_agent_id = ANY(:ids)
    UNION
    SELECT assigned_field_agent_id, cif FROM workflow.customer_agent
    WHERE is_current AND assigned_field_agent_id = ANY(:ids)
),
promises AS (
    SELECT m.agent_id, count(*) AS open, count(*) FILTER (WHERE a.promise_date = :today) AS due
    FROM mine m JOIN workflow.action_record a ON a.cif = m.cif AND a.promise_status = 'OPEN'
    GROUP BY m.agent_id
),
customers AS (SELECT agent_id, count(*) AS n FROM mine GROUP BY agent_id)
SELECT c.agent_id, c.n AS customers, coalesce(p.open, 0) AS open_promises, coalesce(p.due, 0) AS due_today
FROM customers c LEFT JOIN promises p ON p.agent_id = c.agent_id
"""
)

TOTALS = text(
    """
WITH mine AS (  -- the agents' current customers, as call or field agent (a partial index range each)
    SELECT assigned_call_agent_id AS agent_id, cif FROM workflow.customer_agent
    WHERE is_current AND assigned_call_agent_id = ANY(:ids)
    UNION
    SELECT assigned_field_agent_id, cif FROM workflow.customer_agent
    WHERE is_current AND assigned_field_agent_id = ANY(:ids)
)
SELECT m.agent_id, l.currency, sum(l.outstanding) AS outstanding, sum(l.due_amount) AS due
FROM mine m JOIN workflow.loan_view l ON l.cif = m.cif
GROUP BY m.agent_id, l.currency
ORDER BY m.agent_id, l.currency
"""
)

ACTIONS_TODAY = text(
    """
SELECT agent_id, count(*) AS n FROM workflow.action_record
WHERE agent_id = ANY(:ids) AND action_date >= :day_start AND action_date < :day_end
GROUP BY agent_id
"""
)

ACTIONS_IN_RANGE = text(
    """
SELECT a.agent_id, a.type, a.action_result, coalesce(v.is_contact, false) AS is_contact,
       count(*) AS actions, count(*) FILTER (WHERE a.promise_amount IS NOT NULL) AS promises
FROM workflow.action_record a
LEFT JOIN workflow.vocabulary_entry v ON v.kind = 'ACTION_RESULT' AND v.code = a.action_result
WHERE a.agent_id = ANY(:ids) AND a.action_date >= :start AND a.action_date < :end
GROUP BY a.agent_id, a.type, a.action_result, coalesce(v.is_contact, false)
"""
)

# As crm.workflow.workload.repository.AMOUNT_PROMISED, per agent.
AMOUNT_PROMISED = text(
    """
SELECT a.agent_id, coalesce(l.currency, c.currency, 'VND') AS currency, sum(a.promise_amount) AS amount
FROM workflow.action_record a
LEFT JOIN workflow.loan_view l ON l.account_number = a.loan_account_number
LEFT JOIN LATERAL (
    SELECT min(x.currency) AS currency FROM workflow.loan_view x
    WHERE x.cif = a.cif HAVING count(DISTINCT x.currency) = 1
) c ON a.loan_account_number IS NULL
WHERE a.agent_id = ANY(:ids) AND a.action_date >= :start AND a.action_date < :end
  AND a.promise_amount IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
"""
)

PROMISES_SETTLED = text(
    """
SELECT a.agent_id,
       count(*) FILTER (WHERE a.promise_status = 'KEPT') AS kept,
       count(*) FILTER (WHERE a.promise_status = 'BROKEN') AS broken
FROM workflow.action_record a
WHERE a.agent_id = ANY(:ids) AND a.action_date < :end
  AND a.promise_status IN ('KEPT', 'BROKEN')
  AND a.promise_settled_at >= :start AND a.promise_settled_at < :end
GROUP BY a.agent_id
"""
)

# A payment belongs to the agent that had the customer when it was paid (SCD2 history); an agent
# that was call and field agent of the same period counts it once, as the per-agent query does.
AMOUNT_COLLECTED = text(
    """
WITH periods AS (
    SELECT a.agent_id, ca.cif, ca.start_date, ca.end_date
    FROM unnest(CAST(:ids AS uuid[])) AS a(agent_id)
    JOIN workflow.customer_agent ca
      ON (ca.assigned_call_agent_id = a.agent_id OR ca.assigned_field_agent_id = a.agent_id)
    WHERE ca.start_date < :end AND (ca.end_date IS NULL OR ca.end_date > :start)
)
SELECT ps.agent_id, p.currency, sum(p.amount) AS amount
FROM periods ps
JOIN workflow.payment_view p
  ON p.cif = ps.cif
 AND p.payment_date >= ps.start_date
 AND (ps.end_date IS NULL OR p.payment_date < ps.end_date)
WHERE p.status = 'RECEIVED' AND p.payment_date >= :start AND p.payment_date < :end
GROUP BY ps.agent_id, p.currency
ORDER BY ps.agent_id, p.currency
"""
)

TREND_MADE = text(
    """
SELECT CAST(timezone(:tz, a.action_date) AS date) AS day, count(*) AS n
FROM workflow.action_record a
WHERE a.agent_id = ANY(:ids) AND a.action_date >= :start AND a.action_date < :end
  AND a.promise_amount IS NOT NULL
GROUP BY 1
"""
)

TREND_SETTLED = text(
    """
SELECT CAST(timezone(:tz, a.promise_settled_at) AS date) AS day,
       count(*) FILTER (WHERE a.promise_status = 'KEPT') AS kept,
       count(*) FILTER (WHERE a.promise_status = 'BROKEN') AS broken
FROM workflow.action_record a
WHERE a.agent_id = ANY(:ids) AND a.action_date < :end
  AND a.promise_status IN ('KEPT', 'BROKEN')
  AND a.promise_settled_at >= :start AND a.promise_settled_at < :end
GROUP BY 1
"""
)


async def _rows(session: AsyncSession, query: Any, **params: Any) -> list[Row[Any]]:
    return list((await session.execute(query, params)).all())


async def team_agents(session: AsyncSession, team: AgentTeam | None) -> tuple[list[Row[Any]], int]:
    """The team's active agents by name (at most ``MAX_AGENTS``) and how many it has."""
    rows = await _rows(session, AGENTS, team=team.value if team else None, limit=MAX_AGENTS)
    return rows, (rows[0].total if rows else 0)


async def workloads(
    session: AsyncSession, ids: list[uuid.UUID], *, now: datetime, tz: ZoneInfo
) -> dict[uuid.UUID, Workload]:
    """Each agent's workload, as ``GET /api/agents/:id/workload`` answers it."""
    today = business_date(now, tz)
    bounds = {"day_start": day_start(today, tz), "day_end": day_start(today + timedelta(days=1), tz)}
    counts = {r.agent_id: r for r in await _rows(session, CUSTOMERS_AND_PROMISES, ids=ids, today=today)}
    totals: dict[uuid.UUID, list[CurrencyTotal]] = defaultdict(list)
    for r in await _rows(session, TOTALS, ids=ids):
        totals[r.agent_id].append(CurrencyTotal(currency=r.currency, outstanding=r.outstanding, due=r.due))
    today_actions = {r.agent_id: r.n for r in await _rows(session, ACTIONS_TODAY, ids=ids, **bounds)}
    answers = {}
    for agent_id in ids:
        count = counts.get(agent_id)
        answers[agent_id] = Workload(
            agent_id=agent_id,
            business_date=today,
            assigned_customers=count.customers if count else 0,
            totals=totals.get(agent_id, []),
            actions_today=today_actions.get(agent_id, 0),
            open_promises=count.open_promises if count else 0,
            promises_due_today=count.due_today if count else 0,
        )
    return answers


async def performances(
    session: AsyncSession, ids: list[uuid.UUID], *, from_date: date, to_date: date, tz: ZoneInfo
) -> dict[uuid.UUID, Performance]:
    """Each agent's performance between two business dates, as ``GET /api/agents/:id/performance``."""
    check_period(from_date, to_date, max_days=MAX_RANGE_DAYS)
    rng = {"ids": ids, "start": day_start(from_date, tz), "end": day_start(to_date + timedelta(days=1), tz)}
    by_type: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    by_result: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    contacts: Counter[uuid.UUID] = Counter()
    made: Counter[uuid.UUID] = Counter()
    for r in await _rows(session, ACTIONS_IN_RANGE, **rng):
        by_type[r.agent_id][r.type] += r.actions
        by_result[r.agent_id][r.action_result] += r.actions
        contacts[r.agent_id] += r.actions if r.is_contact else 0
        made[r.agent_id] += r.promises
    settled = {r.agent_id: r for r in await _rows(session, PROMISES_SETTLED, **rng)}
    collected: dict[uuid.UUID, list[CurrencyAmount]] = defaultdict(list)
    for r in await _rows(session, AMOUNT_COLLECTED, **rng):
        collected[r.agent_id].append(CurrencyAmount(currency=r.currency, amount=r.amount))
    promised: dict[uuid.UUID, list[CurrencyAmount]] = defaultdict(list)
    for r in await _rows(session, AMOUNT_PROMISED, **rng):
        promised[r.agent_id].append(CurrencyAmount(currency=r.currency, amount=r.amount))
    answers = {}
    for agent_id in ids:
        total = sum(by_type[agent_id].values())
        kept = settled[agent_id].kept if agent_id in settled else 0
        broken = settled[agent_id].broken if agent_id in settled else 0
        answers[agent_id] = Performance(
            agent_id=agent_id,
            from_date=from_date,
            to_date=to_date,
            actions_total=total,
            actions_by_type=dict(sorted(by_type[agent_id].items())),
            actions_by_result=dict(sorted(by_result[agent_id].items())),
            contacts=contacts[agent_id],
            contact_rate=rate(contacts[agent_id], total),
            promises_made=made[agent_id],
            amount_promised=promised.get(agent_id, []),
            promises_kept=kept,
            promises_broken=broken,
            kept_rate=rate(kept, kept + broken),
            amount_collected=collected.get(agent_id, []),
        )
    return answers


async def figures(
    session: AsyncSession,
    team: AgentTeam | None,
    *,
    from_date: date,
    to_date: date,
    now: datetime,
    tz: ZoneInfo,
) -> TeamFigures:
    """Every active agent of the team (at most ``MAX_AGENTS``) with today's workload and the period's
    performance."""
    check_period(from_date, to_date, max_days=MAX_RANGE_DAYS)
    agents, total = await team_agents(session, team)
    ids = [a.id for a in agents]
    loads = await workloads(session, ids, now=now, tz=tz)
    perfs = await performances(session, ids, from_date=from_date, to_date=to_date, tz=tz)
    return TeamFigures(
        team=team,
        business_date=business_date(now, tz),
        from_date=from_date,
        to_date=to_date,
        agents_total=total,
        agents=[
            TeamAgent(
                id=a.id,
                employee_id=a.employee_id,
                name=a.name,
                team=a.team,
                max_customers=a.max_customers,
                workload=loads[a.id],
                performance=perfs[a.id],
            )
            for a in agents
        ],
    )


async def trend(
    session: AsyncSession, team: AgentTeam | None, *, from_date: date, to_date: date, tz: ZoneInfo
) -> TeamTrend:
    """Promises made, kept and broken by the team's active agents on each business day of the range
    (a promise counts on the day it was made, its settlement on the day it was settled)."""
    check_period(from_date, to_date, max_days=MAX_RANGE_DAYS)
    agents, _ = await team_agents(session, team)
    rng = {
        "ids": [a.id for a in agents],
        "start": day_start(from_date, tz),
        "end": day_start(to_date + timedelta(days=1), tz),
        "tz": str(tz),
    }
    made = {r.day: r.n for r in await _rows(session, TREND_MADE, **rng)}
    settled = {r.day: r for r in await _rows(session, TREND_SETTLED, **rng)}
    days = []
    day = from_date
    while day <= to_date:
        days.append(
            TrendDay(
                date=day,
                promises_made=made.get(day, 0),
                promises_kept=settled[day].kept if day in settled else 0,
                promises_broken=settled[day].broken if day in settled else 0,
            )
        )
        day += timedelta(days=1)
    return TeamTrend(team=team, from_date=from_date, to_date=to_date, days=days)

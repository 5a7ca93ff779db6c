"""A team's portfolio by days-past-due bucket: the loans of the customers its agents have now.

Read from workflow's own tables (current ``customer_agent`` rows, the ``agent`` team, ``loan_view``);
each loan counts in its own bucket (the platform's boundaries), its amounts in its own currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.buckets import DpdBucket
from crm.platform.schemas import ApiModel
from crm.workflow.agents.schemas import AgentTeam
from crm.workflow.workload.schemas import CurrencyAmount


class BucketFigures(ApiModel):
    bucket: DpdBucket
    loans: int
    customers: int
    outstanding: list[CurrencyAmount]
    due: list[CurrencyAmount]


class Portfolio(ApiModel):
    team: AgentTeam | None
    """null: every team."""
    buckets: list[BucketFigures]
    """Every bucket, CURRENT first, also the empty ones."""


def _bucket_bounds() -> dict[str, list[Any]]:
    """The platform's bucket boundaries (the one place they are written) as query parameters."""
    buckets = list(DpdBucket)
    return {
        "names": [b.value for b in buckets],
        "firsts": [b.dpd_range[0] for b in buckets],
        "lasts": [b.dpd_range[1] for b in buckets],
    }


PORTFOLIO = text(
    """
WITH customers AS (
    SELECT DISTINCT ca.cif
    FROM workflow.customer_agent ca
    JOIN workflow.agent a ON a.id = ca.assigned_call_agent_id OR a.id = ca.assigned_field_agent_id
    WHERE ca.is_current AND (CAST(:team AS text) IS NULL OR a.team = :team)
),
bounds AS (
    SELECT * FROM unnest(CAST(:names AS text[]), CAST(:firsts AS int[]), CAST(:lasts AS int[]))
        AS b(bucket, first_dpd, last_dpd)
),
loans AS (
    SELECT b.bucket, l.currency, l.cif, l.outstanding, l.due_amount
    FROM customers c
    JOIN workflow.loan_view l ON l.cif = c.cif
    JOIN bounds b ON greatest(l.dpd, 0) >= b.first_dpd AND (b.last_dpd IS NULL OR l.dpd <= b.last_dpd)
)
-- per bucket and currency (the amounts), and per bucket alone (loans and customers, across currencies)
SELECT bucket, currency, count(*) AS loans, count(DISTINCT cif) AS customers,
       sum(outstanding) AS outstanding, sum(due_amount) AS due
FROM loans
GROUP BY GROUPING SETS ((bucket, currency), (bucket))
"""
)


async def portfolio(session: AsyncSession, team: AgentTeam | None) -> Portfolio:
    params = {"team": team.value if team else None, **_bucket_bounds()}
    rows = (await session.execute(PORTFOLIO, params)).all()
    totals = {r.bucket: r for r in rows if r.currency is None}
    amounts: dict[str, list[Any]] = {}
    for row in sorted((r for r in rows if r.currency is not None), key=lambda r: r.currency):
        amounts.setdefault(row.bucket, []).append(row)
    return Portfolio(
        team=team,
        buckets=[
            BucketFigures(
                bucket=bucket,
                loans=totals[bucket.value].loans if bucket.value in totals else 0,
                customers=totals[bucket.value].customers if bucket.value in totals else 0,
                outstanding=[
                    CurrencyAmount(currency=r.currency, amount=Decimal(r.outstanding))
                    for r in amounts.get(bucket.value, [])
                ],
                due=[
                    CurrencyAmount(currency=r.currency, amount=Decimal(r.due))
                    for r in amounts.get(bucket.value, [])
                ],
            )
            for bucket in DpdBucket
        ],
    )

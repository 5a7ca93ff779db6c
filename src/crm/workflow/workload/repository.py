"""The workload, performance and queue queries: workflow's own tables only, one agent at a time.

Every query starts from the agent (its current assignments through the partial indexes
``ix_customer_agent_current_call_agent`` / ``..._field_agent``, or its actions through
``ix_action_record_agent_action_date``) and reaches other rows by ``cif`` through the per-customer
indexes, so the cost follows the agent's own book, not the size of the tables.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

WORKLOAD = text(
    """
WITH mine AS (  -- the agent's current customers, as call or field agent (one partial index each)
    SELECT cif FROM workflow.customer_agent
    WHERE is_current AND assigned_call_agent_id = :agent_id
    UNION
    SELECT cif FROM workflow.customer_agent
    WHERE is_current AND assigned_field_agent_id = :agent_id
),
totals AS (
    SELECT l.currency, sum(l.outstanding) AS outstanding, sum(l.due_amount) AS due
    FROM mine m JOIN workflow.loan_view l ON l.cif = m.cif
    GROUP BY l.currency
),
promises AS (  -- a probe per customer of the partial index of OPEN promises (a join would scan all)
    SELECT coalesce(sum(p.open), 0) AS open_promises, coalesce(sum(p.due), 0) AS due_today
    FROM mine m
    CROSS JOIN LATERAL (
        SELECT count(*) AS open, count(*) FILTER (WHERE a.promise_date = :today) AS due
        FROM workflow.action_record a WHERE a.cif = m.cif AND a.promise_status = 'OPEN'
    ) p
)
SELECT
    (SELECT count(*) FROM mine) AS assigned_customers,
    (SELECT count(*) FROM workflow.action_record a
     WHERE a.agent_id = :agent_id AND a.action_date >= :day_start AND a.action_date < :day_end
    ) AS actions_today,
    promises.open_promises,
    promises.due_today,
    (SELECT array_agg(currency ORDER BY currency) FROM totals) AS currencies,
    (SELECT array_agg(outstanding ORDER BY currency) FROM totals) AS outstandings,
    (SELECT array_agg(due ORDER BY currency) FROM totals) AS dues
FROM promises
"""
)

ACTIONS_IN_RANGE = text(
    """
SELECT a.type, a.action_result, coalesce(v.is_contact, false) AS is_contact,
       count(*) AS actions, count(*) FILTER (WHERE a.promise_amount IS NOT NULL) AS promises
FROM workflow.action_record a
LEFT JOIN workflow.vocabulary_entry v ON v.kind = 'ACTION_RESULT' AND v.code = a.action_result
WHERE a.agent_id = :agent_id AND a.action_date >= :start AND a.action_date < :end
GROUP BY a.type, a.action_result, coalesce(v.is_contact, false)
"""
)

# A promise is in its loan's currency; one on the customer as a whole in the currency of the
# customer's loans when they have one, else in VND (the bank's own currency).
AMOUNT_PROMISED = text(
    """
SELECT coalesce(l.currency, c.currency, 'VND') AS currency, sum(a.promise_amount) AS amount
FROM workflow.action_record a
LEFT JOIN workflow.loan_view l ON l.account_number = a.loan_account_number
LEFT JOIN LATERAL (
    SELECT min(x.currency) AS currency FROM workflow.loan_view x
    WHERE x.cif = a.cif HAVING count(DISTINCT x.currency) = 1
) c ON a.loan_account_number IS NULL
WHERE a.agent_id = :agent_id AND a.action_date >= :start AND a.action_date < :end
  AND a.promise_amount IS NOT NULL
GROUP BY 1
ORDER BY 1
"""
)

# A promise is settled after it was made, so ``action_date < :end`` lets the agent's action index
# bound the scan; the settlement itself must fall in the range.
PROMISES_SETTLED = text(
    """
SELECT count(*) FILTER (WHERE a.promise_status = 'KEPT') AS kept,
       count(*) FILTER (WHERE a.promise_status = 'BROKEN') AS broken
FROM workflow.action_record a
WHERE a.agent_id = :agent_id AND a.action_date < :end
  AND a.promise_status IN ('KEPT', 'BROKEN')
  AND a.promise_settled_at >= :start AND a.promise_settled_at < :end
"""
)

# A payment belongs to the agent that had the customer when it was paid (SCD2 history). The
# periods of one customer never overlap, so a payment meets at most one of its rows.
AMOUNT_COLLECTED = text(
    """
SELECT p.currency, sum(p.amount) AS amount
FROM workflow.customer_agent ca
JOIN workflow.payment_view p
  ON p.cif = ca.cif
 AND p.payment_date >= ca.start_date
 AND (ca.end_date IS NULL OR p.payment_date < ca.end_date)
WHERE (ca.assigned_call_agent_id = :agent_id OR ca.assigned_field_agent_id = :agent_id)
  AND ca.start_date < :end AND (ca.end_date IS NULL OR ca.end_date > :start)
  AND p.status = 'RECEIVED'
  AND p.payment_date >= :start AND p.payment_date < :end
GROUP BY p.currency
ORDER BY p.currency
"""
)

# Today's call list, from the customers' queue facts (``customer_queue_fact``, one row per customer
# kept by triggers, see crm.workflow.workload.models): the agent's customers as call or field agent
# are two index-only ranges of the facts' covering indexes. A customer contacted today (by anyone)
# is off the list. The list is ranked whole (the order depends on the facts), then one page is cut;
# the total comes in the same row set, also when the page is past the end.
QUEUE = text(
    """
WITH mine AS (
    SELECT cif, max_dpd, total_due, total_outstanding, last_action_date, follow_up_date,
           last_contact_at, open_promise_date, open_promise_amount,
           broken_settled_at, broken_promise_date, broken_promise_amount
    FROM workflow.customer_queue_fact WHERE call_agent_id = :agent_id
    UNION
    SELECT cif, max_dpd, total_due, total_outstanding, last_action_date, follow_up_date,
           last_contact_at, open_promise_date, open_promise_amount,
           broken_settled_at, broken_promise_date, broken_promise_amount
    FROM workflow.customer_queue_fact WHERE field_agent_id = :agent_id
),
ranked AS (
    SELECT f.cif, f.max_dpd, f.total_due, f.total_outstanding, f.last_action_date,
           CASE WHEN f.open_promise_date = :today THEN f.open_promise_amount END AS due_amount,
           CASE WHEN f.open_promise_date = :today THEN f.open_promise_date END AS due_date,
           f.broken_promise_amount AS broken_amount, f.broken_promise_date AS broken_date,
           f.open_promise_amount, f.open_promise_date, f.follow_up_date,
           CASE WHEN f.open_promise_date = :today THEN 1
                WHEN f.broken_settled_at >= :broken_since THEN 2
                WHEN f.follow_up_date <= :today THEN 3
                ELSE 4 END AS priority
    FROM mine f
    WHERE (f.last_contact_at IS NULL OR f.last_contact_at < :day_start OR f.last_contact_at >= :day_end)
      AND (f.open_promise_date = :today OR f.broken_settled_at >= :broken_since
           OR f.follow_up_date <= :today OR f.max_dpd > 0)
),
total AS (SELECT count(*) AS n FROM ranked)
SELECT total.n AS total, page.*, cv.name
FROM total
LEFT JOIN LATERAL (
    SELECT r.* FROM ranked r
    ORDER BY r.priority, r.max_dpd DESC, r.total_due DESC, r.cif
    LIMIT :limit OFFSET :offset
) page ON true
LEFT JOIN workflow.customer_view cv ON cv.cif = page.cif
ORDER BY page.priority, page.max_dpd DESC, page.total_due DESC, page.cif
"""
)


async def workload(
    session: AsyncSession, agent_id: uuid.UUID, *, today: date, day_start: datetime, day_end: datetime
) -> Row[Any]:
    params = {"agent_id": agent_id, "today": today, "day_start": day_start, "day_end": day_end}
    return (await session.execute(WORKLOAD, params)).one()


async def actions_in_range(
    session: AsyncSession, agent_id: uuid.UUID, *, start: datetime, end: datetime
) -> list[Row[Any]]:
    params = {"agent_id": agent_id, "start": start, "end": end}
    return list((await session.execute(ACTIONS_IN_RANGE, params)).all())


async def amount_promised(
    session: AsyncSession, agent_id: uuid.UUID, *, start: datetime, end: datetime
) -> list[Row[Any]]:
    params = {"agent_id": agent_id, "start": start, "end": end}
    return list((await session.execute(AMOUNT_PROMISED, params)).all())


async def promises_settled(
    session: AsyncSession, agent_id: uuid.UUID, *, start: datetime, end: datetime
) -> Row[Any]:
    params = {"agent_id": agent_id, "start": start, "end": end}
    return (await session.execute(PROMISES_SETTLED, params)).one()


async def amount_collected(
    session: AsyncSession, agent_id: uuid.UUID, *, start: datetime, end: datetime
) -> list[Row[Any]]:
    params = {"agent_id": agent_id, "start": start, "end": end}
    return list((await session.execute(AMOUNT_COLLECTED, params)).all())


async def queue(
    session: AsyncSession,
    agent_id: uuid.UUID,
    *,
    today: date,
    day_start: datetime,
    day_end: datetime,
    broken_since: datetime,
    offset: int,
    limit: int,
) -> list[Row[Any]]:
    params = {
        "agent_id": agent_id,
        "today": today,
        "day_start": day_start,
        "day_end": day_end,
        "broken_since": broken_since,
        "offset": offset,
        "limit": limit,
    }
    return list((await session.execute(QUEUE, params)).all())

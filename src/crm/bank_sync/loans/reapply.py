"""A nightly load replaces a loan's balances with the core's snapshot; the payments made since the
snapshot's cut (the start of the business day on which the sync run read it) are not in it, so they
are taken off the fresh balances again, in the order they were made, each never below zero.

What each payment takes now is what its reversal will put back (``loan_payment_applied``). Only the
loans this load wrote are touched: their ``last_synced_at`` is the load's time. It runs in the
load's transaction, which holds those loans' rows, so a payment the balance consumer applies
meanwhile waits for the commit and is then taken off the new snapshot once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crm.platform.business_time import snapshot_cut

REAPPLY = """
WITH since AS (
    SELECT a.payment_reference_number AS reference, a.amount, l.outstanding, l.due_amount,
           coalesce(sum(a.amount) OVER (
               PARTITION BY a.loan_account_number ORDER BY a.paid_at, a.payment_reference_number
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM bank_sync.loan_payment_applied a
    JOIN bank_sync.loan l ON l.account_number = a.loan_account_number
    WHERE a.reversed_at IS NULL AND a.paid_at >= $2 AND l.last_synced_at = $1
), taken AS (
    UPDATE bank_sync.loan_payment_applied p
    SET applied_outstanding = least(s.amount, greatest(s.outstanding - s.before, 0)),
        applied_due = least(s.amount, greatest(s.due_amount - s.before, 0))
    FROM since s
    WHERE p.payment_reference_number = s.reference
    RETURNING p.loan_account_number, p.applied_outstanding, p.applied_due
)
UPDATE bank_sync.loan l
SET outstanding = l.outstanding - t.outstanding,
    due_amount = l.due_amount - t.due,
    remaining_amount = greatest((l.outstanding - t.outstanding) - (l.due_amount - t.due), 0)
FROM (SELECT loan_account_number, sum(applied_outstanding) AS outstanding, sum(applied_due) AS due
      FROM taken GROUP BY loan_account_number) t
WHERE l.account_number = t.loan_account_number
"""


async def reapply_payments_since_snapshot(raw: Any, loaded_at: datetime, tz: ZoneInfo) -> int:
    """Take the payments made since the cut off the loans loaded at ``loaded_at`` (an asyncpg
    connection inside the load's transaction); how many loans changed."""
    status: str = await raw.execute(REAPPLY, loaded_at, snapshot_cut(loaded_at, tz))
    return int(status.split()[-1])

"""Payments into the read model: a batch of PaymentEvents in a few set-based statements.

Per event, recording a payment cost an insert, a lock and an update of its loan (whose statement
trigger refreshed the customer's queue facts each time) and a search of the customer's promises:
~13 ms an event, so workflow's screens fell minutes behind a payment burst. A batch is now:
1. one read of the payments already known among the batch's references (for the loans their
   reversals touch), one ``SELECT ... ORDER BY account_number FOR UPDATE`` of every loan in the view
   the batch moves, then the known payments again, locked;
2. the rules in Python, event after event in the batch's order (``service`` explains them: what a
   payment takes off its loan, never below zero; a reversal puts back what it took; a reference is
   recorded once);
3. one insert of the new payments, one update of the reversed ones, and one update of the loans'
   balances, so the queue facts of the batch's customers are refreshed once, by one statement.
The promises these payments count for are settled once per batch afterwards
(``promises.service.reevaluate_for_payments``). Balances and payments come out as if the events had
been applied one by one in that order (``tests/workflow`` checks it with random batches).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, any_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.batch_sql import ChangedMeanwhile, insert_new, keys, lock_rows, update_rows
from crm.platform.business_time import snapshot_includes
from crm.platform.db import utcnow
from crm.platform.events import PaymentEvent
from crm.platform.logging import get_logger
from crm.workflow.readmodel.models import LoanView, PaymentView

log = get_logger("crm.workflow.readmodel")

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RECEIVED, REVERSED = "RECEIVED", "REVERSED"
_LOANS: Table = LoanView.__table__  # type: ignore[assignment]
_PAYMENTS: Table = PaymentView.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class AppliedPayment:
    """A payment whose state in ``payment_view`` this event changed (for re-evaluating promises)."""

    cif: str
    loan_account_number: str
    payment_date: datetime
    counted: Decimal
    """What it changed in the sum of RECEIVED payments: its amount when received, minus when reversed."""


def payment_date(event: PaymentEvent) -> datetime:
    return event.payment_date or event.timestamp


class _Batch:
    def __init__(
        self,
        loans: dict[str, dict[str, Any]],
        known: dict[str, dict[str, Any]],
        tz: ZoneInfo,
        locked: set[str],
    ):
        self.loans, self.known, self.tz = loans, known, tz
        self.locked = locked  # the loans asked for (those in the view are in ``loans``)
        self.new: dict[str, dict[str, Any]] = {}
        self.reversed: list[str] = []
        self.moved: set[str] = set()
        self.now = utcnow()

    def _row(self, event: PaymentEvent, status: str) -> dict[str, Any]:
        row: dict[str, Any] = {
            "reference_number": event.payment_reference_number,
            "cif": event.cif,
            "loan_account_number": event.loan_account_number,
            "amount": event.amount,
            "currency": event.currency,
            "payment_date": payment_date(event),
            "status": status,
            "applied_outstanding": ZERO,
            "applied_due": ZERO,
            "updated_at": self.now,
        }
        self.known[row["reference_number"]] = self.new[row["reference_number"]] = row
        return row

    def receive(self, event: PaymentEvent) -> AppliedPayment | None:
        if event.payment_reference_number in self.known:
            log.info("payment_already_known", reference=event.payment_reference_number)
            return None
        row = self._row(event, RECEIVED)
        loan = self.loans.get(event.loan_account_number)
        amount = event.amount.quantize(CENT, rounding=ROUND_HALF_UP)
        if loan is not None and loan["currency"] == event.currency and amount > ZERO:
            if snapshot_includes(row["payment_date"], loan["synced_at"], self.tz):
                log.info("payment_in_snapshot", reference=event.payment_reference_number)
            else:
                row["applied_outstanding"] = min(amount, max(loan["outstanding"], ZERO))
                row["applied_due"] = min(amount, max(loan["due_amount"], ZERO))
                self._move(loan, -row["applied_outstanding"], -row["applied_due"])
        return AppliedPayment(event.cif, event.loan_account_number, row["payment_date"], event.amount)

    def reverse(self, event: PaymentEvent) -> AppliedPayment | None:
        row = self.known.get(event.payment_reference_number)
        if row is None:
            self._row(event, REVERSED)
            log.info("reversal_of_unreceived_payment", reference=event.payment_reference_number)
            return None
        if row["status"] != RECEIVED:
            return None
        if row["loan_account_number"] not in self.locked:  # recorded meanwhile, for a loan not locked
            raise ChangedMeanwhile(f"payment {row['reference_number']} was recorded meanwhile")
        row["status"] = REVERSED
        row["updated_at"] = self.now
        if row["reference_number"] not in self.new:
            self.reversed.append(row["reference_number"])
        full = max(row["amount"], ZERO)
        outstanding = full if row["applied_outstanding"] is None else row["applied_outstanding"]
        due = full if row["applied_due"] is None else row["applied_due"]
        loan = self.loans.get(row["loan_account_number"])
        if loan is not None and loan["currency"] == row["currency"] and (outstanding > ZERO or due > ZERO):
            self._move(loan, outstanding, due)
        return AppliedPayment(row["cif"], row["loan_account_number"], row["payment_date"], -row["amount"])

    def _move(self, loan: dict[str, Any], outstanding: Decimal, due: Decimal) -> None:
        loan["outstanding"] += outstanding
        loan["due_amount"] += due
        self.moved.add(loan["account_number"])

    async def write(self, session: AsyncSession) -> None:
        await insert_new(session, _PAYMENTS, "reference_number", list(self.new.values()))
        if self.reversed:
            await session.execute(
                update(_PAYMENTS)
                .where(_PAYMENTS.c.reference_number == any_(keys(self.reversed)))
                .values(status=REVERSED, updated_at=func.now())
            )
        moved = [self.loans[account] for account in sorted(self.moved)]
        await update_rows(
            session, _LOANS, "account_number", moved, ["outstanding", "due_amount"], updated_at=self.now
        )


async def _known(session: AsyncSession, references: list[str], *, lock: bool) -> dict[str, dict[str, Any]]:
    query = select(_PAYMENTS).where(_PAYMENTS.c.reference_number == any_(keys(references)))
    if lock:
        query = query.order_by(_PAYMENTS.c.reference_number).with_for_update()
    return {row.reference_number: dict(row._mapping) for row in await session.execute(query)}


async def record_payments(
    session: AsyncSession, events: list[PaymentEvent], *, tz: ZoneInfo
) -> list[AppliedPayment]:
    """Record received and reversed payments and move their loans' balances, in this order, each
    reference once; the payments whose state changed (for their promises)."""
    if not events:
        return []
    references = list(dict.fromkeys(e.payment_reference_number for e in events))
    before = await _known(session, references, lock=False)
    accounts = {e.loan_account_number for e in events} | {r["loan_account_number"] for r in before.values()}
    loans = {
        loan["account_number"]: loan
        for loan in await lock_rows(session, _LOANS, "account_number", list(accounts))
    }
    batch = _Batch(loans, await _known(session, references, lock=True), tz, accounts)
    changed = [
        batch.receive(e) if e.type == "PAYMENT_RECEIVED" else batch.reverse(e)
        for e in events
        if e.type in ("PAYMENT_RECEIVED", "PAYMENT_REVERSED")
    ]
    await batch.write(session)
    return [payment for payment in changed if payment is not None]

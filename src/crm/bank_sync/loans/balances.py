"""Loans' balances moved by payments: a batch of payments and reversals in a few set-based statements.

A payment burst reaches bank-sync as batches of PaymentEvents (the loan-balance consumer). Applied one
statement at a time, each event cost five round trips and an ORM flush, ~5 ms of Python: the
balances fell minutes behind the payments at busy hours. Here a whole batch is:
1. one read of the payments already applied among the batch's references (for the loans reversals
   name), then one ``SELECT ... ORDER BY account_number FOR UPDATE`` of every loan the batch moves
   (one lock order for every process: two batches never wait for each other in a cycle), then the
   applied payments again, now that no other writer can change those loans' rows;
2. the rules applied in Python, event after event in the batch's order, on those rows: a payment
   takes what it can off outstanding and due (never below zero; nothing when the loan's snapshot
   already includes it, the loan is unknown or in another currency, or the reference was applied);
   a reversal puts back exactly what its payment took;
3. one insert of the applied payments, one update of the reversed ones, one update of the loans'
   balances, and one insert of the audit rows (one per balance moved, the loan before and after, as
   the audit trail's flush hook writes them).
The result is the same as applying the events one by one, in that order (``tests/bank_sync`` checks
it with random batches).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, any_, func, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.loans.models import Loan, LoanPaymentApplied
from crm.bank_sync.models import platform_tables
from crm.platform.batch_sql import ChangedMeanwhile, insert_new, keys, lock_rows, update_rows
from crm.platform.business_time import snapshot_includes
from crm.platform.db import utcnow
from crm.platform.logging import get_logger
from crm.platform.rows import audit_row, jsonable

log = get_logger("crm.bank_sync.loans")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
BALANCE_UPDATER = "SYSTEM"
RECEIVED, REVERSED = "RECEIVED", "REVERSED"

_LOAN: Table = Loan.__table__  # type: ignore[assignment]
_APPLIED: Table = LoanPaymentApplied.__table__  # type: ignore[assignment]
# The audit trail's view of a loan: attribute name -> column name, without what it leaves out.
_AUDITED = [
    (attr.key, attr.columns[0].name)
    for attr in inspect(Loan).column_attrs
    if attr.key not in getattr(Loan, "__audit_exclude__", ())
]


@dataclass(frozen=True)
class Move:
    """One payment event as the balances see it."""

    kind: str  # RECEIVED or REVERSED
    reference: str
    account: str
    amount: Decimal
    currency: str
    paid_at: datetime


# What a balance move changes, of that view.
_MOVED = [
    (key, column)
    for key, column in _AUDITED
    if column in {"outstanding", "due_amount", "remaining_amount", "updated_by", "sync_hash", "updated_at"}
]


def _audited(loan: dict[str, Any], columns: list[tuple[str, str]] = _AUDITED) -> dict[str, Any]:
    return jsonable({key: loan[column] for key, column in columns})


class _Batch:
    """The loans and applied payments a batch touches, and what it changed, in memory."""

    def __init__(self, loans: dict[str, dict[str, Any]], applied: dict[str, dict[str, Any]], tz: ZoneInfo):
        self.loans, self.applied, self.tz = loans, applied, tz
        self.new: dict[str, dict[str, Any]] = {}
        self.reversed: list[str] = []
        self.audit: list[dict[str, Any]] = []
        self.moved: set[str] = set()
        self.views: dict[str, dict[str, Any]] = {}
        """Each moved loan's audited view as JSON after its last move: the next move's "before", so
        that a whole loan is turned into JSON once per batch, not twice per payment."""
        self.now = utcnow()

    def receive(self, move: Move) -> bool:
        amount = move.amount.quantize(CENT, rounding=ROUND_HALF_UP)
        if amount <= ZERO:
            log.warning("payment_not_positive", reference=move.reference, amount=str(amount))
            return False
        loan = self.loans.get(move.account)
        if loan is None:
            log.warning("payment_for_unknown_loan", reference=move.reference, loan=move.account)
            return False
        if move.currency != loan["currency"]:
            log.warning(
                "payment_in_other_currency",
                reference=move.reference,
                loan=move.account,
                payment_currency=move.currency,
                loan_currency=loan["currency"],
            )
            return False
        if move.reference in self.applied:
            log.info("payment_already_applied", reference=move.reference, loan=move.account)
            return False
        if snapshot_includes(move.paid_at, loan["last_synced_at"], self.tz):
            log.info("payment_in_snapshot", reference=move.reference, loan=move.account)
            taken_outstanding = taken_due = ZERO
        else:
            taken_outstanding = min(amount, loan["outstanding"])
            taken_due = min(amount, loan["due_amount"])
        row = {
            "payment_reference_number": move.reference,
            "loan_account_number": move.account,
            "applied_outstanding": taken_outstanding,
            "applied_due": taken_due,
            "amount": amount,
            "paid_at": move.paid_at,
            "applied_at": self.now,
            "reversed_at": None,
        }
        self.applied[move.reference] = self.new[move.reference] = row
        if not (taken_outstanding or taken_due):
            return False
        self._set(move.reference, loan, -taken_outstanding, -taken_due)
        return True

    def reverse(self, move: Move) -> bool:
        row = self.applied.get(move.reference)
        if row is None:
            log.info("reversal_of_unapplied_payment", reference=move.reference)
            return False
        if row["reversed_at"] is not None:
            log.info("payment_already_reversed", reference=move.reference)
            return False
        loan = self.loans.get(row["loan_account_number"])
        if loan is None:  # applied to a loan this batch did not lock, after its first read
            raise ChangedMeanwhile(f"payment {move.reference} was applied meanwhile")
        row["reversed_at"] = self.now
        if move.reference not in self.new:
            self.reversed.append(move.reference)
        self._set(move.reference, loan, row["applied_outstanding"], row["applied_due"])
        return True

    def _set(self, reference: str, loan: dict[str, Any], outstanding: Decimal, due: Decimal) -> None:
        account = loan["account_number"]
        before = self.views.get(account) or _audited(loan)
        loan["outstanding"] += outstanding
        loan["due_amount"] += due
        loan["remaining_amount"] = max(loan["outstanding"] - loan["due_amount"], ZERO)
        loan["updated_by"] = BALANCE_UPDATER
        loan["sync_hash"] = None  # the next sync must compare (and restore) the core's values
        loan["updated_at"] = self.now
        self.moved.add(account)
        after = self.views[account] = {**before, **_audited(loan, _MOVED)}
        self.audit.append(
            audit_row(action="UPDATE", entity_type="Loan", entity_key=account, before=before, after=after)
        )

    async def write(self, session: AsyncSession) -> None:
        await insert_new(session, _APPLIED, "payment_reference_number", list(self.new.values()))
        if self.reversed:
            await session.execute(
                update(_APPLIED)
                .where(
                    _APPLIED.c.payment_reference_number == any_(keys(self.reversed)),
                    _APPLIED.c.reversed_at.is_(None),
                )
                .values(reversed_at=func.now())
            )
        await update_rows(
            session,
            _LOAN,
            "account_number",
            [self.loans[account] for account in sorted(self.moved)],
            ["outstanding", "due_amount", "remaining_amount"],
            updated_by=BALANCE_UPDATER,
            updated_at=self.now,
            sync_hash=None,
        )
        if self.audit:
            await session.execute(insert(platform_tables.audit_log), self.audit)


async def _applied(session: AsyncSession, references: list[str]) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        select(_APPLIED).where(_APPLIED.c.payment_reference_number == any_(keys(references)))
    )
    return {row.payment_reference_number: dict(row._mapping) for row in rows}


async def move_balances(session: AsyncSession, moves: list[Move], *, tz: ZoneInfo) -> list[bool]:
    """Apply payments and reversals to their loans' balances, in this order, each at most once; for
    each, whether it moved a balance."""
    if not moves:
        return []
    references = list(dict.fromkeys(move.reference for move in moves))
    known = await _applied(session, [m.reference for m in moves if m.kind == REVERSED])
    accounts = {m.account for m in moves if m.kind == RECEIVED} | {
        row["loan_account_number"] for row in known.values()
    }
    locked = await lock_rows(session, _LOAN, "account_number", list(accounts))
    loans = {loan["account_number"]: loan for loan in locked}
    batch = _Batch(loans, await _applied(session, references), tz)
    moved = [batch.receive(m) if m.kind == RECEIVED else batch.reverse(m) for m in moves]
    await batch.write(session)
    return moved

"""Keeping workflow's read model current: customers and loans from bank-sync, payments from their events.

``customer_view`` / ``loan_view`` hold what bank-sync's API answered the last time a SyncEvent
named the key (read through its lookup routes, 1,000 keys a request; a key bank-sync no longer
knows is removed); a PaymentEvent moves the loan's balances at once, before the next nightly sync
confirms them. ``payment_view`` has one row per payment reference: RECEIVED, or REVERSED once a
reversal arrived (then it counts for nothing); it keeps what the payment actually took off the
loan's balances, which is what its reversal puts back.

A payment the loan's snapshot already includes takes nothing off it: a snapshot read by a sync run
on business day S (``synced_at``) describes the days before S, so the core's own payments of those
days, imported after the night's loans, are recorded (promises, amounts collected) but not counted
twice (``crm.platform.business_time.snapshot_includes``; bank-sync keeps its loans by the same rule).
A reversal puts back what its payment took: nothing for such a payment, as the core's next
snapshot has the reversal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.business_time import snapshot_includes
from crm.platform.db import utcnow
from crm.platform.events import PaymentEvent
from crm.platform.logging import get_logger
from crm.workflow.bank_data import LOOKUP_CHUNK, BankDataQueryService
from crm.workflow.readmodel.models import CustomerView, LoanView, PaymentView

log = get_logger("crm.workflow.readmodel")

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
RECEIVED, REVERSED = "RECEIVED", "REVERSED"

Document = dict[str, Any]


def _customer_row(document: Document) -> dict[str, Any]:
    return {
        "cif": document["cif"],
        "name": document["name"],
        "segment": document.get("segment"),
        "status": document.get("status"),
    }


def _loan_row(document: Document) -> dict[str, Any]:
    synced = document.get("lastSyncedAt")
    return {
        "account_number": document["accountNumber"],
        "cif": document["cif"],
        "product_type": document.get("productType"),
        "currency": document["currency"],
        "outstanding": Decimal(str(document["outstanding"])),
        "due_amount": Decimal(str(document["dueAmount"])),
        "dpd": int(document["dpd"]),
        "status": document["status"],
        # A record no sync run has seen yet is as current as it gets now.
        "synced_at": datetime.fromisoformat(synced) if synced else utcnow(),
    }


async def _upsert(
    session: AsyncSession, model: type[CustomerView | LoanView], rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    statement = insert(model).values(rows)
    key = "cif" if model is CustomerView else "account_number"
    changed = {name: statement.excluded[name] for name in rows[0] if name != key}
    await session.execute(
        statement.on_conflict_do_update(index_elements=[key], set_={**changed, "updated_at": func.now()})
    )


async def store_customers(session: AsyncSession, documents: dict[str, Document | None]) -> None:
    """Upsert the customers bank-sync answered, delete those it no longer knows."""
    await _upsert(session, CustomerView, [_customer_row(d) for d in documents.values() if d is not None])
    gone = [cif for cif, d in documents.items() if d is None]
    if gone:
        await session.execute(delete(CustomerView).where(CustomerView.cif.in_(gone)))
    await session.flush()


async def store_loans(session: AsyncSession, documents: dict[str, Document | None]) -> None:
    """Upsert the loans bank-sync answered, delete those it no longer knows."""
    await _upsert(session, LoanView, [_loan_row(d) for d in documents.values() if d is not None])
    gone = [account for account, d in documents.items() if d is None]
    if gone:
        await session.execute(delete(LoanView).where(LoanView.account_number.in_(gone)))
    await session.flush()


def _chunks(keys: Iterable[str]) -> Iterable[list[str]]:
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        yield unique[start : start + LOOKUP_CHUNK]


async def refresh_customers(session: AsyncSession, bank_data: BankDataQueryService, cifs: list[str]) -> None:
    """Read the changed customers from bank-sync, one lookup per 1,000 CIFs, and store them; a CIF
    bank-sync does not answer leaves the view. ``ServiceUnavailable`` propagates (the event is
    retried rather than emptying the view)."""
    for chunk in _chunks(cifs):
        found = await bank_data.customers(chunk)
        await store_customers(session, {cif: found.get(cif) for cif in chunk})


async def refresh_loans(session: AsyncSession, bank_data: BankDataQueryService, accounts: list[str]) -> None:
    """Read the changed loans from bank-sync, one lookup per 1,000 account numbers, and store them;
    an account number bank-sync does not answer leaves the view. ``ServiceUnavailable`` propagates."""
    for chunk in _chunks(accounts):
        found = await bank_data.loans(chunk)
        await store_loans(session, {account: found.get(account) for account in chunk})


@dataclass(frozen=True)
class AppliedPayment:
    """A payment whose state in ``payment_view`` this event changed (for re-evaluating promises)."""

    cif: str
    loan_account_number: str
    payment_date: datetime


def _payment_date(event: PaymentEvent) -> datetime:
    return event.payment_date or event.timestamp


async def _take_from_loan(
    session: AsyncSession, event: PaymentEvent, tz: ZoneInfo
) -> tuple[Decimal, Decimal]:
    """Take the payment off its loan's outstanding and due amounts, never below zero; what was taken.

    Nothing (0, 0) when the loan is not in the view, is in another currency, its snapshot already
    includes the payment (made before the snapshot's cut), or the amount is not positive.
    """
    loan = await session.scalar(
        select(LoanView)
        .where(LoanView.account_number == event.loan_account_number, LoanView.currency == event.currency)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    amount = event.amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if loan is None or amount <= ZERO:
        return ZERO, ZERO
    if snapshot_includes(_payment_date(event), loan.synced_at, tz):
        log.info("payment_in_snapshot", reference=event.payment_reference_number)
        return ZERO, ZERO
    taken_outstanding = min(amount, max(loan.outstanding, ZERO))
    taken_due = min(amount, max(loan.due_amount, ZERO))
    loan.outstanding -= taken_outstanding
    loan.due_amount -= taken_due
    return taken_outstanding, taken_due


async def _put_back_on_loan(
    session: AsyncSession, account_number: str, currency: str, outstanding: Decimal, due: Decimal
) -> None:
    """Add back to the loan's outstanding and due amounts what a reversed payment had taken."""
    if outstanding <= ZERO and due <= ZERO:
        return
    await session.execute(
        update(LoanView)
        .where(LoanView.account_number == account_number, LoanView.currency == currency)
        .values(
            outstanding=LoanView.outstanding + outstanding,
            due_amount=LoanView.due_amount + due,
            updated_at=func.now(),
        )
    )


def _new_payment(event: PaymentEvent, status: str) -> Insert:
    """Insert the event's payment, having taken nothing yet, unless its reference is already known."""
    return (
        insert(PaymentView)
        .values(
            reference_number=event.payment_reference_number,
            cif=event.cif,
            loan_account_number=event.loan_account_number,
            amount=event.amount,
            currency=event.currency,
            payment_date=_payment_date(event),
            status=status,
            applied_outstanding=ZERO,
            applied_due=ZERO,
        )
        .on_conflict_do_nothing(index_elements=[PaymentView.reference_number])
    )


async def record_payment_received(
    session: AsyncSession, event: PaymentEvent, *, tz: ZoneInfo
) -> AppliedPayment | None:
    """Store a received payment once per reference and take it off its loan's balances.

    What it took (after the never-below-zero clamp; nothing for a loan not in the view, in another
    currency, or whose snapshot already includes the payment) is kept on the payment
    (``applied_outstanding`` / ``applied_due``) for its reversal.
    ``None`` when the reference was already known (a second delivery, or a reversal that came
    first): nothing changes.
    """
    recorded = await session.scalar(_new_payment(event, RECEIVED).returning(PaymentView.reference_number))
    if recorded is None:
        log.info("payment_already_known", reference=event.payment_reference_number)
        return None
    taken_outstanding, taken_due = await _take_from_loan(session, event, tz)
    if taken_outstanding or taken_due:
        await session.execute(
            update(PaymentView)
            .where(PaymentView.reference_number == event.payment_reference_number)
            .values(applied_outstanding=taken_outstanding, applied_due=taken_due)
        )
    await session.flush()
    return AppliedPayment(event.cif, event.loan_account_number, _payment_date(event))


async def record_payment_reversed(session: AsyncSession, event: PaymentEvent) -> AppliedPayment | None:
    """Mark a received payment REVERSED and put back on its loan exactly what it took; once per reference.

    A payment stored before ``applied_outstanding`` / ``applied_due`` existed (NULL) puts back its
    full amount. A reversal of a payment workflow never heard of is stored as REVERSED (having taken
    nothing), so that the payment arriving later counts for nothing. ``None`` when nothing changed.
    """
    reversed_row = (
        await session.execute(
            update(PaymentView)
            .where(
                PaymentView.reference_number == event.payment_reference_number,
                PaymentView.status == RECEIVED,
            )
            .values(status=REVERSED, updated_at=func.now())
            .returning(
                PaymentView.cif,
                PaymentView.loan_account_number,
                PaymentView.amount,
                PaymentView.currency,
                PaymentView.payment_date,
                PaymentView.applied_outstanding,
                PaymentView.applied_due,
            )
        )
    ).one_or_none()
    if reversed_row is None:
        await session.execute(_new_payment(event, REVERSED))
        log.info("reversal_of_unreceived_payment", reference=event.payment_reference_number)
        await session.flush()
        return None
    full = max(reversed_row.amount, ZERO)
    await _put_back_on_loan(
        session,
        reversed_row.loan_account_number,
        reversed_row.currency,
        full if reversed_row.applied_outstanding is None else reversed_row.applied_outstanding,
        full if reversed_row.applied_due is None else reversed_row.applied_due,
    )
    await session.flush()
    return AppliedPayment(reversed_row.cif, reversed_row.loan_account_number, reversed_row.payment_date)


async def loan_view(session: AsyncSession, account_number: str) -> LoanView | None:
    """One loan of the read model."""
    return await session.scalar(select(LoanView).where(LoanView.account_number == account_number))

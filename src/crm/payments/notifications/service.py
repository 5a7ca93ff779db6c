"""Receiving a payment notification: check it, store it once, announce it (docs/api.md, issue 4).

The flow of a signed notification (the signature is checked by the router, before anything else):
1. business rules: a known currency, a payment date not in the future beyond a small clock skew;
2. a COMPLETED payment must be for a loan bank-sync knows, of that customer, in that currency; if
   bank-sync cannot be reached the money is not refused: the payment is stored PENDING and
   confirmed by ``confirm_pending`` once bank-sync answers;
3. stored once per reference number (concurrent twins: the unique index lets one insert win);
   a known reference is either the same notification again (no second effect) or a status
   change the processor may make (PENDING -> COMPLETED or FAILED, COMPLETED -> REVERSED);
4. the PaymentEvent goes into the outbox in the same transaction: PAYMENT_RECEIVED moves the loan
   balance in bank-sync and the promises in workflow; FAILED and REVERSED are announced too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.payments.ledger.insert import insert_payment_autocommit, new_payment
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentRead, PaymentStatus
from crm.payments.ledger.service import announce
from crm.payments.notifications.loans import LoanDirectory
from crm.payments.notifications.schemas import PaymentNotification
from crm.platform.db import Database
from crm.platform.errors import BusinessRuleViolation, Conflict, NotFound, ServiceUnavailable
from crm.platform.logging import get_logger
from crm.platform.outbox import Outbox
from crm.platform.problems import declare

NOT_STORED = declare("payment.not_stored", "Payment {reference} could not be stored; send it again.")
REFERENCE_REUSED = declare(
    "payment.reference_reused",
    "Payment {reference} is already known with another {fields}; a reference number is used once.",
)
STATUS_CHANGE_REFUSED = declare(
    "payment.status_change_refused", "Payment {reference} is {status}; it cannot become {to}."
)

log = get_logger("crm.payments.notifications")
ACTOR = "payment-processor"
TRANSITIONS = {
    (PaymentStatus.PENDING, PaymentStatus.COMPLETED),
    (PaymentStatus.PENDING, PaymentStatus.FAILED),
    (PaymentStatus.COMPLETED, PaymentStatus.REVERSED),
}
_SAME_PAYMENT = ("loan_account_number", "cif", "amount", "currency")


@dataclass(frozen=True)
class Rules:
    currencies: frozenset[str]
    clock_skew: timedelta


@dataclass
class Received:
    payment: PaymentRead
    created: bool


def _refuse(field: str, message: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(message, errors=[{"field": field, "message": message}])


def check_rules(data: PaymentNotification, rules: Rules, now: datetime) -> None:
    if data.currency not in rules.currencies:
        raise _refuse("currency", f"{data.currency} is not a currency payments are accepted in.")
    if data.payment_date > now + rules.clock_skew:
        raise _refuse("paymentDate", "The payment date is in the future.")


async def check_loan(data: PaymentNotification, loans: LoanDirectory) -> bool:
    """True when bank-sync confirms the loan; False when bank-sync cannot be asked now."""
    try:
        loan = await loans.get(data.loan_account_number)
    except NotFound:
        raise _refuse(
            "loanAccountNumber", f"Loan {data.loan_account_number} is not known to the bank."
        ) from None
    except ServiceUnavailable as exc:
        log.warning("payment_loan_unconfirmed", reference=data.reference_number, reason=str(exc))
        return False
    if loan.cif != data.cif:
        raise _refuse("cif", f"Loan {data.loan_account_number} is not a loan of customer {data.cif}.")
    if loan.currency != data.currency:
        raise _refuse("currency", f"Loan {data.loan_account_number} is in {loan.currency}.")
    return True


async def receive(
    db: Database,
    pool: asyncpg.Pool,
    outbox: Outbox,
    loans: LoanDirectory,
    data: PaymentNotification,
    *,
    rules: Rules,
    now: datetime,
    request: Any = None,
) -> Received:
    """``pool``: a plain asyncpg pool for the insert of a new payment (one autocommit round trip,
    ``ledger.insert``); ``db`` for a reference already known. ``request`` gives audit rows their
    request id."""
    check_rules(data, rules, now)
    # The loan first, before any transaction holds a connection while bank-sync answers.
    confirmed = True
    if data.status == PaymentStatus.COMPLETED:
        confirmed = await check_loan(data, loans)
    values = new_payment(data, actor=ACTOR, awaiting_loan_check=not confirmed, editable=False)
    created = await insert_payment_autocommit(pool, outbox, values, request=request, public_actor=ACTOR)
    if created is not None:
        return Received(
            PaymentRead.model_validate({f: created[f] for f in PaymentRead.model_fields}), created=True
        )
    async with db.transaction() as session:
        session.info["request"] = request
        # Known already (or a concurrent twin just won the insert): a repeat, a status change or a clash.
        stored = await _locked(session, data.reference_number)
        if stored is None:  # pragma: no cover - the insert found it, so it exists
            raise Conflict.of(NOT_STORED, reference=data.reference_number)
        known = await _known(session, outbox, stored, data)
        return Received(PaymentRead.model_validate(known), created=False)


async def _locked(session: AsyncSession, reference_number: str) -> Payment | None:
    return await session.scalar(
        select(Payment)
        .where(Payment.reference_number == reference_number)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _known(
    session: AsyncSession, outbox: Outbox, stored: Payment, data: PaymentNotification
) -> Payment:
    """The same reference again: a repeat (no effect), an allowed status change, or a conflict."""
    differs = [f for f in _SAME_PAYMENT if getattr(stored, f) != getattr(data, f)]
    if differs:
        raise Conflict.of(REFERENCE_REUSED, reference=data.reference_number, fields=", ".join(differs))
    old, new = PaymentStatus(stored.status), data.status
    if old == new or (
        old == PaymentStatus.PENDING and stored.loan_check_pending and new == PaymentStatus.COMPLETED
    ):
        return stored  # the same notification again (or again while its loan is being confirmed)
    if (old, new) not in TRANSITIONS:
        raise Conflict.of(
            STATUS_CHANGE_REFUSED, reference=data.reference_number, status=old.value, to=new.value
        )
    await _set_status(session, outbox, stored, new, data.status_reason)
    return stored


async def _set_status(
    session: AsyncSession, outbox: Outbox, payment: Payment, status: PaymentStatus, reason: str | None
) -> None:
    before = {"status": payment.status, "status_reason": payment.status_reason}
    payment.status, payment.status_reason = status.value, reason
    payment.loan_check_pending = False
    payment.updated_by = ACTOR
    await session.flush()
    after = {"status": payment.status, "status_reason": payment.status_reason}
    await announce(session, outbox, payment, action="UPDATE", before=before, after=after)


async def confirm_pending(db: Database, outbox: Outbox, loans: LoanDirectory, *, batch: int = 200) -> int:
    """Confirm payments stored while bank-sync could not be reached; returns how many were settled.

    A confirmed loan makes the payment COMPLETED (and PAYMENT_RECEIVED goes out); a loan bank-sync
    does not know leaves it PENDING with the reason, for a person to look at (the money arrived and
    is not thrown away); bank-sync still unreachable leaves it for the next round."""
    settled = 0
    async with db.transaction() as session:
        waiting = (
            await session.scalars(
                select(Payment)
                .where(Payment.loan_check_pending)
                .order_by(Payment.created_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for payment in waiting:
            data = PaymentNotification.model_validate(payment, from_attributes=True).model_copy(
                update={"status": PaymentStatus.COMPLETED}
            )
            try:
                if not await check_loan(data, loans):
                    break  # bank-sync still away: try again later
            except BusinessRuleViolation as refused:
                payment.loan_check_pending = False
                payment.status_reason = f"Needs review: {refused.detail}"
                log.warning("payment_loan_refused", reference=payment.reference_number, reason=refused.detail)
                settled += 1
                continue
            await _set_status(session, outbox, payment, PaymentStatus.COMPLETED, None)
            settled += 1
    return settled

"""Settling promises to pay: KEPT when the customer's payments reach the amount, BROKEN when the date passes.

Payments come from the read model's ``payment_view`` (RECEIVED only). A promise that names a loan
counts the payments of that loan; one without a loan counts every payment of the customer. The
payments that count are those dated from the moment the promise was made to the end of its
promise date in the business time zone.

Events (through the outbox, in the transaction that changes the promise):
``PROMISE_KEPT`` and ``PROMISE_BROKEN`` with ``details`` {promiseAmount, promiseDate, paidAmount};
a KEPT promise that a reversal sends back to OPEN (its date not passed yet) is announced as
``STATUS_CHANGED`` with ``details`` {promiseStatus: "OPEN", previousPromiseStatus: "KEPT", ...}.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.business_time import business_date
from crm.platform.db import Database, utcnow
from crm.platform.events import WorkflowEvent
from crm.platform.logging import get_logger
from crm.platform.outbox import Outbox
from crm.platform.settings import PlatformSettings
from crm.workflow.actions.models import ActionRecord
from crm.workflow.promises.rules import BROKEN, KEPT, OPEN, settled_status, window_end
from crm.workflow.readmodel.models import PaymentView
from crm.workflow.readmodel.service import RECEIVED, AppliedPayment

log = get_logger("crm.workflow.promises")

SYSTEM_ACTOR = "system"
PromiseEvent = Literal["PROMISE_KEPT", "PROMISE_BROKEN", "STATUS_CHANGED"]
BREAK_BATCH = 500


async def paid_towards(session: AsyncSession, promise: ActionRecord, tz: ZoneInfo) -> Decimal:
    """The RECEIVED payments that count for a promise, summed."""
    assert promise.promise_date is not None
    conditions = [
        PaymentView.cif == promise.cif,
        PaymentView.status == RECEIVED,
        PaymentView.payment_date >= promise.action_date,
        PaymentView.payment_date < window_end(promise.promise_date, tz),
    ]
    if promise.loan_account_number is not None:
        conditions.append(PaymentView.loan_account_number == promise.loan_account_number)
    total = await session.scalar(select(func.coalesce(func.sum(PaymentView.amount), 0)).where(*conditions))
    return Decimal(total or 0).quantize(Decimal("0.01"))


def _event(promise: ActionRecord, event_type: PromiseEvent, paid: Decimal, **extra: str) -> WorkflowEvent:
    assert promise.promise_amount is not None and promise.promise_date is not None
    return WorkflowEvent(
        type=event_type,
        entity_id=str(promise.id),
        agent_id=str(promise.agent_id),
        cif=promise.cif,
        details={
            "promiseAmount": f"{promise.promise_amount:.2f}",
            "promiseDate": promise.promise_date.isoformat(),
            "paidAmount": f"{paid:.2f}",
            **extra,
        },
    )


def _settle(promise: ActionRecord, status: str, now: datetime) -> None:
    promise.promise_status = status
    promise.promise_settled_at = None if status == OPEN else now
    promise.updated_by = SYSTEM_ACTOR


async def reevaluate_for_payment(
    session: AsyncSession,
    outbox: Outbox,
    payment: AppliedPayment,
    *,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> list[ActionRecord]:
    """Settle again every promise a received or reversed payment counts for; the promises that changed.

    Those are the customer's promises (of the payment's loan, or without a loan) made before the
    payment and whose date is not before the payment's business day. A late payment inside its
    window also turns a BROKEN promise KEPT (payments are often imported the day after they were
    made, after the nightly round broke the promise).
    """
    now = now or utcnow()
    today = business_date(now, tz)
    promises: Sequence[ActionRecord] = (
        await session.scalars(
            select(ActionRecord)
            .where(
                ActionRecord.cif == payment.cif,
                ActionRecord.promise_status.in_([OPEN, KEPT, BROKEN]),
                or_(
                    ActionRecord.loan_account_number.is_(None),
                    ActionRecord.loan_account_number == payment.loan_account_number,
                ),
                ActionRecord.action_date <= payment.payment_date,
                ActionRecord.promise_date >= business_date(payment.payment_date, tz),
            )
            .order_by(ActionRecord.id)
            .with_for_update()
        )
    ).all()
    changed: list[ActionRecord] = []
    for promise in promises:
        assert promise.promise_amount is not None and promise.promise_date is not None
        previous = promise.promise_status or OPEN
        paid = await paid_towards(session, promise, tz)
        status = settled_status(
            current=previous,
            promise_amount=promise.promise_amount,
            paid=paid,
            promise_date=promise.promise_date,
            today=today,
        )
        if status == previous:
            continue
        _settle(promise, status, now)
        if status == KEPT:
            event = _event(promise, "PROMISE_KEPT", paid)
        elif status == BROKEN:
            event = _event(promise, "PROMISE_BROKEN", paid)
        else:
            event = _event(
                promise, "STATUS_CHANGED", paid, promiseStatus=OPEN, previousPromiseStatus=previous
            )
        await outbox.add(session, event)
        changed.append(promise)
        log.info("promise_settled", action_id=str(promise.id), status=status, previous=previous)
    await session.flush()
    return changed


async def break_overdue_promises(
    db: Database, outbox: Outbox, today: date, *, tz: ZoneInfo | None = None, batch: int = BREAK_BATCH
) -> int:
    """Mark BROKEN every OPEN promise whose date is before ``today`` (business date); how many.

    One transaction per batch; rows another transaction holds (a payment settling them) are
    skipped and left to that transaction or the next round. ``tz`` (default: the default business
    time zone) only decides which payments the events' ``paidAmount`` reports.
    """
    broken = 0
    zone = tz or ZoneInfo(PlatformSettings.model_fields["business_timezone"].default)
    while True:
        async with db.transaction() as session:
            promises = (
                await session.scalars(
                    select(ActionRecord)
                    .where(ActionRecord.promise_status == OPEN, ActionRecord.promise_date < today)
                    .order_by(ActionRecord.promise_date, ActionRecord.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not promises:
                return broken
            now = utcnow()
            events = []
            for promise in promises:
                _settle(promise, BROKEN, now)
                events.append(_event(promise, "PROMISE_BROKEN", await paid_towards(session, promise, zone)))
            await session.flush()
            await outbox.add(session, *events)
        broken += len(promises)
        log.info("promises_broken", count=len(promises), today=today.isoformat())
        if len(promises) < batch:
            return broken

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

from sqlalchemy import Table, func, select, text
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
from crm.workflow.readmodel.payments import RECEIVED, AppliedPayment

log = get_logger("crm.workflow.promises")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

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


_ACTIONS: Table = ActionRecord.__table__  # type: ignore[assignment]
_PAYMENTS: Table = PaymentView.__table__  # type: ignore[assignment]
_PAID_TOWARDS = text(
    f"""SELECT a.id, coalesce(sum(p.amount), 0) AS paid
    FROM {_ACTIONS.fullname} AS a
    LEFT JOIN {_PAYMENTS.fullname} AS p
      ON p.cif = a.cif AND p.status = :received
     AND p.payment_date >= a.action_date
     AND p.payment_date < timezone(:zone, CAST(a.promise_date + 1 AS timestamp))
     AND (a.loan_account_number IS NULL OR p.loan_account_number = a.loan_account_number)
    WHERE a.id = ANY(CAST(:ids AS uuid[]))
    GROUP BY a.id"""  # noqa: S608 - the table names come from the models
)
"""``paid_towards`` for many promises in one statement (the promise's window ends where
``rules.window_end`` says: the start of the business day after its date)."""


def _counts_for(promise: ActionRecord, payment: AppliedPayment, tz: ZoneInfo) -> bool:
    assert promise.promise_date is not None
    return (
        promise.cif == payment.cif
        and promise.loan_account_number in (None, payment.loan_account_number)
        and promise.action_date <= payment.payment_date
        and promise.promise_date >= business_date(payment.payment_date, tz)
    )


async def reevaluate_for_payments(
    session: AsyncSession,
    outbox: Outbox,
    payments: Sequence[AppliedPayment],
    *,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> list[ActionRecord]:
    """Settle again every promise received or reversed payments count for; the promises that changed.

    Those are the customers' promises (of the payment's loan, or without a loan) made before the
    payment and whose date is not before the payment's business day. A late payment inside its
    window also turns a BROKEN promise KEPT (payments are often imported the day after they were
    made, after the nightly round broke the promise). A batch of payments settles each promise once:
    it ends where the payments one by one would have taken it, but only that end is announced (not
    a promise kept and reopened inside the batch).
    """
    if not payments:
        return []
    now = now or utcnow()
    today = business_date(now, tz)
    earliest = min(business_date(p.payment_date, tz) for p in payments)
    candidates: Sequence[ActionRecord] = (
        await session.scalars(
            select(ActionRecord)
            .where(
                ActionRecord.cif.in_(sorted({p.cif for p in payments})),
                ActionRecord.promise_status.in_([OPEN, KEPT, BROKEN]),
                ActionRecord.promise_date >= earliest,
            )
            .order_by(ActionRecord.id)
            .with_for_update()
        )
    ).all()
    promises = [c for c in candidates if any(_counts_for(c, p, tz) for p in payments)]
    if not promises:
        return []
    paid = {
        row.id: Decimal(row.paid).quantize(Decimal("0.01"))
        for row in await session.execute(
            _PAID_TOWARDS, {"received": RECEIVED, "zone": tz.key, "ids": [p.id for p in promises]}
        )
    }
    changed: list[ActionRecord] = []
    for promise in promises:
        assert promise.promise_amount is not None and promise.promise_date is not None
        previous = status = promise.promise_status or OPEN
        # The rule depends on the way (a KEPT promise reversed after its date is BROKEN, an OPEN one
        # stays OPEN): walk the batch's payments in order, from what was paid before them.
        counted = [p.counted for p in payments if _counts_for(promise, p, tz)]
        running = paid[promise.id] - sum(counted, ZERO)
        for change in counted:
            running += change
            status = settled_status(
                current=status,
                promise_amount=promise.promise_amount,
                paid=running.quantize(CENT),
                promise_date=promise.promise_date,
                today=today,
            )
        if status == previous:
            continue
        _settle(promise, status, now)
        if status == KEPT:
            event = _event(promise, "PROMISE_KEPT", paid[promise.id])
        elif status == BROKEN:
            event = _event(promise, "PROMISE_BROKEN", paid[promise.id])
        else:
            event = _event(
                promise,
                "STATUS_CHANGED",
                paid[promise.id],
                promiseStatus=OPEN,
                previousPromiseStatus=previous,
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

"""Recording payments: one row per reference number, one event per recorded payment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.payments.ledger.events import payment_event
from crm.payments.ledger.insert import insert_payment, new_payment
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentCreate
from crm.payments.models import platform_tables
from crm.platform.audit import record_change
from crm.platform.errors import Conflict, NotFound
from crm.platform.outbox import Outbox
from crm.platform.problems import declare

DIFFERENT_CONTENT = declare(
    "payment.different_content", "Payment {reference} already exists with different content."
)
NO_PAYMENT = declare("payment.not_found", "No payment with reference number {reference}.")

CONTENT_FIELDS = (
    "loan_account_number",
    "cif",
    "amount",
    "currency",
    "payment_date",
    "payment_channel",
    "status",
    "status_reason",
    "source_system",
)


def _same_content(stored: Payment, incoming: dict[str, Any]) -> bool:
    return all(getattr(stored, f) == incoming[f] for f in CONTENT_FIELDS)


async def record_payment(
    session: AsyncSession,
    outbox: Outbox,
    data: PaymentCreate,
    *,
    actor: str,
    awaiting_loan_check: bool = False,
) -> tuple[Payment, bool]:
    """Store a payment once. Returns (payment, created); a repeat with other content is a 409.

    The unique reference number decides between concurrent requests: exactly one insert wins, and
    only the winner's event and audit row are written (``ledger.insert``). ``awaiting_loan_check``
    stores it PENDING until bank-sync confirms its loan (``notifications.service.confirm_pending``).
    """
    values = new_payment(
        data, actor=actor, awaiting_loan_check=awaiting_loan_check, editable=data.source_system == "CRM"
    )
    inserted = await insert_payment(session, outbox, values, request=session.info.get("request"))
    if inserted is None:
        stored = await get_payment(session, data.reference_number)
        if not _same_content(stored, values):
            raise Conflict.of(DIFFERENT_CONTENT, reference=data.reference_number)
        return stored, False
    return await session.get_one(Payment, inserted["id"]), True


async def announce(
    session: AsyncSession,
    outbox: Outbox,
    payment: Payment,
    *,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    """A payment changed with SQL: its event into the outbox and its audit row, in the same
    transaction."""
    event = payment_event(payment)
    if event is not None:
        await outbox.add(session, event)
    await record_change(
        session,
        platform_tables,
        action=action,
        entity_type="Payment",
        entity_key=payment.reference_number,
        before=before,
        after=after,
    )


async def get_payment(session: AsyncSession, reference_number: str) -> Payment:
    payment = await session.scalar(select(Payment).where(Payment.reference_number == reference_number))
    if payment is None:
        raise NotFound.of(NO_PAYMENT, reference=reference_number)
    return payment


async def list_payments(
    session: AsyncSession,
    *,
    loan_account_number: str | None = None,
    cif: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    offset: int,
    limit: int,
) -> tuple[list[Payment], int]:
    """Payments of a loan or a customer, newest first, optionally within [from, to)."""
    query = select(Payment)
    if loan_account_number is not None:
        query = query.where(Payment.loan_account_number == loan_account_number)
    if cif is not None:
        query = query.where(Payment.cif == cif)
    if date_from is not None:
        query = query.where(Payment.payment_date >= date_from)
    if date_to is not None:
        query = query.where(Payment.payment_date < date_to)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Payment.payment_date.desc(), Payment.reference_number).offset(offset).limit(limit)
    )
    return list(rows), total

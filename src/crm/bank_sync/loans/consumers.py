"""The payment events that move a loan's balance."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.loans import service
from crm.platform.consumer import EventConsumer
from crm.platform.events import Event, PaymentEvent


class LoanBalanceConsumer(EventConsumer):
    """A received payment reduces its loan's balance; a reversal puts back what it took."""

    name = "loan-balance"
    stream = "CRM_PAYMENT"
    subjects = ["crm.payment.payment_received", "crm.payment.payment_reversed"]

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def lock_order(self, event: Event) -> str:
        # Each payment locks its loan: two processes' batches lock their loans in the same order.
        return event.loan_account_number if isinstance(event, PaymentEvent) else ""

    async def handle(self, session: AsyncSession, event: Event) -> None:
        if not isinstance(event, PaymentEvent):
            return
        if event.type == "PAYMENT_RECEIVED":
            await service.apply_payment(
                session,
                reference_number=event.payment_reference_number,
                loan_account_number=event.loan_account_number,
                amount=event.amount,
                currency=event.currency,
                paid_at=event.payment_date or event.timestamp,
                tz=self.tz,
            )
        elif event.type == "PAYMENT_REVERSED":
            await service.reverse_payment(session, reference_number=event.payment_reference_number)

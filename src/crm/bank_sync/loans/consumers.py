"""The payment events that move a loan's balance."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.loans.balances import RECEIVED, REVERSED, Move, move_balances
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
        await self.handle_batch(session, [event])

    async def handle_batch(self, session: AsyncSession, events: list[Event]) -> None:
        """The whole batch's balances in a few statements (``balances.move_balances``)."""
        moves = [
            Move(
                RECEIVED if event.type == "PAYMENT_RECEIVED" else REVERSED,
                event.payment_reference_number,
                event.loan_account_number,
                event.amount,
                event.currency,
                event.payment_date or event.timestamp,
            )
            for event in events
            if isinstance(event, PaymentEvent) and event.type in ("PAYMENT_RECEIVED", "PAYMENT_REVERSED")
        ]
        await move_balances(session, moves, tz=self.tz)

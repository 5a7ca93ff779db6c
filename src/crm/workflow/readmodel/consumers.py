"""The events workflow listens to: SyncEvents and PaymentEvents, applied to its read model."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.consumer import EventConsumer
from crm.platform.events import Event, PaymentEvent, SyncEvent
from crm.platform.outbox import Outbox
from crm.workflow.bank_data import BankDataQueryService
from crm.workflow.promises import service as promises
from crm.workflow.readmodel import service
from crm.workflow.readmodel.payments import record_payments
from crm.workflow.settings import WorkflowSettings

CUSTOMERS, LOANS = "customers", "loans"
"""The bank-sync entity types (``SyncEvent.entityType``) the read model follows."""


class BankDataConsumer(EventConsumer):
    """ENTITY_UPDATED for customers and loans: fetch the changed keys from bank-sync and store them.

    The fetch happens inside the consumer's transaction (the platform gives no earlier hook); it
    reads the keys through bank-sync's lookup routes, one request per 1,000 keys (a key absent from
    the answer leaves the view), and a bank-sync that cannot answer (``ServiceUnavailable``) fails
    the event, which is retried, rather than emptying the view.
    """

    name = "readmodel-bank-data"
    stream = "CRM_SYNC"
    subjects = ["crm.sync.entity_updated"]
    batch_size = 5  # an event names up to thousands of keys: ~1 s of lookups and upserts each

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    @property
    def bank_data(self) -> BankDataQueryService:
        # Read at each event: start-up hooks (and tests) set it after the consumer is made.
        bank_data: BankDataQueryService = self.app.state.bank_data
        return bank_data

    async def handle(self, session: AsyncSession, event: Event) -> None:
        if not isinstance(event, SyncEvent) or event.type != "ENTITY_UPDATED" or not event.affected_records:
            return
        if event.entity_type == CUSTOMERS:
            await service.refresh_customers(session, self.bank_data, event.affected_records)
        elif event.entity_type == LOANS:
            await service.refresh_loans(session, self.bank_data, event.affected_records)


class PaymentConsumer(EventConsumer):
    """Received and reversed payments: ``payment_view``, the loan's balances, and the promises they settle."""

    name = "readmodel-payments"
    stream = "CRM_PAYMENT"
    subjects = ["crm.payment.payment_received", "crm.payment.payment_reversed"]

    def __init__(self, app: FastAPI) -> None:
        self.outbox: Outbox = app.state.outbox
        settings: WorkflowSettings = app.state.settings
        self.tz = settings.tz

    def lock_order(self, event: Event) -> str:
        # A payment locks its loan and its customer's promises and queue facts: by customer, then loan.
        return f"{event.cif}\x00{event.loan_account_number}" if isinstance(event, PaymentEvent) else ""

    async def handle(self, session: AsyncSession, event: Event) -> None:
        await self.handle_batch(session, [event])

    async def handle_batch(self, session: AsyncSession, events: list[Event]) -> None:
        """The batch's payments and balances in a few statements, then its customers' promises once."""
        payments = [e for e in events if isinstance(e, PaymentEvent)]
        changed = await record_payments(session, payments, tz=self.tz)
        await promises.reevaluate_for_payments(session, self.outbox, changed, tz=self.tz)


CONSUMERS: list[Callable[[FastAPI], EventConsumer]] = [BankDataConsumer, PaymentConsumer]

"""The Payment Processing service: ``crm serve payments``."""

from __future__ import annotations

from fastapi import FastAPI

from crm.payments.ledger.router import router as ledger_router
from crm.payments.models import Base
from crm.payments.notifications.jobs import close_clients, confirm_pending_payments, open_clients
from crm.payments.notifications.router import router as notifications_router
from crm.payments.notifications.schemas import PaymentNotification
from crm.payments.queue_depth import sample_queue_depth
from crm.payments.receipts.router import router as receipts_router
from crm.payments.reconciliation.router import router as reconciliation_router
from crm.payments.settings import PaymentsSettings
from crm.payments.sync import run_payment_sync_schedule
from crm.platform.service import ServiceSpec, create_service_app


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="payments",
        title="Collection CRM - Payment Processing",
        package="crm.payments",
        audit_prefix="/api/payments",
        metadata=Base.metadata,
        routers=[notifications_router, receipts_router, reconciliation_router, ledger_router],
        on_startup=[open_clients],
        on_shutdown=[close_clients],
        background=[confirm_pending_payments, run_payment_sync_schedule, sample_queue_depth],
        schemas=[PaymentNotification],
    )


def create_app(
    settings: PaymentsSettings | None = None, *, migrate: bool = False, standalone: bool = True
) -> FastAPI:
    """The payments service's only entry point."""
    return create_service_app(spec(), settings or PaymentsSettings(), migrate=migrate, standalone=standalone)

"""The Bank Synchronization service: `crm serve bank-sync`."""

from __future__ import annotations

from fastapi import FastAPI

import crm.bank_sync.collaterals.models
import crm.bank_sync.contacts.models  # noqa: F401 - every model joins Base.metadata
from crm.bank_sync.collaterals.router import router as collaterals_router
from crm.bank_sync.customers.router import router as customers_router
from crm.bank_sync.loans.consumers import LoanBalanceConsumer
from crm.bank_sync.loans.router import router as loans_router
from crm.bank_sync.models import Base
from crm.bank_sync.settings import BankSyncSettings
from crm.bank_sync.sync.router import router as sync_router
from crm.bank_sync.sync.worker import demo_data_loading, queue_demo_runs, run_schedule, run_worker
from crm.platform.service import ServiceSpec, create_service_app


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="bank-sync",
        title="Collection CRM - Bank Synchronization",
        package="crm.bank_sync",
        audit_prefix="/api/bank-sync",
        metadata=Base.metadata,
        routers=[customers_router, loans_router, collaterals_router, sync_router],
        consumers=[lambda app: LoanBalanceConsumer(app.state.settings.tz)],
        on_startup=[queue_demo_runs],
        readiness={"demo": demo_data_loading},
        background=[run_worker, run_schedule],
    )


def create_app(
    settings: BankSyncSettings | None = None, *, migrate: bool = False, standalone: bool = True
) -> FastAPI:
    """The bank-sync service's only entry point."""
    return create_service_app(spec(), settings or BankSyncSettings(), migrate=migrate, standalone=standalone)

"""The Payment Processing service: ``crm serve payments``."""

from __future__ import annotations

from fastapi import FastAPI

from crm.payments.ledger.router import router as ledger_router
from crm.payments.models import Base
from crm.payments.settings import PaymentsSettings
from crm.platform.service import ServiceSpec, create_service_app


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="payments",
        title="Collection CRM - Payment Processing",
        package="crm.payments",
        metadata=Base.metadata,
        routers=[ledger_router],
    )


def create_app(
    settings: PaymentsSettings | None = None, *, migrate: bool = False, standalone: bool = True
) -> FastAPI:
    """The payments service's only entry point."""
    return create_service_app(spec(), settings or PaymentsSettings(), migrate=migrate, standalone=standalone)

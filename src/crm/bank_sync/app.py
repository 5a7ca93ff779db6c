"""The Bank Synchronization service: `crm serve bank-sync`."""

from __future__ import annotations

from fastapi import FastAPI

from crm.bank_sync.models import Base
from crm.bank_sync.settings import BankSyncSettings
from crm.platform.service import ServiceSpec, create_service_app


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="bank-sync",
        title="Collection CRM - Bank Synchronization",
        package="crm.bank_sync",
        metadata=Base.metadata,
        routers=[],
    )


def create_app(
    settings: BankSyncSettings | None = None, *, migrate: bool = False, standalone: bool = True
) -> FastAPI:
    """The bank-sync service's only entry point."""
    return create_service_app(spec(), settings or BankSyncSettings(), migrate=migrate, standalone=standalone)

"""The notification flow's parts that live as long as the service: the loan directory and the
round that confirms payments stored while bank-sync could not be reached."""

from __future__ import annotations

import asyncio
from typing import Annotated

import asyncpg
from fastapi import Depends, FastAPI, Request

from crm.payments.notifications.loans import LoanDirectory
from crm.payments.notifications.service import confirm_pending
from crm.payments.settings import PaymentsSettings
from crm.platform.http import client_for
from crm.platform.logging import get_logger

log = get_logger("crm.payments.notifications")


def _loans(request: Request) -> LoanDirectory:
    directory: LoanDirectory = request.app.state.loan_directory
    return directory


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pg_pool
    return pool


Loans = Annotated[LoanDirectory, Depends(_loans)]
"""bank-sync's loans as the notification path asks for them (cached), opened by ``open_clients``."""
PgPool = Annotated[asyncpg.Pool, Depends(_pool)]
"""The notification path's own asyncpg pool: a new payment is one statement, no session around it."""


async def open_clients(app: FastAPI) -> None:
    """The loan directory (bank-sync's API) and the notification path's own asyncpg pool."""
    settings: PaymentsSettings = app.state.settings
    settings.webhook_secrets()  # in demo mode, generates the secret now rather than at the first call
    client = client_for(
        app,
        "bank-sync",
        url=settings.bank_sync_url,
        caller="payments",
        timeout=settings.bank_sync_timeout_seconds,
    )
    app.state.loan_directory = LoanDirectory(client, ttl_seconds=settings.loan_cache_seconds)
    # The hot path's own small pool: a new payment is one statement, no session around it.
    assert settings.database_url
    app.state.pg_pool = await asyncpg.create_pool(
        settings.database_url.replace("postgresql+asyncpg://", "postgresql://"),
        min_size=1,
        max_size=settings.db_pool_size,
        server_settings={"application_name": "crm-payments-notifications"},
    )


async def confirm_pending_payments(app: FastAPI) -> None:
    """Every ``pending_check_interval_seconds``, settle what bank-sync can now confirm."""
    settings: PaymentsSettings = app.state.settings
    while True:
        await asyncio.sleep(settings.pending_check_interval_seconds)
        try:
            settled = await confirm_pending(app.state.db, app.state.outbox, app.state.loan_directory)
            if settled:
                log.info("payments_confirmed", count=settled)
        except Exception:
            log.exception("payments_confirm_failed")


async def close_clients(app: FastAPI) -> None:
    await app.state.loan_directory.close()
    await app.state.pg_pool.close()

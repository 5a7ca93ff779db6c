"""Fixtures of the bank-sync tests."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from crm.bank_sync.app import spec
from crm.bank_sync.settings import BankSyncSettings
from crm.platform.service import create_service_app


@pytest.fixture
async def private_api(settings, isolated_database) -> AsyncIterator[httpx.AsyncClient]:
    """The bank-sync HTTP API on a database of its own, for tests that need its whole state: the
    snapshot state per source system, or sync runs (there are only three source systems, and a
    queued run stays queued: no worker here), which tests sharing one database would see or block.
    Its consumers are left out so that they do not take payment events from the shared NATS."""
    local = BankSyncSettings(**settings.model_dump())
    local.database_url = await isolated_database("bank-sync")
    app = create_service_app(
        dataclasses.replace(spec(), consumers=(), background=()), local, standalone=False
    )
    async with app.router.lifespan_context(app):
        await app.state.bus.wait_connected(within=20)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client

"""Workflow tests: the session's workflow app asks the session's bank-sync app through its API
(in-process, as under ``crm up``), instead of the base URL where nothing listens in tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from crm.platform.auth import TokenService
from crm.platform.http import ServiceClient
from crm.workflow.bank_data import BankDataQueryService


@pytest.fixture(scope="session", autouse=True)
async def workflow_asks_bank_sync(workflow, bank_sync, tokens: TokenService) -> AsyncIterator[None]:
    app = workflow.app
    previous = app.state.bank_data
    client = ServiceClient(
        "http://bank-sync", tokens, caller="workflow", transport=httpx.ASGITransport(app=bank_sync.app)
    )
    # No cache in tests: a test that changes a loan sees the change at once.
    app.state.bank_data = BankDataQueryService(client, ttl_seconds=0.001)
    yield
    await app.state.bank_data.close()
    app.state.bank_data = previous

"""``BankDataQueryService``: what workflow asks bank-sync about customers and loans, over its API.

With a SYSTEM token, a timeout and a short cache (an agent records several actions on the same
customer in a few minutes). Under ``crm up`` bank-sync runs in the same process and is called
in-process (still through its API); otherwise at ``CRM_BANK_SYNC_URL`` or the base URL.
Errors come as the platform's: ``NotFound`` (404) and ``ServiceUnavailable``.

``customers`` / ``loans`` read many keys at once through bank-sync's lookup routes
(``POST /api/customers/lookup``, ``POST /api/loans/lookup``), 1,000 keys a request, never from the
cache: the read model refreshes with them the keys a SyncEvent says changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from cachetools import TTLCache
from fastapi import Depends, FastAPI, Request

from crm.platform.errors import NotFound
from crm.platform.http import UPSTREAM_NOT_FOUND, ServiceClient, client_for
from crm.platform.problems import declare
from crm.workflow.settings import WorkflowSettings

LOOKUP_CHUNK = 1000
"""Keys per lookup request: the most bank-sync's lookup routes accept."""

UNKNOWN_CUSTOMER = declare("customer.unknown", "No customer with cif {cif!r} in bank data.")
"""A customer bank-sync does not know (refused where an action or assignment names it)."""


class BankDataQueryService:
    def __init__(
        self,
        client: ServiceClient,
        *,
        ttl_seconds: float,
        size: int = 50_000,
        timer: Callable[[], float] = time.monotonic,  # the cache's clock, set by tests
    ) -> None:
        self.client = client
        self._cache: TTLCache[str, Any] = TTLCache(maxsize=size, ttl=ttl_seconds, timer=timer)

    async def _one(self, path: str, field: str, key: str, value: str, cache_key: str) -> dict[str, Any]:
        cached: dict[str, Any] | None = self._cache.get(cache_key)
        if cached is not None:
            return cached
        # The lookup route, not the 360 view: one query in bank-sync instead of one per contact list.
        answer = await self.client.post_json(path, {field: [value]})
        found = [item for item in answer["items"] if item[key] == value]
        if not found:
            raise NotFound.of(UPSTREAM_NOT_FOUND, path=cache_key)
        self._cache[cache_key] = found[0]
        return found[0]

    async def customer(self, cif: str) -> dict[str, Any]:
        """The customer (``CustomerRead`` of ``GET /api/customers``); ``NotFound`` when bank-sync has none."""
        return await self._one("/api/customers/lookup", "cifs", "cif", cif, f"/api/customers/{cif}")

    async def loan(self, account_number: str) -> dict[str, Any]:
        """The loan (``LoanRead``, with cif, dpd and dueAmount); ``NotFound`` when bank-sync has none."""
        return await self._one(
            "/api/loans/lookup",
            "accountNumbers",
            "accountNumber",
            account_number,
            f"/api/loans/{account_number}",
        )

    async def _lookup(
        self, path: str, field: str, key: str, keys: Iterable[str], single_path: str
    ) -> dict[str, dict[str, Any]]:
        unique = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), LOOKUP_CHUNK):
            chunk = unique[start : start + LOOKUP_CHUNK]
            answer = await self.client.post_json(path, {field: chunk})
            for item in answer["items"]:
                found[item[key]] = item
        for k in unique:  # a cached single answer for a key just read again is out of date
            self._cache.pop(single_path + k, None)
        return found

    async def customers(self, cifs: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The customers bank-sync knows among these CIFs, by CIF (``CustomerRead`` of
        ``GET /api/customers``); an unknown CIF is absent. One request per 1,000 CIFs, no cache."""
        return await self._lookup("/api/customers/lookup", "cifs", "cif", cifs, "/api/customers/")

    async def loans(self, account_numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The loans bank-sync knows among these account numbers, by account number (``LoanRead`` of
        ``GET /api/customers/:cif/loans``); an unknown one is absent. One request per 1,000, no cache."""
        return await self._lookup(
            "/api/loans/lookup", "accountNumbers", "accountNumber", account_numbers, "/api/loans/"
        )

    def forget(self, path_prefix: str = "") -> None:
        """Drop cached answers (all, or those under a path), e.g. when a SyncEvent says they changed."""
        for key in [k for k in self._cache if k.startswith(path_prefix)]:
            self._cache.pop(key, None)

    async def close(self) -> None:
        await self.client.close()


async def open_bank_data(app: FastAPI) -> None:
    """Start-up hook: ``app.state.bank_data``."""
    settings: WorkflowSettings = app.state.settings
    client = client_for(
        app,
        "bank-sync",
        url=settings.bank_sync_url,
        caller="workflow",
        timeout=settings.bank_sync_timeout_seconds,
    )
    app.state.bank_data = BankDataQueryService(client, ttl_seconds=settings.bank_data_cache_seconds)


async def close_bank_data(app: FastAPI) -> None:
    await app.state.bank_data.close()


def _bank_data(request: Request) -> BankDataQueryService:
    bank: BankDataQueryService = request.app.state.bank_data
    return bank


BankData = Annotated[BankDataQueryService, Depends(_bank_data)]
"""Bank-sync's customers and loans, as a route asks for them."""

"""What payments needs to know about a loan, asked of bank-sync over HTTP (never its tables)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from crm.platform.http import ServiceClient


@dataclass(frozen=True)
class LoanFacts:
    account_number: str
    cif: str
    currency: str


class LoanDirectory:
    """Loan lookups through bank-sync's API with a SYSTEM token and a timeout.

    Loans found are remembered for a while (a loan's cif and currency do not change between
    payments; month-end bursts bring many payments for the same loans); a loan not found is asked
    again next time, since tonight's sync may bring it. ``NotFound`` and ``ServiceUnavailable``
    come from the client as they are.
    """

    def __init__(
        self,
        client: ServiceClient,
        *,
        ttl_seconds: float,
        size: int = 100_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._known: TTLCache[str, LoanFacts] = TTLCache(maxsize=size, ttl=ttl_seconds, timer=timer)

    async def get(self, account_number: str) -> LoanFacts:
        known = self._known.get(account_number)
        if known is not None:
            return known
        loan: dict[str, Any] = await self.client.get_json(f"/api/loans/{account_number}")
        facts = LoanFacts(account_number=loan["accountNumber"], cif=loan["cif"], currency=loan["currency"])
        self._known[account_number] = facts
        return facts

    async def close(self) -> None:
        await self.client.close()

"""Calls from one service to another over HTTP, as SYSTEM, with a timeout.

A service never reads another service's tables; when it needs their data it asks through their
API with a short-lived SYSTEM token minted from the shared signing key.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from crm.platform.auth import TokenService
from crm.platform.errors import NotFound, ServiceUnavailable
from crm.platform.problems import declare

UNREACHABLE = declare("upstream.unreachable", "{path} could not be reached: {error}.")
UPSTREAM_NOT_FOUND = declare("upstream.not_found", "{path} was not found.")
UPSTREAM_FAILED = declare("upstream.failed", "{path} answered {status}.")


class ServiceClient:
    """An HTTP client for another service's API, authenticated as ``system:<caller>``."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenService,
        *,
        caller: str,
        timeout: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.tokens = tokens
        self.caller = caller
        self._token: tuple[str, float] | None = None
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    def _authorization(self) -> dict[str, str]:
        now = time.monotonic()
        if self._token is None or self._token[1] - now < 30:
            ttl = self.tokens.settings.system_token_ttl_seconds
            self._token = (self.tokens.system_token(self.caller), now + ttl)
        return {"Authorization": f"Bearer {self._token[0]}"}

    async def get_json(self, path: str, **params: Any) -> Any:
        """GET a JSON document; ``NotFound`` for 404, ``ServiceUnavailable`` when the service can't answer."""
        try:
            response = await self._http.get(path, params=params or None, headers=self._authorization())
        except httpx.HTTPError as exc:
            raise ServiceUnavailable.of(UNREACHABLE, path=path, error=type(exc).__name__) from exc
        return self._answer(path, response)

    async def post_json(self, path: str, body: Any) -> Any:
        """POST a JSON body and read the JSON answer; errors as for ``get_json`` (a query that reads
        several records at once, e.g. a lookup, or a command)."""
        try:
            response = await self._http.post(path, json=body, headers=self._authorization())
        except httpx.HTTPError as exc:
            raise ServiceUnavailable.of(UNREACHABLE, path=path, error=type(exc).__name__) from exc
        return self._answer(path, response)

    @staticmethod
    def _answer(path: str, response: httpx.Response) -> Any:
        if response.status_code == 404:
            raise NotFound.of(UPSTREAM_NOT_FOUND, path=path)
        if response.status_code >= 400:
            raise ServiceUnavailable.of(UPSTREAM_FAILED, path=path, status=response.status_code)
        return response.json()

    async def close(self) -> None:
        await self._http.aclose()


def client_for(app: Any, service: str, *, url: str | None, caller: str, timeout: float) -> ServiceClient:
    """A client for ``service``'s API as seen from ``app``.

    Under ``crm up`` the other service runs in the same process (``app.state.neighbours``) and is
    called in-process, still through its API: no socket, and no queue behind the very requests that
    wait for the answer. Otherwise at ``url``, or at the platform's base URL.
    """
    neighbour = getattr(app.state, "neighbours", {}).get(service)
    if neighbour is not None and not url:
        transport = httpx.ASGITransport(app=neighbour)
        return ServiceClient(
            f"http://{service}", app.state.tokens, caller=caller, timeout=timeout, transport=transport
        )
    base_url = url or app.state.settings.public_base_url
    return ServiceClient(base_url, app.state.tokens, caller=caller, timeout=timeout)

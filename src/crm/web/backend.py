"""The services' APIs as the web UI calls them: with the signed-in user's own token, never as SYSTEM.

The UI reads and writes nothing of the services but through their HTTP APIs, so every rule of
theirs (roles, an agent acting only as itself, contact rules, capacity) holds in the UI as well.
Under ``crm up`` the services run in the same process and are called in-process (an ASGI transport
that hands each path to the service owning it, as the gateway does); otherwise each service at its
own address in ``CRM_SERVICE_URLS`` (one Kubernetes Service each), the others at ``CRM_SERVICES_URL``
(default: the platform's base URL).

Answers: JSON on 2xx; a problem+json of the service as :class:`BackendError` (status, title,
detail and the per-field errors, to be shown next to the form fields); 401 (the token expired) as
:class:`~crm.web.session.LoginRequired`; 403 as :class:`~crm.web.session.PageForbidden`.

The app opens its one :class:`Backend` at start (``app.state.backend``); a page asks for it as
``backend: WebBackend``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import httpx
from cachetools import TTLCache
from fastapi import Depends, FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from crm.platform.errors import GENERIC_CODES
from crm.platform.logging import get_logger
from crm.services import SERVICES  # the registry knows which service owns which paths
from crm.web.problems import FIELD_FALLBACK, explain
from crm.web.session import LoginRequired, PageForbidden, Viewer

log = get_logger("crm.web.backend")

REFERENCE_SECONDS = 30.0
"""How long reference data (vocabularies, agents' names) is reused; an edit shows within this time."""


class BackendError(Exception):
    """A service refused or could not answer: its status, its problem ``code`` and ``params``, and
    the field errors (each with its own code). Pages act on the codes and show ``message()`` /
    ``field_messages()``, said in the reader's language (``crm.web.problems``), never ``detail``."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: list[dict[str, Any]] | None = None,
        code: str = "",
        params: dict[str, Any] | None = None,
    ):
        super().__init__(f"{status} {title}: {detail}")
        self.status, self.title, self.detail = status, title, detail
        self.errors = errors or []
        self.code = code or GENERIC_CODES.get(status, "request.invalid")
        self.params = params or {}

    def message(self, language: str) -> str:
        """What went wrong, for the person (the problem's code, translated, params filled in)."""
        return explain(self.code, self.params, language)

    def field_codes(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """``{field: (code, params)}`` of the field errors, by the API's field names (the first per field)."""
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for error in self.errors:
            field = str(error.get("field") or "").split(".")[-1]
            found.setdefault(
                field, (str(error.get("code") or FIELD_FALLBACK), dict(error.get("params") or {}))
            )
        return found

    def field_messages(self, language: str) -> dict[str, str]:
        """``{field: what is wrong with it}``, translated, by the API's field names."""
        return {
            field: explain(code, params, language) for field, (code, params) in self.field_codes().items()
        }


class _Dispatch:
    """An ASGI app that hands each path to the in-process service owning it (longest prefix first)."""

    def __init__(self, table: Sequence[tuple[str, ASGIApp]]) -> None:
        self.table = sorted(table, key=lambda entry: len(entry[0]), reverse=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        for prefix, app in self.table:
            if path == prefix or path.startswith(prefix + "/"):
                await app(scope, receive, send)
                return
        raise LookupError(f"no service answers {path}")


class _ByService(httpx.AsyncBaseTransport):
    """Sends each request to the address of the service owning its path (longest prefix first); a path
    no listed service owns goes where the client's base URL says."""

    def __init__(self, urls: dict[str, str], inner: httpx.AsyncBaseTransport | None = None) -> None:
        table = [
            (prefix, httpx.URL(url))
            for name, url in urls.items()
            for prefix in SERVICES[name].prefixes
            if prefix != "/"
        ]
        self.table = sorted(table, key=lambda entry: len(entry[0]), reverse=True)
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        for prefix, base in self.table:
            if path == prefix or path.startswith(prefix + "/"):
                request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
                request.headers["Host"] = base.netloc.decode()
                break
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _transport(app: FastAPI) -> httpx.AsyncBaseTransport | None:
    neighbours: dict[str, FastAPI] = getattr(app.state, "neighbours", {})
    settings = app.state.settings
    if settings.service_urls:
        return _ByService(settings.service_urls)
    if not neighbours or settings.services_url:
        return None

    table = [
        (prefix, neighbour)
        for name, neighbour in neighbours.items()
        if neighbour is not app
        for prefix in SERVICES[name].prefixes
        if prefix != "/"
    ]
    return httpx.ASGITransport(app=_Dispatch(table))


class Backend:
    def __init__(self, app: FastAPI) -> None:
        settings = app.state.settings
        transport = _transport(app)
        in_process = transport is not None and not settings.service_urls
        base = "http://services" if in_process else (settings.services_url or settings.public_base_url)
        self._http = httpx.AsyncClient(
            base_url=base, timeout=settings.services_timeout_seconds, transport=transport
        )
        self._reference: TTLCache[Any, Any] = TTLCache(maxsize=2_000, ttl=REFERENCE_SECONDS)

    async def request(self, viewer: Viewer | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        if viewer is not None:
            headers["Authorization"] = f"Bearer {viewer.token}"
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("backend_unreachable", path=path, error=type(exc).__name__)
            raise BackendError(
                503, "Service unavailable", f"{path} could not be reached.", code="upstream.unreachable"
            ) from exc
        if response.status_code == 401 and viewer is not None:
            raise LoginRequired("/", reason="expired")
        if response.status_code == 403:
            raise PageForbidden()
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise BackendError(
                response.status_code,
                str(body.get("title") or response.reason_phrase),
                str(body.get("detail") or ""),
                list(body.get("errors") or []),
                str(body.get("code") or ""),
                dict(body.get("params") or {}),
            )
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response

    async def get(self, viewer: Viewer | None, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None and v != ""}
        return await self.request(viewer, "GET", path, params=clean)

    async def reference(self, viewer: Viewer, path: str, **params: Any) -> Any:
        """A GET of reference data that is the same for every user with the same roles (the
        vocabularies, an agent's name): reused for ``REFERENCE_SECONDS``, so that a page does not ask
        for it again on every request. Keyed by the viewer's roles, so an answer one role may read is
        never handed to another; a refusal is not kept."""
        key = (frozenset(viewer.roles), path, tuple(sorted((k, str(v)) for k, v in params.items())))
        if key in self._reference:
            return self._reference[key]
        answer = await self.get(viewer, path, **params)
        self._reference[key] = answer
        return answer

    async def post(self, viewer: Viewer | None, path: str, json: Any = None, **kwargs: Any) -> Any:
        return await self.request(viewer, "POST", path, json=json, **kwargs)

    async def put(self, viewer: Viewer | None, path: str, json: Any = None) -> Any:
        return await self.request(viewer, "PUT", path, json=json)

    async def patch(self, viewer: Viewer | None, path: str, json: Any = None) -> Any:
        return await self.request(viewer, "PATCH", path, json=json)

    async def close(self) -> None:
        await self._http.aclose()


def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


WebBackend = Annotated[Backend, Depends(_backend)]
"""The services' APIs, as a page asks for them (opened at start by ``crm.web.app``)."""

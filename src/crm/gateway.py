"""``crm up``: every service in one process, under one base URL.

Requests are dispatched by path prefix straight to the owning service's ASGI app (no proxy hop);
each service keeps its own database pool, outbox relay and consumers, exactly as when it runs
alone with ``crm serve``. The gateway itself answers ``/docs`` (all OpenAPI documents),
``/health/*`` (all services) and ``/metrics``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from itertools import chain

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from crm.platform.auth import Access, SecureRouter, TokenService, assert_every_route_declares_access
from crm.platform.errors import install_error_handlers, problem
from crm.platform.heap import freeze_startup_objects
from crm.platform.lag import readiness
from crm.platform.logging import configure_logging
from crm.platform.metrics import metrics_response
from crm.platform.middleware import SecurityHeadersMiddleware
from crm.platform.service import docs_router, mount_swagger_assets, waiting_for
from crm.platform.settings import PlatformSettings
from crm.services import SERVICES

ROOT_PATHS = ("/api/", "/health/", "/metrics", "/docs", "/static/swagger/")
"""Answered by the gateway itself (or, under /api/, a problem+json 404), never by the web UI."""


def _root_app(settings: PlatformSettings, apps: dict[str, FastAPI], apis: dict[str, FastAPI]) -> FastAPI:
    """The gateway's own routes; ``apps`` are started with it, ``apis`` are listed in /docs."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_format)
        async with AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            freeze_startup_objects()
            yield

    root = FastAPI(title="Collection CRM", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    root.state.settings = settings
    root.state.tokens = TokenService(settings)
    install_error_handlers(root)
    router = SecureRouter(tags=["operations"])

    @router.get("/health/live", access=Access.anyone())
    async def live() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @router.get("/health/ready", access=Access.anyone())
    async def ready() -> Response:
        """Every service reaches its database and the bus, and has what it waits for at start (the
        demo data, in demo mode); degraded (still 200) while a consumer is behind, naming it."""
        pings = await asyncio.gather(*(app.state.db.ping() for app in apps.values()))
        checks = {
            name: {
                "database": "ok" if db_ok else "down",
                "nats": "ok" if app.state.bus.is_connected else "down",
            }
            for (name, app), db_ok in zip(apps.items(), pings, strict=True)
        }
        if all(v == "ok" for c in checks.values() for v in c.values()):
            waiting = await asyncio.gather(*(waiting_for(app) for app in apps.values()))
            for (name, _), still in zip(apps.items(), waiting, strict=True):
                checks[name].update(still)  # e.g. "demo": "loading" (the demo data)
        if all(v == "ok" for c in checks.values() for v in c.values()):
            lags = await asyncio.gather(*(app.state.lag.current() for app in apps.values()))
            lag = readiness(chain.from_iterable(lags))
            return JSONResponse({"status": lag["status"], "checks": checks, "consumers": lag["consumers"]})
        return problem(503, "Service unavailable", f"Not ready: {checks}.", slug="unavailable")

    @router.get("/metrics", access=Access.anyone(), include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus metrics of every service in this process."""
        await asyncio.gather(*(app.state.lag.current() for app in apps.values()))
        return metrics_response()

    @router.get("/", access=Access.anyone(), include_in_schema=False)
    async def index(request: Request) -> dict[str, object]:
        """Where things are."""
        return {
            "name": "Collection CRM",
            "docs": "/docs",
            "openapi": [app.openapi_url for app in apis.values()],
            "health": "/health/ready",
        }

    root.include_router(router)
    root.include_router(
        docs_router(
            "Collection CRM", [{"url": app.openapi_url or "", "name": app.title} for app in apis.values()]
        )
    )
    mount_swagger_assets(root)
    assert_every_route_declares_access(root)
    root.add_middleware(SecurityHeadersMiddleware)
    return root


class Gateway:
    """An ASGI app that hands each request to the service owning its path."""

    def __init__(self, settings: PlatformSettings, services: list[str] | None = None) -> None:
        names = services or list(SERVICES)
        self.apps = {name: SERVICES[name].create_app(settings, standalone=False) for name in names}
        for app in self.apps.values():
            # Services in the same process call each other's API in-process (no socket, no queue
            # behind the very requests that are waiting for the answer); still through the API.
            app.state.neighbours = self.apps
        apis = {name: app for name, app in self.apps.items() if "/" not in SERVICES[name].prefixes}
        self.root = _root_app(settings, self.apps, apis)
        table: list[tuple[str, ASGIApp]] = []
        self.fallback: ASGIApp | None = None
        for name, app in apis.items():
            table.extend((prefix, app) for prefix in SERVICES[name].prefixes)
            if app.openapi_url:
                table.append((app.openapi_url, app))
        for name, app in self.apps.items():
            if name not in apis:
                self.fallback = app  # the web UI
        self.table = sorted(table, key=lambda entry: len(entry[0]), reverse=True)

    def route(self, path: str) -> ASGIApp:
        for prefix, app in self.table:
            if path == prefix or path.startswith(prefix + "/"):
                return app
        if self.fallback is None or path.startswith(ROOT_PATHS):
            return self.root
        return self.fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            await self.route(scope["path"])(scope, receive, send)
        else:
            await self.root(scope, receive, send)


def create_gateway() -> Gateway:
    """Factory used by uvicorn (settings from the environment, as ``crm up`` prepared it)."""
    return Gateway(PlatformSettings())

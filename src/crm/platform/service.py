"""Builds a service's FastAPI app: database, bus, outbox relay, consumers and their lag, auth, errors,
health, metrics.

A service describes itself with a :class:`ServiceSpec`; its ``app.py`` calls :func:`create_service_app`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import MetaData

from crm.platform import leader
from crm.platform.audit_routes import audit_router
from crm.platform.auth import Access, SecureRouter, TokenService, assert_every_route_declares_access
from crm.platform.bus import Bus
from crm.platform.consumer import ConsumerRunner, EventConsumer
from crm.platform.db import Database
from crm.platform.dead_letter_routes import dead_letter_router
from crm.platform.errors import install_error_handlers, problem
from crm.platform.heap import freeze_startup_objects
from crm.platform.lag import ConsumerLag, readiness
from crm.platform.lag_routes import consumer_lag_router
from crm.platform.logging import configure_logging, get_logger
from crm.platform.metrics import MetricsMiddleware, metrics_response
from crm.platform.middleware import (
    BodySizeLimitMiddleware,
    NulCharacterMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from crm.platform.openapi import finish_document
from crm.platform.outbox import Outbox, OutboxRelay
from crm.platform.settings import PlatformSettings
from crm.platform.tables import PlatformTables
from crm.platform.tasks import stop_task

log = get_logger("crm.service")


@dataclass
class ServiceSpec:
    """What a service brings: its name, schema, routes, consumers and start-up work."""

    name: str  # e.g. "payments": also its URL segment for /api/<name>/openapi.json
    title: str
    package: str  # e.g. "crm.payments": where its migrations live
    metadata: MetaData
    routers: Sequence[APIRouter]
    consumers: Sequence[Callable[[FastAPI], EventConsumer]] = ()
    on_startup: Sequence[Callable[[FastAPI], Awaitable[None]]] = ()
    """Run in one process at a time when several serve the service (see ``crm.platform.leader``)."""
    on_shutdown: Sequence[Callable[[FastAPI], Awaitable[None]]] = ()
    """Run after the background tasks are cancelled, before the database is closed."""
    background: Sequence[Callable[[FastAPI], Coroutine[Any, Any, None]]] = field(default_factory=tuple)
    """Long-running jobs (workers, schedules): run by the service's leader process only."""
    audit_prefix: str | None = None
    """One of the service's path prefixes: its audit trail answers at ``<audit_prefix>/audit``."""
    schemas: Sequence[type[BaseModel]] = ()
    """Models a route names by ``$ref`` in its document because it reads its own body."""
    readiness: Mapping[str, Callable[[FastAPI], Awaitable[str | None]]] = field(default_factory=dict)
    """More checks of ``/health/ready`` by name (e.g. ``demo``: the demo data loaded): each answers
    None when ready, else what it is waiting for (then 503)."""

    @property
    def schema(self) -> str:
        assert self.metadata.schema
        return self.metadata.schema

    @property
    def tables(self) -> PlatformTables:
        tables: PlatformTables = self.metadata.info["platform"]
        return tables


def apply_migrations(spec: ServiceSpec, settings: PlatformSettings) -> None:
    assert settings.database_url, "DATABASE_URL is resolved before a service starts"
    from crm.platform import migrations  # alembic: only where migrations are applied

    migrations.upgrade(settings.database_url, spec.package, spec.schema)


async def waiting_for(app: FastAPI) -> dict[str, str]:
    """What the service's own readiness checks (``ServiceSpec.readiness``) still wait for, by name."""
    spec: ServiceSpec | None = getattr(app.state, "spec", None)
    checks = dict(spec.readiness) if spec is not None else {}
    answers = await asyncio.gather(*(check(app) for check in checks.values()))
    return {name: answer for name, answer in zip(checks, answers, strict=True) if answer is not None}


def health_router(service: str) -> SecureRouter:
    router = SecureRouter(tags=["operations"])

    @router.get("/health/live", access=Access.anyone())
    async def live() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok", "service": service}

    @router.get("/health/ready", access=Access.anyone(), responses={503: {"description": "not ready"}})
    async def ready(request: Request) -> Response:
        """Ready to serve: the database answers and the bus is connected; degraded (still 200) while a
        consumer is behind, naming it."""
        db_ok = await request.app.state.db.ping()
        bus_ok = request.app.state.bus.is_connected
        checks = {"database": "ok" if db_ok else "down", "nats": "ok" if bus_ok else "down"}
        waiting = await waiting_for(request.app) if db_ok and bus_ok else {}
        checks.update(waiting)
        if db_ok and bus_ok and not waiting:
            lag = readiness(await request.app.state.lag.current())
            return JSONResponse(
                {"status": lag["status"], "service": service, "checks": checks, "consumers": lag["consumers"]}
            )
        response = problem(503, "Service unavailable", f"Not ready: {checks}.", slug="unavailable")
        return response

    @router.get("/metrics", access=Access.anyone(), include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics."""
        await request.app.state.lag.current()
        return metrics_response()

    return router


def docs_router(title: str, openapi_urls: list[dict[str, str]]) -> SecureRouter:
    """``/docs``: Swagger UI (``swagger-ui-dist``, pinned with the web UI's front-end packages in
    ``src/crm/web/assets/package.json``), served from this machine, no CDN."""
    router = SecureRouter()

    @router.get("/docs", access=Access.anyone(), include_in_schema=False)
    async def docs() -> HTMLResponse:
        """API documentation."""
        page = get_swagger_ui_html(
            openapi_url=openapi_urls[0]["url"],
            title=f"{title} - API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True}
            | ({"urls": openapi_urls, "layout": "StandaloneLayout"} if len(openapi_urls) > 1 else {}),
        )
        if len(openapi_urls) == 1:
            return page
        # Several documents (crm up): the standalone layout, whose top bar chooses among them (the
        # base layout shows "No API definition provided" for a list); its preset is its own script.
        html = bytes(page.body).decode()
        html = html.replace(
            '<script src="/static/swagger/swagger-ui-bundle.js"></script>',
            '<script src="/static/swagger/swagger-ui-bundle.js"></script>\n'
            '    <script src="/static/swagger/swagger-ui-standalone-preset.js"></script>',
        ).replace("SwaggerUIBundle.SwaggerUIStandalonePreset", "SwaggerUIStandalonePreset")
        return HTMLResponse(html)

    return router


SWAGGER_UI = Path(__file__).parent.parent / "web" / "assets" / "node_modules" / "swagger-ui-dist"
"""Installed by ``make install`` (``npm ci``) with the web UI's packages; a path, not an import."""


def mount_swagger_assets(app: FastAPI) -> None:
    app.mount("/static/swagger", StaticFiles(directory=SWAGGER_UI, check_dir=False), name="swagger-assets")


def create_service_app(
    spec: ServiceSpec, settings: PlatformSettings, *, migrate: bool = False, standalone: bool = True
) -> FastAPI:
    """The service's ASGI app. ``migrate`` applies its migrations at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if standalone:
            configure_logging(settings.log_level, settings.log_format)
        if migrate:
            await asyncio.to_thread(apply_migrations, spec, settings)
        assert settings.database_url and settings.nats_url, "resolve DATABASE_URL and NATS_URL first"
        db = Database(
            settings.database_url,
            schema=spec.schema,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        bus = Bus(
            settings.nats_url,
            name=f"crm-{spec.name}",
            duplicate_window=settings.nats_duplicate_window_seconds,
            replicas=settings.nats_replicas,
        )
        app.state.db, app.state.bus = db, bus
        bus.start()
        relay = OutboxRelay(
            db,
            bus,
            app.state.outbox,
            service=spec.name,
            poll_interval=settings.outbox_poll_interval,
            batch_size=settings.outbox_batch_size,
        )
        app.state.relay = relay
        runners = [
            ConsumerRunner(
                factory(app),
                service=spec.name,
                db=db,
                bus=bus,
                tables=spec.tables,
                max_deliveries=settings.consumer_max_deliveries,
                retry_delay=settings.consumer_retry_delay,
            )
            for factory in spec.consumers
        ]
        app.state.consumers = runners
        lag = ConsumerLag(
            bus,
            runners,
            degraded_after=settings.consumer_lag_degraded_seconds,
            every=settings.consumer_lag_sample_seconds,
        )
        app.state.lag = lag
        async with leader.exclusively(db, f"crm:{spec.name}:startup"):
            for hook in spec.on_startup:
                await hook(app)
        relay.start()
        for runner in runners:
            runner.start()
        lag.start()
        background: list[asyncio.Task[None]] = []
        if spec.background:
            jobs = [partial(job, app) for job in spec.background]
            lead = leader.lead(db, f"crm:{spec.name}:background", jobs)
            background.append(asyncio.create_task(lead, name=f"jobs-{spec.name}"))
        if standalone:  # under crm up, the gateway does it once every service is up
            freeze_startup_objects()
        log.info("service_started", service=spec.name)
        try:
            yield
        finally:
            for task in background:
                await stop_task(task)
            for hook in spec.on_shutdown:
                await hook(app)
            await lag.stop()
            # Together: each lets its batch in hand finish (its fetch ends within a second).
            await asyncio.gather(*(runner.stop() for runner in runners))
            await relay.stop()
            await bus.close()
            await db.dispose()
            log.info("service_stopped", service=spec.name)

    app = FastAPI(
        title=spec.title,
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=f"/api/{spec.name}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.spec = spec
    app.state.tokens = TokenService(settings)
    app.state.outbox = Outbox(spec.tables.outbox)
    install_error_handlers(app)
    if spec.audit_prefix:  # before the service's routes, so that no path parameter takes "audit"
        app.include_router(audit_router(spec.audit_prefix, spec.tables))
        app.include_router(dead_letter_router(spec.audit_prefix, spec.name, spec.tables))
        app.include_router(consumer_lag_router(spec.audit_prefix))
    for router in spec.routers:
        app.include_router(router)
    app.include_router(health_router(spec.name))
    if standalone:
        app.include_router(docs_router(spec.title, [{"url": app.openapi_url or "", "name": spec.title}]))
        mount_swagger_assets(app)
    assert_every_route_declares_access(app)
    finish_document(app, spec.schemas)
    app.add_middleware(MetricsMiddleware, service=spec.name)
    app.add_middleware(NulCharacterMiddleware)  # inside the size cap: the body it reads is bounded
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on every answer, refusals included
    return app

"""Prometheus metrics: HTTP requests by route template, outbox and consumer counters, consumers' lag.

Under several worker processes, prometheus_client's multiprocess mode keeps each process's values in
files in one folder (``PROMETHEUS_MULTIPROC_DIR``, read when prometheus_client is first imported, so
set before the workers start) and ``/metrics`` adds them up: without it each scrape would count only
the process that happened to answer.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter("crm_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PUBLISHED = Counter("crm_outbox_published_total", "Events published from the outbox", ["service"])
# Every relay counts the same table: the newest count is the right one.
OUTBOX_PENDING = Gauge(
    "crm_outbox_pending", "Outbox rows not yet published", ["service"], multiprocess_mode="mostrecent"
)
EVENTS_CONSUMED = Counter("crm_events_consumed_total", "Events handled by consumers", ["consumer", "outcome"])
# A consumer's lag is JetStream's answer, the same whichever process asks: the newest sample is right
# (a sum over the processes would count it once per process). Set by crm.platform.lag.
CONSUMER_PENDING = Gauge(
    "crm_consumer_pending_events",
    "Events JetStream holds for a consumer: not yet delivered, or delivered and not yet acked",
    ["consumer"],
    multiprocess_mode="mostrecent",
)
CONSUMER_LAG = Gauge(
    "crm_consumer_lag_seconds",
    "Age of the oldest event a consumer has not applied (0 when none is pending)",
    ["consumer"],
    multiprocess_mode="mostrecent",
)
NOTIFICATION_EVENTS = Gauge(
    "crm_web_notification_events",
    "Events a web process received for agents' bells, by type (one sample per process)",
    ["type"],
    multiprocess_mode="all",
)


class MetricsMiddleware:
    """Pure ASGI middleware counting requests and latency by route template (not raw path)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, template).observe(time.perf_counter() - start)


MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def collect_across_processes(folder: Path) -> None:
    """Before starting worker processes: their metrics go to ``folder``, emptied of an earlier run's."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_ENV] = str(folder)


def metrics_response() -> Response:
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

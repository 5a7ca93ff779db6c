"""Prometheus metrics: HTTP requests by route template, outbox and consumer counters."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
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
OUTBOX_PENDING = Gauge("crm_outbox_pending", "Outbox rows not yet published", ["service"])
EVENTS_CONSUMED = Counter("crm_events_consumed_total", "Events handled by consumers", ["consumer", "outcome"])


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


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

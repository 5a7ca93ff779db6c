"""A consumer's lag: pending events and the age of the oldest unapplied one, in /metrics, in
/health/ready (degraded, still 200, naming the consumer) and in the ADMIN route, until it drains."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from crm.payments.app import spec
from crm.payments.settings import PaymentsSettings
from crm.platform.auth import Role
from crm.platform.consumer import EventConsumer
from crm.platform.events import Event, WorkflowEvent
from crm.platform.service import create_service_app

DEGRADED_AFTER = 0.3


class GatedConsumer(EventConsumer):
    """Applies nothing until its gate opens: a backlog builds up behind it."""

    stream = "CRM_WORKFLOW"

    def __init__(self, name: str, subject: str) -> None:
        self.name = name  # type: ignore[misc]
        self.subjects = [subject]  # type: ignore[misc]
        self.gate = asyncio.Event()
        self.applied = 0

    async def handle(self, session: AsyncSession, event: Event) -> None:
        await self.gate.wait()
        self.applied += 1


@dataclasses.dataclass
class Lagging:
    client: httpx.AsyncClient
    consumer: GatedConsumer
    subject: str
    durable: str

    async def publish(self, count: int) -> None:
        bus = self.client.app.state.bus  # type: ignore[attr-defined]
        for _ in range(count):
            event = WorkflowEvent(type="PROMISE_KEPT", entity_id=str(uuid.uuid4()), details={})
            await bus.publish(self.subject, event.to_json(), msg_id=str(event.event_id))

    async def metric(self, name: str) -> float | None:
        text = (await self.client.get("/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == {"consumer": self.durable}:
                    return float(sample.value)
        return None

    async def ready(self) -> dict[str, Any]:
        answer = await self.client.get("/health/ready")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


@asynccontextmanager
async def gated_service(settings, **overrides: Any) -> AsyncIterator[Lagging]:
    """A service (payments' routes and tables) whose one consumer waits at a gate, on a subject of
    this test alone."""
    marker = uuid.uuid4().hex[:10]
    subject = f"crm.workflow.lag_test_{marker}"
    consumer = GatedConsumer(f"gated-{marker}", subject)
    local = PaymentsSettings(**{**settings.model_dump(), **overrides})
    service = dataclasses.replace(
        spec(), consumers=[lambda _: consumer], on_startup=(), on_shutdown=(), background=()
    )
    app = create_service_app(service, local, standalone=False)
    async with app.router.lifespan_context(app):
        await app.state.bus.wait_connected(within=20)
        (runner,) = app.state.consumers
        await asyncio.wait_for(runner.ready.wait(), 20)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            try:
                yield Lagging(client, consumer, subject, runner.durable)
            finally:
                consumer.gate.set()


@pytest.fixture
async def lagging(settings) -> AsyncIterator[Lagging]:
    """A consumer is behind after ``DEGRADED_AFTER`` seconds."""
    async with gated_service(settings, consumer_lag_degraded_seconds=DEGRADED_AFTER) as service:
        yield service


async def _until(condition: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_backlog_shows_in_metrics_and_readiness_until_it_drains(lagging, token_for):
    assert await lagging.metric("crm_consumer_pending_events") == 0
    assert await lagging.metric("crm_consumer_lag_seconds") == 0
    idle = await lagging.ready()
    assert idle["status"] == "ok"
    assert idle["consumers"] == {lagging.durable: {"pending": 0, "lagSeconds": 0.0, "status": "ok"}}

    await lagging.publish(3)

    async def backlog_in_metrics() -> bool:
        pending = await lagging.metric("crm_consumer_pending_events")
        lag = await lagging.metric("crm_consumer_lag_seconds")
        return pending == 3 and lag is not None and lag > 0

    await _until(backlog_in_metrics)

    async def behind() -> bool:
        return (await lagging.ready())["consumers"][lagging.durable]["status"] == "behind"

    await _until(behind)
    degraded = await lagging.ready()
    assert degraded["status"] == "degraded", "a consumer behind degrades the service; it still serves"
    assert degraded["checks"] == {"database": "ok", "nats": "ok"}
    assert degraded["service"] == "payments"
    named = degraded["consumers"][lagging.durable]
    assert named["pending"] == 3 and named["lagSeconds"] > DEGRADED_AFTER
    listed = await lagging.client.get("/api/payments/consumers", headers=token_for(Role.ADMIN))
    assert listed.status_code == 200, listed.text
    assert listed.json()["degradedAfterSeconds"] == DEGRADED_AFTER
    (row,) = listed.json()["consumers"]
    assert row["consumer"] == lagging.durable and row["stream"] == "CRM_WORKFLOW"
    assert row["pending"] == 3 and row["status"] == "behind" and row["lagSeconds"] > DEGRADED_AFTER
    forbidden = await lagging.client.get("/api/payments/consumers", headers=token_for(Role.SUPERVISOR))
    assert forbidden.status_code == 403

    lagging.consumer.gate.set()

    async def drained_in_metrics() -> bool:
        pending = await lagging.metric("crm_consumer_pending_events")
        lag = await lagging.metric("crm_consumer_lag_seconds")
        return pending == 0 and lag == 0

    await _until(drained_in_metrics)
    assert lagging.consumer.applied == 3
    caught_up = await lagging.ready()
    assert caught_up["status"] == "ok"
    assert caught_up["consumers"][lagging.durable] == {"pending": 0, "lagSeconds": 0.0, "status": "ok"}


async def test_the_lag_is_sampled_in_the_background_without_being_asked(settings):
    """No request: the gauges follow the backlog on their own (every CRM_CONSUMER_LAG_SAMPLE_SECONDS)."""
    async with gated_service(settings, consumer_lag_sample_seconds=0.1) as service:
        labels = {"consumer": service.durable}

        async def pending_is(n: float) -> bool:
            return REGISTRY.get_sample_value("crm_consumer_pending_events", labels) == n

        await service.publish(1)
        await _until(lambda: pending_is(1))
        service.consumer.gate.set()
        await _until(lambda: pending_is(0))
        assert REGISTRY.get_sample_value("crm_consumer_lag_seconds", labels) == 0


def test_metrics_of_several_processes_show_the_newest_sample_not_their_sum(tmp_path):
    """Under ``crm up`` each worker samples the same JetStream answer: /metrics shows one value, the
    newest (a process that sampled before the backlog drained does not keep it up)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    sample = (
        "from crm.platform.metrics import CONSUMER_LAG, CONSUMER_PENDING\n"
        "CONSUMER_PENDING.labels('svc-c').set({pending}); CONSUMER_LAG.labels('svc-c').set({lag})\n"
    )
    for pending, lag in ((40, 75.5), (0, 0)):  # one worker during the backlog, another after it
        subprocess.run([sys.executable, "-c", sample.format(pending=pending, lag=lag)], env=env, check=True)
    scrape = (
        "import sys\nfrom crm.platform.metrics import metrics_response\n"
        "sys.stdout.write(bytes(metrics_response().body).decode())\n"
    )
    text = subprocess.run(
        [sys.executable, "-c", scrape], env=env, check=True, capture_output=True, text=True
    ).stdout
    values = {
        (s.name, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.labels.get("consumer") == "svc-c"
    }
    assert values == {("crm_consumer_pending_events", 0.0), ("crm_consumer_lag_seconds", 0.0)}

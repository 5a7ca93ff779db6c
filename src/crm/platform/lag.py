"""How far behind each consumer is: the events JetStream still holds for it, and how old the oldest is.

A consumer's lag is two numbers. Its pending events: ``num_pending`` (not yet delivered) plus
``num_ack_pending`` (delivered, not yet acked: being applied, or waiting for a retry). And the age
of the oldest event it has not applied: every message up to the consumer's ack floor is acked, so
that is the first message of its subjects after the floor, by its stream timestamp; 0 when nothing
is pending. Every process of a service runs the same durable consumers and JetStream answers them
all alike, so the gauges keep the newest sample (``mostrecent``), never a sum over the processes.

Each process samples its service's consumers every ``CRM_CONSUMER_LAG_SAMPLE_SECONDS``, and again
when ``/health/ready`` or ``/metrics`` is asked (reusing a sample younger than a second). A consumer
whose oldest unapplied event is older than ``CRM_CONSUMER_LAG_DEGRADED_SECONDS`` is *behind*: the
service still serves, and its readiness says ``degraded`` and names the consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from nats.js.errors import NotFoundError

from crm.platform.bus import Bus
from crm.platform.consumer import ConsumerRunner
from crm.platform.logging import get_logger
from crm.platform.metrics import CONSUMER_LAG, CONSUMER_PENDING
from crm.platform.tasks import stop_task

log = get_logger("crm.lag")

FRESH_SECONDS = 1.0
"""A sample this recent answers ``/health/ready`` and ``/metrics`` (concurrent askers share one)."""
TIMEOUT_SECONDS = 2.0
"""Longest a sample may take; a consumer not measured by then is ``unknown``."""

Status = Literal["ok", "behind", "unknown"]


@dataclass(frozen=True)
class Lag:
    """One consumer's lag as last measured (``None`` when it could not be: NATS down, not created yet)."""

    consumer: str
    stream: str
    pending: int | None
    seconds: float | None
    status: Status

    def as_json(self) -> dict[str, Any]:
        return {"pending": self.pending, "lagSeconds": self.seconds, "status": self.status}


async def measure(bus: Bus, stream: str, durable: str) -> tuple[int, float]:
    """``(pending events, age in seconds of the oldest unapplied)`` of a durable consumer; sets the gauges."""
    js = bus.js
    info = await js.consumer_info(stream, durable)
    pending = (info.num_pending or 0) + (info.num_ack_pending or 0)
    seconds = 0.0
    if pending:
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        config = info.config
        subjects = config.filter_subjects or ([config.filter_subject] if config.filter_subject else [">"])
        oldest: datetime | None = None
        for subject in subjects:
            with contextlib.suppress(NotFoundError):  # nothing of this subject after the floor
                msg = await js.get_msg(stream, seq=floor + 1, subject=subject, next=True)
                if msg.time is not None and (oldest is None or msg.time < oldest):
                    oldest = msg.time
        if oldest is not None:  # the server's clock against ours: never below zero
            seconds = round(max(0.0, (datetime.now(UTC) - oldest).total_seconds()), 3)
    CONSUMER_PENDING.labels(durable).set(pending)
    CONSUMER_LAG.labels(durable).set(seconds)
    return pending, seconds


def readiness(lags: Iterable[Lag]) -> dict[str, Any]:
    """What ``/health/ready`` adds: ``degraded`` when a consumer is behind, and each consumer's lag."""
    consumers = {lag.consumer: lag.as_json() for lag in lags}
    behind = any(c["status"] == "behind" for c in consumers.values())
    return {"status": "degraded" if behind else "ok", "consumers": consumers}


class ConsumerLag:
    """The lag of one service's consumers: sampled in the background, on demand, and judged."""

    def __init__(
        self,
        bus: Bus,
        runners: Sequence[ConsumerRunner],
        *,
        degraded_after: float,
        every: float,
    ) -> None:
        self.bus = bus
        self.consumers = [(runner.consumer.stream, runner.durable) for runner in runners]
        self.degraded_after = degraded_after
        self.every = every
        self.latest: dict[str, Lag] = {
            durable: Lag(durable, stream, None, None, "unknown") for stream, durable in self.consumers
        }
        self._sampled_at = -math.inf
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.consumers:
            self._task = asyncio.create_task(self._run(), name="consumer-lag")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(self.every)

    async def sample(self) -> list[Lag]:
        """Measure every consumer now."""
        async with self._lock:
            return await self._sample()

    async def current(self) -> list[Lag]:
        """The lag now: a sample at most ``FRESH_SECONDS`` old that measured every consumer, else a new
        one."""
        if not self.consumers or self._fresh():
            return list(self.latest.values())
        async with self._lock:
            if self._fresh():  # another asker sampled meanwhile
                return list(self.latest.values())
            return await self._sample()

    def _fresh(self) -> bool:
        recent = asyncio.get_running_loop().time() - self._sampled_at < FRESH_SECONDS
        return recent and all(lag.status != "unknown" for lag in self.latest.values())

    async def _sample(self) -> list[Lag]:
        lags = await asyncio.gather(*(self._one(stream, durable) for stream, durable in self.consumers))
        self.latest = {lag.consumer: lag for lag in lags}
        self._sampled_at = asyncio.get_running_loop().time()
        return lags

    async def _one(self, stream: str, durable: str) -> Lag:
        if not self.bus.is_connected:  # readiness says so already; do not wait for a timeout
            return Lag(durable, stream, None, None, "unknown")
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                pending, seconds = await measure(self.bus, stream, durable)
        except Exception as exc:
            log.info("consumer_lag_unknown", consumer=durable, error=str(exc) or type(exc).__name__)
            return Lag(durable, stream, None, None, "unknown")
        status: Status = "behind" if seconds > self.degraded_after else "ok"
        return Lag(durable, stream, pending, seconds, status)

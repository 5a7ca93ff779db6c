"""The NATS JetStream connection of a service: connects in the background, survives NATS outages."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from crm.platform.events import DEAD_LETTER_STREAM, STREAMS
from crm.platform.logging import get_logger
from crm.platform.tasks import stop_task

log = get_logger("crm.bus")


def nats_servers(url: str) -> list[str]:
    """The servers of ``NATS_URL``: one URL, or a cluster's nodes separated by commas (the client
    connects to any of them and moves to another when its node goes away)."""
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise ValueError("NATS_URL names no server")
    return servers


class Bus:
    """A JetStream client that a service can start without NATS: it keeps trying until it connects.

    Writes never depend on the bus: events wait in the outbox until it is back.
    """

    def __init__(self, url: str, *, name: str, duplicate_window: int = 600, replicas: int = 1) -> None:
        self.url = url
        self.servers = nats_servers(url)
        self.name = name
        self.duplicate_window = duplicate_window
        self.replicas = replicas
        self.nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name=f"bus-connect-{self.name}")

    async def _connect_forever(self) -> None:
        delay = 0.2
        while True:
            try:
                nc = await nats.connect(
                    servers=self.servers,
                    name=self.name,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    drain_timeout=5,
                    allow_reconnect=True,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                self.nc = nc
                self._js = nc.jetstream(timeout=5)
                await self.ensure_streams()
                self._connected.set()
                log.info("bus_connected", url=self.url)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("bus_connect_failed", error=str(exc), retry_in=delay)
                if self.nc is not None:
                    with contextlib.suppress(Exception):
                        await self.nc.close()
                    self.nc = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _on_error(self, exc: Exception) -> None:
        log.warning("bus_error", error=str(exc))

    async def _on_disconnected(self) -> None:
        log.warning("bus_disconnected")

    async def _on_reconnected(self) -> None:
        log.info("bus_reconnected")
        with contextlib.suppress(Exception):
            await self.ensure_streams()

    async def ensure_streams(self) -> None:
        """Create (or update) the event streams and the dead-letter stream, each with ``replicas``
        copies; idempotent. A stream that exists with another configuration (another replica count,
        say) is updated to this one."""
        js = self.js
        for config in self.stream_configs():
            try:
                await js.add_stream(config)
            except nats.js.errors.BadRequestError:
                await js.update_stream(config)

    def stream_configs(self) -> list[StreamConfig]:
        return [
            StreamConfig(
                name=name,
                subjects=[subject],
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE,
                discard=DiscardPolicy.OLD,
                max_age=30 * 24 * 3600,
                duplicate_window=self.duplicate_window,
                num_replicas=self.replicas,
            )
            for name, subject in [*STREAMS.items(), DEAD_LETTER_STREAM]
        ]

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("not connected to NATS")
        return self._js

    @property
    def is_connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected and self._js is not None

    async def wait_connected(self, within: float | None = None) -> None:
        await asyncio.wait_for(self._connected.wait(), within)

    async def publish(
        self, subject: str, data: bytes, *, msg_id: str, headers: dict[str, str] | None = None
    ) -> Any:
        """Publish with ``Nats-Msg-Id`` so JetStream drops a re-publish of the same event."""
        return await self.js.publish(subject, data, headers={"Nats-Msg-Id": msg_id, **(headers or {})})

    async def close(self) -> None:
        await stop_task(self._task)
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()
            with contextlib.suppress(Exception):
                await self.nc.close()
        self.nc = None
        self._js = None

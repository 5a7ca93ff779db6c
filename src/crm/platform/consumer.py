"""Idempotent JetStream consumers.

A fetched batch of messages is handled in one transaction that also records their ``eventId`` in
``processed_event``; a second delivery of the same event finds the row and does nothing. Messages
are acked only after the commit. If anything in the batch fails, the batch is rolled back and each
message is handled again on its own, in its own transaction, so one bad event cannot hold back or
take down the others (a payment burst would otherwise pay a commit per event). A handler that
keeps failing is retried with a growing delay up to ``max_deliveries`` times, then the message
goes to the dead-letter subject ``crm.dead_letter.<service>.<consumer>`` with the error in its
headers.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.auth import Principal, Role, set_current_principal
from crm.platform.batch_sql import insert_absent
from crm.platform.bus import Bus
from crm.platform.db import Database
from crm.platform.events import Event, parse_event
from crm.platform.logging import get_logger
from crm.platform.metrics import EVENTS_CONSUMED
from crm.platform.tables import PlatformTables
from crm.platform.tasks import stop_task

log = get_logger("crm.consumer")


class EventConsumer(ABC):
    """Subclass, name it, list its subjects, and write ``handle`` (which must only ``flush``)."""

    name: ClassVar[str]
    stream: ClassVar[str]
    subjects: ClassVar[list[str]]
    batch_size: ClassVar[int] = 100
    """Messages fetched and applied in one transaction; lower it for events that carry much work, so
    that a batch finishes well inside JetStream's ack wait (30 s)."""

    @abstractmethod
    async def handle(self, session: AsyncSession, event: Event) -> None:
        """Apply one event inside the consumer's transaction."""

    async def handle_batch(self, session: AsyncSession, events: list[Event]) -> None:
        """Apply events new to this consumer, in ``lock_order``, inside one transaction.

        By default one ``handle`` after the other. A consumer that receives many small events (a
        payment burst) overrides it with a few set-based statements for the whole batch; it must
        give the same result as ``handle`` one event at a time, in this order (its tests say so)."""
        for event in events:
            await self.handle(session, event)

    def lock_order(self, event: Event) -> str:
        """Where the event goes when a batch is applied (a stable sort: equal keys keep their order).

        Processes sharing a durable consumer apply different batches at once; when their events
        lock the same rows (say, a customer's), applying each batch in the order of those rows
        means two batches never wait for each other in a cycle (a deadlock). Default: as delivered.
        """
        return ""


class ConsumerRunner:
    """Pulls messages for one consumer and applies each exactly once."""

    def __init__(
        self,
        consumer: EventConsumer,
        *,
        service: str,
        db: Database,
        bus: Bus,
        tables: PlatformTables,
        max_deliveries: int = 5,
        retry_delay: float = 1.0,
        batch: int | None = None,
    ) -> None:
        self.consumer = consumer
        self.service = service
        self.db = db
        self.bus = bus
        self.tables = tables
        self.max_deliveries = max_deliveries
        self.retry_delay = retry_delay
        self.batch = batch or consumer.batch_size
        self.durable = f"{service}-{consumer.name}"
        self.principal = Principal(subject=f"system:{service}", roles=frozenset({Role.SYSTEM}))
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once the durable consumer exists on the server and messages are being fetched."""

    def start(self) -> None:
        self._stopping.clear()  # a runner stopped may be started again
        self._task = asyncio.create_task(self.run(), name=f"consumer-{self.durable}")

    async def stop(self, *, finish_within: float = 10.0) -> None:
        """Stop fetching, let the batch in hand be applied and acked, then stop. Cancelled mid-batch,
        the batch would be rolled back unacked, and wait out the ack wait (30 s) before another
        process got it: a rolling restart held events back that long. A fetch ends within its 1 s
        timeout; a batch still not done after ``finish_within`` seconds is cancelled after all."""
        self._stopping.set()
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task}, timeout=finish_within)
        await stop_task(self._task)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _subscribe(self) -> Any:
        js = self.bus.js
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            # A consumer created for the first time starts at new messages: replaying the stream's
            # 30 days into a service whose data already reflects them would apply them twice.
            # An existing durable keeps its position, so nothing is missed across restarts.
            deliver_policy=DeliverPolicy.NEW,
            filter_subjects=self.consumer.subjects,
            # Safety net: the runner dead-letters after max_deliveries; the server stops a message
            # that crashes the whole process before it can be dead-lettered.
            max_deliver=self.max_deliveries + 3,
            ack_wait=30,
        )
        await js.add_consumer(self.consumer.stream, config=config)
        return await js.pull_subscribe_bind(durable=self.durable, stream=self.consumer.stream)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.bus.wait_connected()
                self._sub = sub = await self._subscribe()
                self.ready.set()
                while not self._stopping.is_set():
                    try:
                        msgs = await self._next_batch(sub)
                    except (NatsTimeoutError, TimeoutError):
                        continue
                    await self.process_batch(msgs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer_loop_failed", consumer=self.durable, error=str(exc))
                await asyncio.sleep(1)

    async def _next_batch(self, sub: Any) -> list[Any]:
        """The next batch, as soon as there is one event: wait (up to 1 s) for the first, then take
        what else is there now, up to the batch size.

        One ``fetch(batch)`` would hold the first event until the batch filled or the second passed
        (nats-py's lingering pull), so at a quiet hour every effect waited up to a second."""
        first: list[Any] = await sub.fetch(1, timeout=1)
        if self.batch <= 1:
            return first
        try:
            more: list[Any] = await sub.fetch(self.batch - 1, timeout=0.05)
        except (NatsTimeoutError, TimeoutError):
            more = []
        return first + more

    async def process_batch(self, msgs: list[Any]) -> None:
        """All of ``msgs`` in one transaction; each on its own if that fails."""
        if len(msgs) > 1:
            set_current_principal(self.principal)
            try:
                events = [parse_event(msg.subject, msg.data) for msg in msgs]
                applied = await self.apply_all(events)
            except Exception as exc:
                log.info("event_batch_split", consumer=self.durable, size=len(msgs), error=str(exc))
            else:
                for msg, first_time in zip(msgs, applied, strict=True):
                    EVENTS_CONSUMED.labels(self.durable, "applied" if first_time else "duplicate").inc()
                    await msg.ack()
                return
        for msg in msgs:
            await self.process(msg)

    async def process(self, msg: Any) -> None:
        set_current_principal(self.principal)
        try:
            event = parse_event(msg.subject, msg.data)
        except Exception as exc:
            await self._dead_letter(msg, f"undecodable event: {exc}")
            return
        try:
            applied = await self.apply(event)
        except Exception as exc:
            delivered = msg.metadata.num_delivered
            if delivered >= self.max_deliveries:
                await self._dead_letter(msg, f"{type(exc).__name__}: {exc}")
            else:
                EVENTS_CONSUMED.labels(self.durable, "retried").inc()
                log.warning(
                    "event_failed",
                    consumer=self.durable,
                    event_id=str(event.event_id),
                    delivered=delivered,
                    error=str(exc),
                )
                await msg.nak(delay=self.retry_delay * delivered)
            return
        EVENTS_CONSUMED.labels(self.durable, "applied" if applied else "duplicate").inc()
        await msg.ack()

    async def apply(self, event: Event) -> bool:
        """Handle an event once: False when this consumer had already processed it."""
        processed = self.tables.processed_event
        async with self.db.transaction() as session:
            first_time = await session.scalar(
                pg_insert(processed)
                .values(consumer=self.consumer.name, event_id=event.event_id)
                .on_conflict_do_nothing()
                .returning(processed.c.event_id)
            )
            if first_time is None:
                return False
            await self.consumer.handle_batch(session, [event])
        return True

    async def apply_all(self, events: list[Event]) -> list[bool]:
        """Handle each event not processed before, in one transaction, in the consumer's
        ``lock_order``; for each (in the order given): was it new."""
        processed = self.tables.processed_event
        async with self.db.transaction() as session:
            rows = [{"consumer": self.consumer.name, "event_id": e.event_id} for e in events]
            new = set(await insert_absent(session, processed, rows, returning="event_id"))
            applied = [False] * len(events)
            todo: list[Event] = []
            for i in sorted(range(len(events)), key=lambda i: self.consumer.lock_order(events[i])):
                event = events[i]
                applied[i] = event.event_id in new
                new.discard(event.event_id)  # the same event twice in one batch: applied once
                if applied[i]:
                    todo.append(event)
            if todo:
                await self.consumer.handle_batch(session, todo)
        return applied

    async def _dead_letter(self, msg: Any, reason: str) -> None:
        subject = f"crm.dead_letter.{self.service}.{self.consumer.name}"
        headers = {
            "Crm-Original-Subject": msg.subject,
            "Crm-Error": reason[:900],
            "Crm-Deliveries": str(msg.metadata.num_delivered),
        }
        # The dead letter's id names the consumer: two consumers giving up on the same event are two
        # dead letters (with the event's id alone, JetStream dropped the second as a duplicate).
        msg_id = (msg.headers or {}).get("Nats-Msg-Id") or msg.reply
        await self.bus.publish(subject, msg.data, msg_id=f"dlq-{self.durable}-{msg_id}", headers=headers)
        await msg.term()
        EVENTS_CONSUMED.labels(self.durable, "dead_lettered").inc()
        log.error("event_dead_lettered", consumer=self.durable, subject=msg.subject, reason=reason)

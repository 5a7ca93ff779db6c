"""Transactional outbox: an event row commits with the change; a relay publishes it to JetStream.

The relay takes unsent rows with ``FOR UPDATE SKIP LOCKED`` (several relays may run; each row is
taken by one), publishes them with ``Nats-Msg-Id = eventId`` and marks them sent. It never tracks
"the last id seen", which would skip rows whose transactions commit out of order.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from typing import Any

from sqlalchemy import Table, delete, event, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from crm.platform.bus import Bus
from crm.platform.db import Database
from crm.platform.events import Event
from crm.platform.logging import get_logger
from crm.platform.metrics import OUTBOX_PENDING, OUTBOX_PUBLISHED
from crm.platform.rows import outbox_row
from crm.platform.tasks import stop_task

log = get_logger("crm.outbox")


class Outbox:
    """Adds events to a service's outbox table inside the caller's transaction."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.wakeup = asyncio.Event()

    async def add(self, session: AsyncSession, *events: Event) -> None:
        """Stage events; they are published only if the surrounding transaction commits."""
        if not events:
            return
        await session.execute(insert(self.table), [outbox_row(e) for e in events])
        self.wake_after_commit(session)

    def wake_after_commit(self, session: AsyncSession) -> None:
        """Wake the relay once the session's transaction has committed (not before: it would find
        nothing, and not after a rollback)."""
        session.info.setdefault("after_commit", []).append(self.wakeup.set)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop("after_commit", []):
        callback()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("after_commit", None)


class OutboxRelay:
    """Publishes unsent outbox rows; waits and retries while NATS is down."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        outbox: Outbox,
        *,
        service: str,
        poll_interval: float = 0.2,
        batch_size: int = 500,
        retention_days: int = 7,
        pending_sample_seconds: float = 5.0,
    ) -> None:
        self.db = db
        self.bus = bus
        self.outbox = outbox
        self.table = outbox.table
        self.service = service
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.retention_days = retention_days
        self.pending_sample_seconds = pending_sample_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False  # a relay stopped may be started again
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.service}")

    async def stop(self, *, finish_within: float = 10.0) -> None:
        """Let the round in hand finish (its rows published and marked, or left for the next relay),
        then stop; an idle relay stops at once. Cancelled mid-round, a stopping replica's relay tore
        its transaction down mid-flight, and SQLAlchemy logged the interrupted connection as an error
        with a traceback. A round still not done after ``finish_within`` seconds is cancelled."""
        self._stopping = True
        self.outbox.wakeup.set()
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task}, timeout=finish_within)
        await stop_task(self._task)

    async def run(self) -> None:
        rounds = 0
        sampled_at = -math.inf
        while not self._stopping:
            try:
                published = await self.relay_once() if self.bus.is_connected else 0
                rounds += 1
                if time.monotonic() - sampled_at >= self.pending_sample_seconds:
                    # The gauge an operator watches for a relay that cannot keep up (or a bus that is
                    # gone): one count on the partial index of unpublished rows every few seconds.
                    sampled_at = time.monotonic()
                    await self.pending()
                if rounds % 3000 == 0:
                    await self.purge_sent()
                if published >= self.batch_size:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_relay_failed", service=self.service, error=str(exc))
            if self._stopping:
                return
            self.outbox.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.wakeup.wait(), self.poll_interval)

    async def relay_once(self) -> int:
        """Publish one batch of unsent events; returns how many were published."""
        t = self.table
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(t.c.id, t.c.subject, t.c.payload)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.created_at)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            results: list[Any] = await asyncio.gather(
                *(self.bus.publish(r.subject, r.payload.encode(), msg_id=str(r.id)) for r in rows),
                return_exceptions=True,
            )
            sent = [r.id for r, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
            failed = [
                (r.id, res) for r, res in zip(rows, results, strict=True) if isinstance(res, BaseException)
            ]
            if sent:
                await session.execute(update(t).where(t.c.id.in_(sent)).values(published_at=func.now()))
            for row_id, error in failed:
                await session.execute(
                    update(t)
                    .where(t.c.id == row_id)
                    .values(attempts=t.c.attempts + 1, last_error=str(error)[:500] or type(error).__name__)
                )
        OUTBOX_PUBLISHED.labels(self.service).inc(len(sent))
        if failed:
            log.warning("outbox_publish_failed", service=self.service, failed=len(failed))
        return len(sent)

    async def pending(self) -> int:
        async with self.db.transaction() as session:
            count = await session.scalar(
                select(func.count()).select_from(self.table).where(self.table.c.published_at.is_(None))
            )
        OUTBOX_PENDING.labels(self.service).set(count or 0)
        return int(count or 0)

    async def purge_sent(self) -> None:
        """Sent rows are kept a while for tracing, then removed so the table stays small."""
        async with self.db.transaction() as session:
            await session.execute(
                delete(self.table).where(
                    self.table.c.published_at
                    < func.now() - text(f"interval '{int(self.retention_days)} days'")
                )
            )

"""The payment queue's depth: payments received whose events not every consumer has applied yet.

What the payments deployment scales on (KEDA, ``crm_payment_queue_depth`` in ``/metrics``): the
payments outbox's events not yet published, plus the most events any consumer of the ``CRM_PAYMENT``
stream (bank-sync's balances, workflow's read model, whoever subscribes later) still has to apply
(JetStream's pending and unacknowledged). A payment is "done" for the bank when the slowest consumer
has applied it, so the largest backlog counts, not the sum. The leader process samples it every
``CRM_CONSUMER_LAG_SAMPLE_SECONDS``; the gauge keeps the largest value any process reported.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from prometheus_client import Gauge
from sqlalchemy import func, select

from crm.payments.models import platform_tables
from crm.payments.settings import PaymentsSettings
from crm.platform.bus import Bus
from crm.platform.db import Database
from crm.platform.events import STREAMS
from crm.platform.logging import get_logger

log = get_logger("crm.payments.queue_depth")

STREAM = next(name for name, subject in STREAMS.items() if subject.startswith("crm.payment."))
QUEUE_DEPTH = Gauge(
    "crm_payment_queue_depth",
    "Payments received whose events are not yet applied by every consumer (unsent outbox events plus "
    "the largest backlog of a CRM_PAYMENT consumer)",
    multiprocess_mode="max",
)


async def measure(db: Database, bus: Bus) -> int:
    """The depth now (and the gauge set to it)."""
    outbox = platform_tables.outbox
    async with db.transaction() as session:
        unsent = await session.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
    backlog = 0
    if bus.is_connected:
        consumers = await bus.js.consumers_info(STREAM)
        backlog = max(((c.num_pending or 0) + (c.num_ack_pending or 0) for c in consumers), default=0)
    depth = int(unsent or 0) + backlog
    QUEUE_DEPTH.set(depth)
    return depth


async def sample_queue_depth(app: FastAPI) -> None:
    """Background job: the depth, every ``CRM_CONSUMER_LAG_SAMPLE_SECONDS``."""
    settings: PaymentsSettings = app.state.settings
    while True:
        try:
            await measure(app.state.db, app.state.bus)
        except Exception as exc:  # the bus or the database away: the next round tries again
            log.warning("payment_queue_depth_failed", error=str(exc))
        await asyncio.sleep(settings.consumer_lag_sample_seconds)

"""Several relays share one outbox and several consumers one durable (replicas of a service): over
thousands of events written while they run, each event is published once and applied once, and no
row is left unsent (``FOR UPDATE SKIP LOCKED``, ``processed_event``)."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from crm.payments.models import platform_tables
from crm.platform.db import Database
from crm.platform.embedded import EmbeddedNats
from crm.platform.outbox import OutboxRelay
from crm.services import SERVICES
from tests.platform.test_consumer import CountingConsumer, _event, _runner, _until

EVENTS = 3_000
WRITERS = 6


async def test_three_relays_and_two_consumers_publish_and_apply_each_event_once(
    settings, tmp_path, unique, isolated_database
):
    # Its own database and NATS: the only relays and consumers are the ones of this test.
    nats = EmbeddedNats(tmp_path)
    nats.start()
    local = settings.model_copy(
        update={"nats_url": nats.url(), "database_url": await isolated_database("payments")}
    )
    app = SERVICES["payments"].create_app(local)
    marker = unique("RELAYS-")
    published: Counter[str] = Counter()
    try:
        async with app.router.lifespan_context(app):
            bus = app.state.bus
            await bus.wait_connected(within=20)
            publish = bus.publish

            async def counted(subject: str, data: bytes, *, msg_id: str, headers=None):
                published[msg_id] += 1  # every publish by any relay, before JetStream's de-duplication
                return await publish(subject, data, msg_id=msg_id, headers=headers)

            bus.publish = counted
            # the app's own relay and two more, each with its own connections as another replica has
            others = [Database(local.database_url, schema="payments") for _ in range(2)]
            relays = [
                OutboxRelay(db, bus, app.state.outbox, service="payments", poll_interval=0.01, batch_size=40)
                for db in others
            ]
            consumers = [_runner(app, local, CountingConsumer("relay-test", marker)) for _ in range(2)]
            for worker in (*relays, *consumers):
                worker.start()
            events = [_event(marker) for _ in range(EVENTS)]

            async def write(part: list) -> None:  # payments' writers, committing while the relays run
                for start in range(0, len(part), 25):
                    async with app.state.db.transaction() as session:
                        await app.state.outbox.add(session, *part[start : start + 25])

            await asyncio.gather(*(write(events[i::WRITERS]) for i in range(WRITERS)))

            outbox, audit = platform_tables.outbox, platform_tables.audit_log

            async def all_sent() -> bool:
                async with app.state.db.transaction() as session:
                    unsent = await session.scalar(
                        select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                    )
                return unsent == 0

            async def all_applied() -> bool:
                async with app.state.db.transaction() as session:
                    applied = await session.scalar(
                        select(func.count()).select_from(audit).where(audit.c.entity_type == "TestEvent")
                    )
                return applied >= EVENTS

            await _until(all_sent, within=120)
            await _until(all_applied, within=120)
            for worker in (*relays, *consumers):
                await worker.stop()
            for db in others:
                await db.dispose()

            ids = {str(e.event_id) for e in events}
            assert set(published) == ids and set(published.values()) == {1}, "each event published once"
            info = await bus.js.stream_info("CRM_WORKFLOW")
            assert info.state.messages == EVENTS
            async with app.state.db.transaction() as session:
                per_event = (
                    await session.execute(
                        select(audit.c.entity_key, func.count())
                        .where(audit.c.entity_type == "TestEvent")
                        .group_by(audit.c.entity_key)
                    )
                ).all()
            assert {key for key, _ in per_event} == ids and {n for _, n in per_event} == {1}, "applied once"
            print(f"\n{EVENTS} events, 3 relays, 2 consumers: each published once and applied once")
    finally:
        nats.stop()

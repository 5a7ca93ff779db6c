"""Idempotent consumers: an event applied once however often it arrives; poison to the dead letters."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.payments.models import platform_tables
from crm.platform.audit import record_change
from crm.platform.consumer import ConsumerRunner, EventConsumer
from crm.platform.events import Event, WorkflowEvent

SUBJECT = "crm.workflow.promise_kept"


class CountingConsumer(EventConsumer):
    """Audits every event of this test run it applies, so applications can be counted."""

    stream = "CRM_WORKFLOW"
    subjects = [SUBJECT]

    def __init__(self, name: str, marker: str, *, fail: bool = False) -> None:
        self.name = name  # type: ignore[misc]
        self.marker = marker
        self.fail = fail
        self.attempts = 0

    async def handle(self, session: AsyncSession, event: Event) -> None:
        assert isinstance(event, WorkflowEvent)
        if event.details.get("marker") != self.marker:
            return
        self.attempts += 1
        await record_change(
            session,
            platform_tables,
            action="APPLIED",
            entity_type="TestEvent",
            entity_key=str(event.event_id),
            before=None,
            after={"consumer": self.name},
        )
        if self.fail:
            raise RuntimeError("this consumer cannot handle the event")


def _event(marker: str) -> WorkflowEvent:
    return WorkflowEvent(type="PROMISE_KEPT", entity_id=str(uuid.uuid4()), details={"marker": marker})


async def _applications(app, event_id: uuid.UUID) -> int:
    audit = platform_tables.audit_log
    async with app.state.db.transaction() as session:
        return await session.scalar(
            select(func.count()).select_from(audit).where(audit.c.entity_key == str(event_id))
        )


async def _until(predicate, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def _runner(app, settings, consumer: EventConsumer) -> ConsumerRunner:
    return ConsumerRunner(
        consumer,
        service="test",
        db=app.state.db,
        bus=app.state.bus,
        tables=platform_tables,
        max_deliveries=settings.consumer_max_deliveries,
        retry_delay=0.05,
    )


async def test_same_event_delivered_twice_is_applied_once(payments, settings):
    app = payments.app
    marker = uuid.uuid4().hex
    consumer = CountingConsumer(f"counting-{marker[:8]}", marker)
    runner = _runner(app, settings, consumer)
    runner.start()
    await asyncio.wait_for(runner.ready.wait(), 20)
    try:
        event = _event(marker)
        # Two publishes with different message ids: JetStream cannot de-duplicate, the consumer must.
        await app.state.bus.publish(SUBJECT, event.to_json(), msg_id=f"{event.event_id}-a")
        await app.state.bus.publish(SUBJECT, event.to_json(), msg_id=f"{event.event_id}-b")
        await _until(lambda: _attempted(consumer, 1))
        other = _event(marker)
        await app.state.bus.publish(SUBJECT, other.to_json(), msg_id=str(other.event_id))
        await _until(lambda: _attempted(consumer, 2))
        assert await _applications(app, event.event_id) == 1
        assert await _applications(app, other.event_id) == 1
        assert consumer.attempts == 2
        assert await runner.apply(event) is False, "a redelivery after the commit changes nothing"
    finally:
        await runner.stop()


async def _attempted(consumer: CountingConsumer, n: int) -> bool:
    return consumer.attempts >= n


async def test_event_failing_every_time_goes_to_the_dead_letter_subject(payments, settings):
    app = payments.app
    marker = uuid.uuid4().hex
    consumer = CountingConsumer(f"failing-{marker[:8]}", marker, fail=True)
    dead_letters = await app.state.bus.nc.subscribe(f"crm.dead_letter.test.{consumer.name}")
    runner = _runner(app, settings, consumer)
    runner.start()
    await asyncio.wait_for(runner.ready.wait(), 20)
    try:
        event = _event(marker)
        await app.state.bus.publish(SUBJECT, event.to_json(), msg_id=str(event.event_id))
        msg = await dead_letters.next_msg(timeout=20)
        assert json.loads(msg.data)["eventId"] == str(event.event_id)
        assert msg.headers["Crm-Original-Subject"] == SUBJECT
        assert "cannot handle" in msg.headers["Crm-Error"]
        assert int(msg.headers["Crm-Deliveries"]) == settings.consumer_max_deliveries
        assert consumer.attempts == settings.consumer_max_deliveries
        assert await _applications(app, event.event_id) == 0, "every failed attempt was rolled back"
        info = await app.state.bus.js.stream_info("CRM_DEAD_LETTER")
        assert info.state.messages >= 1, "dead letters are kept in their own stream"
    finally:
        await runner.stop()
        await dead_letters.unsubscribe()


class TimedConsumer(CountingConsumer):
    """Fails every time, noting when each attempt came."""

    def __init__(self, name: str, marker: str) -> None:
        super().__init__(name, marker, fail=True)
        self.attempted_at: list[float] = []

    async def handle(self, session: AsyncSession, event: Event) -> None:
        if isinstance(event, WorkflowEvent) and event.details.get("marker") == self.marker:
            self.attempted_at.append(asyncio.get_running_loop().time())
        await super().handle(session, event)


async def test_the_wait_before_each_retry_grows_with_the_deliveries(payments, settings):
    """The README: a failing event is retried with a growing delay (``retry_delay`` times the deliveries
    so far), so a consumer whose database is struggling is not hammered. JetStream never redelivers a message
    before the delay its nak asked for, so each wait is at least its share, whatever the machine."""
    app = payments.app
    marker = uuid.uuid4().hex
    consumer = TimedConsumer(f"timed-{marker[:8]}", marker)
    runner = _runner(app, settings, consumer)
    runner.retry_delay = 0.2
    runner.start()
    await asyncio.wait_for(runner.ready.wait(), 20)
    try:
        event = _event(marker)
        await app.state.bus.publish(SUBJECT, event.to_json(), msg_id=str(event.event_id))
        await _until(lambda: _attempted(consumer, settings.consumer_max_deliveries), within=30)
    finally:
        await runner.stop()
    times = consumer.attempted_at
    waits = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(waits) == settings.consumer_max_deliveries - 1 >= 2
    for deliveries, wait in enumerate(waits, start=1):
        assert wait >= 0.2 * deliveries - 0.02, f"wait after delivery {deliveries}: {wait:.2f} s ({waits})"


class PoisonedConsumer(CountingConsumer):
    """Fails on the events it is told are poison, applies the others."""

    def __init__(self, name: str, marker: str, poison: set[uuid.UUID]) -> None:
        super().__init__(name, marker)
        self.poison = poison

    async def handle(self, session: AsyncSession, event: Event) -> None:
        await super().handle(session, event)
        if event.event_id in self.poison:
            raise RuntimeError("this event cannot be applied")


async def test_a_poison_event_in_a_batch_holds_back_none_of_the_others(payments, settings):
    app = payments.app
    marker = uuid.uuid4().hex
    good = [_event(marker) for _ in range(20)]
    bad = _event(marker)
    consumer = PoisonedConsumer(f"batch-{marker[:8]}", marker, {bad.event_id})
    dead_letters = await app.state.bus.nc.subscribe(f"crm.dead_letter.test.{consumer.name}")
    runner = _runner(app, settings, consumer)
    runner.start()
    await asyncio.wait_for(runner.ready.wait(), 20)
    await runner.stop()  # the durable consumer stays on the server and keeps its position
    try:
        # Published while nobody fetches: the restarted runner gets them as one batch.
        for event in [*good[:10], bad, *good[10:], good[3]]:
            await app.state.bus.publish(SUBJECT, event.to_json(), msg_id=f"{event.event_id}-{uuid.uuid4()}")
        runner = _runner(app, settings, consumer)
        runner.start()
        msg = await dead_letters.next_msg(timeout=30)
        assert json.loads(msg.data)["eventId"] == str(bad.event_id)
        for event in good:
            assert await _applications(app, event.event_id) == 1, "applied once, the repeat of good[3] too"
        assert await _applications(app, bad.event_id) == 0

        await runner.stop()
        later = [_event(marker) for _ in range(10)]
        for event in [*later, later[5], good[0]]:  # a repeat inside the batch, and one of before
            await app.state.bus.publish(SUBJECT, event.to_json(), msg_id=f"{event.event_id}-{uuid.uuid4()}")
        runner = _runner(app, settings, consumer)
        runner.start()

        async def all_applied() -> bool:
            return all([await _applications(app, e.event_id) for e in later])

        await _until(all_applied)
        await asyncio.sleep(0.3)  # a second application of the repeat would land by now
        for event in [*later, good[0]]:
            assert await _applications(app, event.event_id) == 1
    finally:
        await runner.stop()
        await dead_letters.unsubscribe()


class OrderedConsumer(EventConsumer):
    """Applies a batch in the order of the events' ``details.key``; remembers the order it was given."""

    stream = "CRM_WORKFLOW"
    subjects = [SUBJECT]

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]
        self.handled: list[uuid.UUID] = []

    def lock_order(self, event: Event) -> str:
        assert isinstance(event, WorkflowEvent)
        return str(event.details["key"])

    async def handle(self, session: AsyncSession, event: Event) -> None:
        self.handled.append(event.event_id)


async def test_a_batch_is_applied_in_the_consumers_lock_order_and_answered_in_delivery_order(
    payments, settings
):
    """Two processes applying batches that lock the same customers lock them in the same order."""
    consumer = OrderedConsumer(f"ordered-{uuid.uuid4().hex[:8]}")
    runner = _runner(payments.app, settings, consumer)

    def keyed(key: str) -> WorkflowEvent:
        return WorkflowEvent(type="PROMISE_KEPT", entity_id=str(uuid.uuid4()), details={"key": key})

    c1, a, c2, b = keyed("C"), keyed("A"), keyed("C"), keyed("B")
    seen = keyed("A")
    assert await runner.apply(seen) is True
    applied = await runner.apply_all([c1, a, seen, c2, b, a])

    assert applied == [True, True, False, True, True, False], "each answer stays with its delivery"
    # By key; equal keys as delivered; an event seen before, or twice in the batch, applied once.
    assert consumer.handled == [seen.event_id, a.event_id, b.event_id, c1.event_id, c2.event_id]


class HeldConsumer(CountingConsumer):
    """Holds its event until released: a batch in hand when the process is told to stop."""

    def __init__(self, name: str, marker: str) -> None:
        super().__init__(name, marker)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, session: AsyncSession, event: Event) -> None:
        assert isinstance(event, WorkflowEvent)
        if event.details.get("marker") == self.marker:
            self.started.set()
            await self.release.wait()
        await super().handle(session, event)


async def test_a_consumer_stopping_finishes_the_batch_in_hand_instead_of_leaving_it_to_the_ack_wait(
    payments, settings
):
    """A replica stopped for a rolling restart used to cancel the batch it was applying: rolled back and
    never acked, its events waited out the 30 s ack wait before another replica got them."""
    app = payments.app
    marker = uuid.uuid4().hex
    consumer = HeldConsumer(f"held-{marker[:8]}", marker)
    runner = _runner(app, settings, consumer)
    runner.start()
    await asyncio.wait_for(runner.ready.wait(), 20)
    event = _event(marker)
    await app.state.bus.publish(SUBJECT, event.to_json(), msg_id=str(event.event_id))
    await asyncio.wait_for(consumer.started.wait(), 15)
    stopping = asyncio.create_task(runner.stop())
    for _ in range(5):  # the stop under way (it has told the runner) while the batch is in hand
        await asyncio.sleep(0)
    assert not stopping.done()
    consumer.release.set()
    await asyncio.wait_for(stopping, 15)
    assert await _applications(app, event.event_id) == 1, "the batch in hand was applied"
    info = await app.state.bus.js.consumer_info(consumer.stream, runner.durable)
    assert (info.num_ack_pending, info.num_pending) == (0, 0), "and acked: nothing waits for a redelivery"

    runner.start()  # a runner stopped may be started again
    try:
        later = _event(marker)
        await app.state.bus.publish(SUBJECT, later.to_json(), msg_id=str(later.event_id))
        await _until(lambda: _applied_once(app, later.event_id))
    finally:
        await runner.stop()


async def _applied_once(app, event_id: uuid.UUID) -> bool:
    return await _applications(app, event_id) == 1

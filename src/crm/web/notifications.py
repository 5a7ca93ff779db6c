"""Live notifications of an agent (the header's bell): events from NATS, fanned out to open streams.

One core-NATS subscription per web process on ``crm.workflow.>`` and ``crm.payment.>`` (JetStream
streams are fed by publishes on those subjects, so a plain subscription sees every event live),
started by the first stream that opens. Each open stream (``GET /notifications/stream``) has its
own bounded :class:`asyncio.Queue`; the subscription's callback puts every event in every queue
and the stream keeps what concerns its agent (:class:`AgentWatch`). A queue that falls behind
loses its oldest events, never blocks the others.

Moving from page to page closes the browser's stream and opens another: the events of the last
minutes are kept (:data:`RECENT_SECONDS`, by the time this process received them), and a stream
opened with ``since`` (the time the browser's previous stream was ready) gets those received
after it first; the browser drops the ones it already shows (same id). Every web process
subscribes at start-up (:func:`follow_events`), so whichever process answers the next page has
the recent events.

What an agent is told about, and how "my customer" is decided (through the APIs only, with the
agent's own token, never a table of a service):

- ``CUSTOMER_ASSIGNED`` naming the agent as call or field agent when it was not before: a new
  customer. The event's ``details`` carry both agents and the previous ones; the set of the
  agent's customers (read at connect from ``GET /api/assignments/agent/:id?current=true``) follows
  these events, so a customer moved to someone else stops counting as mine.
- ``PROMISE_BROKEN`` of a promise the agent recorded, or on one of its customers.
- ``PAYMENT_RECEIVED`` on one of its customers.
- At connect, the promises due today: the ``PROMISE_DUE_TODAY`` items of the agent's queue.

A stream opened without ``since`` (the first page after signing in, a new tab) first replays the
last :data:`HISTORY_HOURS` of those events from JetStream (:func:`recent_events`, an ephemeral
consumer per kind, the newest :data:`HISTORY_SCAN_LIMIT` at most), kept as above but only for the
agent's current customers: what happened about them while the agent was away.

A notification names the customer by name (bank-sync's ``POST /api/customers/lookup``, one call
for the notifications sent together, remembered by the stream), the CIF only when it has none.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from crm.platform.bus import Bus
from crm.platform.db import utcnow
from crm.platform.events import Event, PaymentEvent, WorkflowEvent, parse_event
from crm.platform.logging import get_logger
from crm.platform.metrics import NOTIFICATION_EVENTS
from crm.platform.tasks import stop_task
from crm.web.backend import Backend
from crm.web.session import Viewer

log = get_logger("crm.web.notifications")

SUBJECTS = ("crm.workflow.>", "crm.payment.>")
QUEUE_LIMIT = 500
"""Events one stream may have waiting; past that its oldest are dropped."""
ASSIGNMENTS_PAGE = 500
MAX_ASSIGNMENT_PAGES = 40
"""At most 20,000 customers are read as "mine" at connect (an agent's capacity is far lower)."""
DUE_TODAY_PAGE = 100
MAX_DUE_TODAY_PAGES = 5
RECENT_SECONDS = 300
"""How long received events are kept for a stream opened again (a page change takes a second)."""
RECENT_LIMIT = 10_000
HISTORY_HOURS = 8
"""A fresh sign-in shows what happened about the agent's customers in the last hours (a shift)."""
HISTORY_SCAN_LIMIT = 5_000
"""At most this many of the newest events of each kind are read for it (a busy bank: the newest)."""
HISTORY_SHOWN = 50
"""Of what concerns the agent, the newest this many (the bell keeps 50)."""
HISTORY_SUBJECTS = (
    ("CRM_WORKFLOW", "crm.workflow.customer_assigned"),
    ("CRM_WORKFLOW", "crm.workflow.promise_broken"),
    ("CRM_PAYMENT", "crm.payment.payment_received"),
)
HISTORY_BATCH = 500
LOOKUP_LIMIT = 1_000


class EventFanOut:
    """The process's one subscription to the CRM events, and the queues of the open streams."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._listeners: set[asyncio.Queue[Event]] = set()
        self._subscriptions: list[Subscription] = []
        self._lock = asyncio.Lock()
        self._recent: deque[tuple[datetime, Event]] = deque(maxlen=RECENT_LIMIT)

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    async def start(self, within: float = 10.0) -> None:
        """Subscribe once (idempotent); ``TimeoutError`` when NATS is not reachable ``within`` seconds."""
        if self._subscriptions:
            return
        async with self._lock:
            if self._subscriptions:
                return
            await self._bus.wait_connected(within)
            nc = self._bus.nc
            if nc is None:
                raise TimeoutError("not connected to NATS")
            for subject in SUBJECTS:
                self._subscriptions.append(await nc.subscribe(subject, cb=self._deliver))
            await nc.flush()  # the server has the subscriptions: nothing published from now on is missed
            for kind in ("CUSTOMER_ASSIGNED", "PROMISE_BROKEN", "PAYMENT_RECEIVED"):
                NOTIFICATION_EVENTS.labels(kind).inc(0)  # this process shows in /metrics from now on
            log.info("notifications_subscribed", subjects=list(SUBJECTS))

    async def _deliver(self, msg: Msg) -> None:
        try:
            event = parse_event(msg.subject, msg.data)
        except ValueError:  # pydantic's ValidationError is one too
            log.warning("notification_event_unreadable", subject=msg.subject)
            return
        NOTIFICATION_EVENTS.labels(event.type).inc()
        now = utcnow()
        self._recent.append((now, event))
        while self._recent and self._recent[0][0] < now - timedelta(seconds=RECENT_SECONDS):
            self._recent.popleft()
        for queue in list(self._listeners):
            _put(queue, event)

    @contextlib.asynccontextmanager
    async def listen(self, since: datetime | None = None) -> AsyncIterator[asyncio.Queue[Event]]:
        """A queue receiving every event from now on, until the block ends; first, with ``since``,
        the kept events this process received after it."""
        await self.start()
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        # No await from here to the end of the replay: every event is either kept before the queue
        # is listening (replayed) or delivered after (queued), never both, never neither.
        self._listeners.add(queue)
        if since is not None:
            for received, event in list(self._recent):
                if received > since:
                    _put(queue, event)
        try:
            yield queue
        finally:
            self._listeners.discard(queue)

    async def close(self) -> None:
        for subscription in self._subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        self._subscriptions = []


def _put(queue: asyncio.Queue[Event], event: Event) -> None:
    """Queue an event, dropping the oldest waiting one when the queue is full."""
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(event)


async def follow_events(app: FastAPI) -> None:
    """Start-up: subscribe in the background (retrying while NATS is away), so that this process
    keeps the recent events before its first stream opens."""

    async def subscribe() -> None:
        while True:
            try:
                await fan_out(app).start()
                return
            except TimeoutError:
                log.warning("notifications_bus_unavailable")

    app.state.notifications_follow = asyncio.create_task(subscribe(), name="web-notifications")


async def stop_following(app: FastAPI) -> None:
    task: asyncio.Task[None] | None = getattr(app.state, "notifications_follow", None)
    if task is not None:
        await stop_task(task)
    found: EventFanOut | None = getattr(app.state, "notifications", None)
    if found is not None:
        await found.close()


def fan_out(app: FastAPI) -> EventFanOut:
    """The app's fan-out, made on first use."""
    found: EventFanOut | None = getattr(app.state, "notifications", None)
    if found is None:
        found = EventFanOut(app.state.bus)
        app.state.notifications = found
    return found


def _fan_out(request: Request) -> EventFanOut:
    return fan_out(request.app)


FanOut = Annotated[EventFanOut, Depends(_fan_out)]
"""The app's fan-out of the CRM events, as the bell's stream asks for it."""


# ---------------------------------------------------------------- one agent's notifications


@dataclass(frozen=True)
class Notification:
    id: str
    kind: str
    """ASSIGNED, PROMISE_BROKEN, PROMISE_DUE_TODAY or PAYMENT_RECEIVED."""
    cif: str
    at: datetime
    name: str | None = None
    amount: str | None = None
    currency: str = "VND"
    on: date | None = None


@dataclass
class AgentWatch:
    """What concerns one agent among all the events: knows (and follows) the agent's customers."""

    agent_id: str
    customers: set[str] = field(default_factory=set)

    def notice(self, event: Event) -> Notification | None:
        if isinstance(event, WorkflowEvent) and event.type == "CUSTOMER_ASSIGNED":
            return self._assigned(event)
        if isinstance(event, WorkflowEvent) and event.type == "PROMISE_BROKEN" and event.cif:
            if event.agent_id != self.agent_id and event.cif not in self.customers:
                return None
            return Notification(
                id=str(event.event_id),
                kind="PROMISE_BROKEN",
                cif=event.cif,
                at=event.timestamp,
                amount=_text(event.details.get("promiseAmount")),
                on=_date(event.details.get("promiseDate")),
            )
        if (
            isinstance(event, PaymentEvent)
            and event.type == "PAYMENT_RECEIVED"
            and event.cif in self.customers
        ):
            return Notification(
                id=str(event.event_id),
                kind="PAYMENT_RECEIVED",
                cif=event.cif,
                at=event.timestamp,
                amount=f"{event.amount:.2f}",
                currency=event.currency,
            )
        return None

    def _assigned(self, event: WorkflowEvent) -> Notification | None:
        if not event.cif:
            return None
        details = event.details
        if "assignedCallAgentId" in details or "assignedFieldAgentId" in details:
            now_mine = self.agent_id in (
                details.get("assignedCallAgentId"),
                details.get("assignedFieldAgentId"),
            )
            was_mine = self.agent_id in (
                details.get("previousCallAgentId"),
                details.get("previousFieldAgentId"),
            )
        else:  # an event without the details: its agent only
            now_mine, was_mine = event.agent_id == self.agent_id, event.cif in self.customers
        if not now_mine:
            self.customers.discard(event.cif)
            return None
        self.customers.add(event.cif)
        if was_mine:
            return None
        return Notification(id=str(event.event_id), kind="ASSIGNED", cif=event.cif, at=event.timestamp)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


async def my_customers(backend: Backend, viewer: Viewer) -> set[str]:
    """The agent's current customers (``GET /api/assignments/agent/:id?current=true``, every page)."""
    found: set[str] = set()
    for page in range(1, MAX_ASSIGNMENT_PAGES + 1):
        answer = await backend.get(
            viewer,
            f"/api/assignments/agent/{viewer.agent_id}",
            current="true",
            page=page,
            pageSize=ASSIGNMENTS_PAGE,
        )
        found.update(str(item["cif"]) for item in answer["items"])
        if page * ASSIGNMENTS_PAGE >= int(answer["total"]):
            break
    return found


async def promises_due_today(backend: Backend, viewer: Viewer) -> list[Notification]:
    """The ``PROMISE_DUE_TODAY`` items of the agent's queue (they come first in it)."""
    due: list[Notification] = []
    now = utcnow()
    for page in range(1, MAX_DUE_TODAY_PAGES + 1):
        answer = await backend.get(
            viewer, f"/api/agents/{viewer.agent_id}/queue", page=page, pageSize=DUE_TODAY_PAGE
        )
        items = answer["items"]
        for item in items:
            if item["reason"] != "PROMISE_DUE_TODAY":
                return due
            due.append(
                Notification(
                    id=f"due-{item['cif']}-{item.get('promiseDate')}",
                    kind="PROMISE_DUE_TODAY",
                    cif=str(item["cif"]),
                    at=now,
                    name=item.get("name"),
                    amount=item.get("promiseAmount"),
                    on=_date(item.get("promiseDate")),
                )
            )
        if len(items) < DUE_TODAY_PAGE:
            break
    return due


# ---------------------------------------------------------------- history and names


async def recent_events(bus: Bus, since: datetime) -> list[Event]:
    """The events of the bell's kinds published since ``since`` that JetStream keeps, oldest first
    (of each kind at most the newest :data:`HISTORY_SCAN_LIMIT`)."""
    found: list[Event] = []
    for stream, subject in HISTORY_SUBJECTS:
        try:
            found.extend(await _replay(bus.js, stream, subject, since))
        except (NatsError, RuntimeError) as exc:  # the bell goes on live; the past is a bonus
            log.warning("notifications_history_unavailable", subject=subject, error=type(exc).__name__)
    found.sort(key=lambda event: event.timestamp)
    return found


async def _replay(js: JetStreamContext, stream: str, subject: str, since: datetime) -> list[Event]:
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_TIME,
        opt_start_time=since,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=30.0,
    )
    sub = await js.pull_subscribe(subject, stream=stream, config=config)
    try:
        if ((await sub.consumer_info()).num_pending or 0) > HISTORY_SCAN_LIMIT:  # only the newest
            await _close(js, stream, sub)
            last = (await js.stream_info(stream)).state.last_seq
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=max(1, last - HISTORY_SCAN_LIMIT + 1),
                ack_policy=AckPolicy.NONE,
                inactive_threshold=30.0,
            )
            sub = await js.pull_subscribe(subject, stream=stream, config=config)
        events: list[Event] = []
        read = 0
        while read < HISTORY_SCAN_LIMIT:
            pending = (await sub.consumer_info()).num_pending or 0
            if pending == 0:
                break
            try:
                batch = await sub.fetch(min(HISTORY_BATCH, pending, HISTORY_SCAN_LIMIT - read), timeout=2)
            except NatsTimeout:
                break
            read += len(batch)
            for msg in batch:
                with contextlib.suppress(ValueError):
                    events.append(parse_event(msg.subject, msg.data))
        return events
    finally:
        await _close(js, stream, sub)


async def _close(js: JetStreamContext, stream: str, sub: JetStreamContext.PullSubscription) -> None:
    with contextlib.suppress(Exception):
        name = (await sub.consumer_info()).name
        await sub.unsubscribe()
        await js.delete_consumer(stream, name)


def history(events: list[Event], agent_id: str, customers: set[str]) -> list[Notification]:
    """What the bell shows of past events: what concerns the agent, about its current customers
    only (one moved away meanwhile is no longer its business), the newest :data:`HISTORY_SHOWN`."""
    watch = AgentWatch(agent_id, set(customers))
    notes = [note for event in events if (note := watch.notice(event)) is not None]
    return [note for note in notes if note.cif in customers][-HISTORY_SHOWN:]


async def name_customers(
    backend: Backend, viewer: Viewer, notes: list[Notification], names: dict[str, str]
) -> list[Notification]:
    """The notifications with their customers' names: those not in ``names`` (which the stream
    keeps) read in one lookup; a customer bank-sync does not know keeps its CIF."""
    missing = list(dict.fromkeys(note.cif for note in notes if note.name is None and note.cif not in names))
    for start in range(0, len(missing), LOOKUP_LIMIT):
        answer = await backend.post(
            viewer, "/api/customers/lookup", json={"cifs": missing[start : start + LOOKUP_LIMIT]}
        )
        names.update({str(item["cif"]): str(item["name"]) for item in answer["items"] if item.get("name")})
    return [
        note if note.name or note.cif not in names else replace(note, name=names[note.cif]) for note in notes
    ]

"""Pages: the agent's day (``/my-day``: today's call queue and counts) and the bell's live stream.

``GET /my-day`` shows the queue of ``GET /api/agents/:id/queue`` (paged), with the counts of
``GET /api/agents/:id/workload`` and ``GET /api/agents/:id/performance?from=<today>&to=<today>``
("today" being the business date in ``CRM_BUSINESS_TIMEZONE``). ``GET /notifications/stream`` is
the server-sent-events stream of the header's bell (see :mod:`crm.web.notifications`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sse_starlette.event import ServerSentEvent
from sse_starlette.sse import EventSourceResponse

from crm.platform.bus import Bus
from crm.platform.business_time import business_date
from crm.platform.db import Database, utcnow
from crm.platform.logging import get_logger
from crm.platform.state import BusinessZone, Db
from crm.web import i18n
from crm.web.backend import Backend, BackendError, WebBackend
from crm.web.labels import dpd_badge
from crm.web.notifications import (
    HISTORY_HOURS,
    AgentWatch,
    EventFanOut,
    FanOut,
    Notification,
    history,
    my_customers,
    name_customers,
    promises_due_today,
    recent_events,
)
from crm.web.session import (
    AGENTS,
    LoginRequired,
    PageForbidden,
    PageRouter,
    SignedIn,
    Viewer,
    is_alive,
    session_id,
)
from crm.web.settings import Settings, WebSettings
from crm.web.templating import render

log = get_logger("crm.web.my_day")
router = PageRouter(tags=["web"])

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 25
PING_SECONDS = 15
SESSION_CHECK_SECONDS = 60.0
RETRY_MS = 5_000
"""How long the browser waits before opening the stream again after it ended."""
SINCE_MARGIN_SECONDS = 5
LIVE_BATCH = 200
"""Events taken off the stream's queue at once (a bulk assignment): named in one lookup."""


def _positive(value: str | None, default: int) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return number if number >= 1 else default


def customer_href(cif: str) -> str:
    return f"/customers/{quote(cif, safe='')}"


async def _counts(backend: Backend, viewer: Viewer, tz: Any) -> dict[str, Any]:
    """The day's counts: the agent's workload and today's performance (business date)."""
    today = business_date(utcnow(), tz).isoformat()
    agent = f"/api/agents/{viewer.agent_id}"
    workload, performance = await asyncio.gather(
        backend.get(viewer, f"{agent}/workload"),
        backend.get(viewer, f"{agent}/performance", **{"from": today, "to": today}),
    )
    return {"workload": workload, "performance": performance, "today": today}


async def primary_phones(backend: Backend, viewer: Viewer, cifs: list[str]) -> dict[str, str]:
    """The phone to call of each of these customers, in one call to bank-sync (its lookup gives each
    customer's ``primaryPhone``: the primary one, else a verified one, else any)."""
    if not cifs:
        return {}
    answer = await backend.post(viewer, "/api/customers/lookup", json={"cifs": cifs})
    return {str(i["cif"]): str(i["primaryPhone"]) for i in answer["items"] if i.get("primaryPhone")}


def tel_href(number: str) -> str:
    """A ``tel:`` link of a phone as bank-sync keeps it (spaces, dots and dashes dropped)."""
    return "tel:" + "".join(c for c in number if c.isdigit() or c == "+")


@router.get("/my-day", roles=AGENTS)
async def my_day(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    tz: BusinessZone,
    page: str | None = None,
    pageSize: str | None = None,
) -> Response:
    """Today's call queue of the signed-in agent, with the day's counts at the top."""
    if viewer.agent_id is None:
        return render(request, "my_day/no_agent.html")
    size = _positive(pageSize, DEFAULT_PAGE_SIZE)
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    number = _positive(page, 1)
    queue, counts = await asyncio.gather(
        backend.get(viewer, f"/api/agents/{viewer.agent_id}/queue", page=number, pageSize=size),
        _counts(backend, viewer, tz),
    )
    phones = await primary_phones(backend, viewer, [str(item["cif"]) for item in queue["items"]])
    total = int(queue["total"])
    pages = max(1, -(-total // size))
    first = (number - 1) * size + 1 if queue["items"] else 0
    return render(
        request,
        "my_day/index.html",
        queue=queue,
        items=[
            {
                **item,
                "href": customer_href(item["cif"]),
                "bucket": dpd_badge(item["maxDpd"])[0],
                "phone": phones.get(item["cif"]),
                "tel": tel_href(phones[item["cif"]]) if item["cif"] in phones else None,
            }
            for item in queue["items"]
        ],
        **counts,
        page=number,
        pages=pages,
        page_size=size,
        page_sizes=PAGE_SIZES,
        first=first,
        last=first + len(queue["items"]) - 1 if first else 0,
        total=total,
    )


@router.get("/my-day/counts", roles=AGENTS)
async def my_day_counts(
    request: Request, viewer: SignedIn, backend: WebBackend, tz: BusinessZone
) -> Response:
    """The day's counts alone (the part of My day that the bell's events refresh in place)."""
    if viewer.agent_id is None:
        return Response(status_code=204)
    queue, counts = await asyncio.gather(
        backend.get(viewer, f"/api/agents/{viewer.agent_id}/queue", page=1, pageSize=1),
        _counts(backend, viewer, tz),
    )
    return render(request, "my_day/counts.html", total=int(queue["total"]), **counts)


NEXT_LOOKAHEAD = 100
"""How far into the queue the customer just worked on is looked for."""
QUEUE_AT_COOKIE = "crm_queue_at"
"""The queue position of the customer the agent opened last (static/my_day.js, or this route)."""


def _position(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


@router.get("/my-day/next", roles=AGENTS)
async def next_customer(request: Request, viewer: SignedIn, backend: WebBackend, after: str = "") -> Response:
    """The next customer of the queue after ``after`` (the one an action was just recorded on): the
    one following it; when it has left the queue (contacted today), the one now at its place; My
    day when nobody is left."""
    if viewer.agent_id is None:
        return RedirectResponse("/my-day", status_code=303)
    queue = await backend.get(viewer, f"/api/agents/{viewer.agent_id}/queue", page=1, pageSize=NEXT_LOOKAHEAD)
    cifs = [str(item["cif"]) for item in queue["items"]]
    if after in cifs:
        position = cifs.index(after) + 1
    else:
        position = min(_position(request.cookies.get(QUEUE_AT_COOKIE)), len(cifs))
    following = [cif for cif in cifs[position:] + cifs[:position] if cif != after]
    if not following:
        return RedirectResponse("/my-day", status_code=303)
    response = RedirectResponse(customer_href(following[0]), status_code=303)
    response.set_cookie(
        QUEUE_AT_COOKIE, str(cifs.index(following[0])), samesite="strict", httponly=False, path="/my-day"
    )
    return response


# ---------------------------------------------------------------- the bell's stream


def _message(note: Notification, viewer: Viewer, tz: Any) -> dict[str, str]:
    """What the bell shows of a notification, in the viewer's language."""
    _: Callable[..., str] = i18n.gettext_for(viewer.language)
    amount = i18n.money(note.amount, note.currency) if note.amount else ""
    on = i18n.day(note.on, viewer.language) if note.on else ""
    who = note.name or note.cif
    if note.kind == "ASSIGNED":
        label, text = _("New customer"), _("%(customer)s has been assigned to you.", customer=who)
    elif note.kind == "PROMISE_BROKEN":
        label = _("Promise broken")
        text = _(
            "%(customer)s broke the promise to pay %(amount)s by %(date)s.",
            customer=who,
            amount=amount,
            date=on,
        )
    elif note.kind == "PROMISE_DUE_TODAY":
        label = _("Promise due today")
        text = _("%(customer)s promised to pay %(amount)s today.", customer=who, amount=amount)
    else:
        label = _("Payment received")
        text = _("%(customer)s paid %(amount)s.", customer=who, amount=amount)
    return {
        "id": note.id,
        "kind": note.kind,
        "label": label,
        "text": text,
        "href": customer_href(note.cif),
        "at": i18n.when(note.at, tz, viewer.language),
    }


def _event(note: Notification, viewer: Viewer, tz: Any) -> ServerSentEvent:
    return ServerSentEvent(json.dumps(_message(note, viewer, tz)), event="notification", id=note.id)


async def _stream(
    viewer: Viewer,
    since: datetime | None,
    *,
    events: EventFanOut,
    backend: Backend,
    db: Database,
    settings: WebSettings,
    session: str | None,
    bus: Bus | None = None,
) -> AsyncIterator[ServerSentEvent]:
    assert viewer.agent_id is not None
    tz = settings.tz
    names: dict[str, str] = {}
    try:
        async with events.listen(since) as queue:
            # subscribed first, then read: an assignment made meanwhile waits in the queue
            mine = await my_customers(backend, viewer)
            watch = AgentWatch(viewer.agent_id, set(mine))
            first = await promises_due_today(backend, viewer)
            if since is None and bus is not None:  # a fresh sign-in: what happened while away
                past = await recent_events(bus, utcnow() - timedelta(hours=HISTORY_HOURS))
                first = history(past, viewer.agent_id, mine) + first
            for note in await name_customers(backend, viewer, first, names):
                yield _event(note, viewer, tz)
            # The browser opens its next stream (on the next page) with this time as ``since``.
            ready = json.dumps({"at": utcnow().isoformat()})
            yield ServerSentEvent(ready, event="ready", retry=RETRY_MS)
            checked = time.monotonic()
            while True:
                try:
                    arrived = [await asyncio.wait_for(queue.get(), timeout=SESSION_CHECK_SECONDS)]
                except TimeoutError:
                    arrived = []
                while arrived and not queue.empty() and len(arrived) < LIVE_BATCH:
                    arrived.append(queue.get_nowait())  # sent together: their names in one lookup
                if time.monotonic() - checked >= SESSION_CHECK_SECONDS:
                    if not await is_alive(db, settings, session):  # not counted as use
                        return  # the browser comes back, is sent to sign in, and stops
                    checked = time.monotonic()
                notes = [found for event in arrived if (found := watch.notice(event)) is not None]
                for note in await name_customers(backend, viewer, notes, names):
                    yield _event(note, viewer, tz)
    except TimeoutError:
        log.warning("notifications_bus_unavailable")
        yield ServerSentEvent("{}", event="unavailable", retry=RETRY_MS * 2)
    except (BackendError, LoginRequired, PageForbidden) as exc:
        log.info("notifications_stream_ended", reason=type(exc).__name__)


def _since(value: str) -> datetime | None:
    """The previous stream's ``ready`` time, a few seconds earlier (clocks of other web processes
    or hosts); None when absent or not a time with its zone."""
    try:
        since = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if since is None or since.tzinfo is None:
        return None
    return since - timedelta(seconds=SINCE_MARGIN_SECONDS)


@router.get("/notifications/stream", roles=AGENTS)
async def notification_stream(
    request: Request,
    viewer: SignedIn,
    events: FanOut,
    backend: WebBackend,
    db: Db,
    settings: Settings,
    since: str = "",
) -> Response:
    """The bell's live notifications (server-sent events ``notification``, then ``ready``); with
    ``since``, first those of the recent events received after it (the gap of a page change)."""
    if viewer.agent_id is None:
        return Response(status_code=204)  # an EventSource does not come back after a 204
    return EventSourceResponse(
        _stream(
            viewer,
            _since(since),
            events=events,
            backend=backend,
            db=db,
            settings=settings,
            session=session_id(request),
            bus=request.app.state.bus,
        ),
        ping=PING_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

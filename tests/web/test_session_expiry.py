"""A web session ends after ``CRM_SESSION_IDLE_MINUTES`` without use and after
``CRM_SESSION_ABSOLUTE_HOURS`` however busy; the clock is set by the test, nothing sleeps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from crm.platform.db import Database
from crm.web import session as web_session
from crm.web.settings import WebSettings

SIGNED_IN_AT = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 08:00 business time


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(SIGNED_IN_AT)
    monkeypatch.setattr(web_session, "utcnow", clock)
    return clock


@pytest.fixture
async def db(settings) -> AsyncIterator[Database]:
    assert settings.database_url
    database = Database(settings.database_url, schema="web")
    yield database
    await database.dispose()


async def _signed_in(db: Database, web: WebSettings, unique) -> str:
    return await web_session.sign_in(
        db, web, username=unique("agent"), roles=["AGENT"], agent_id=None, token="t", token_expires_in=86_400
    )


async def test_a_session_unused_for_the_idle_minutes_ends(db, settings, clock, unique):
    web = WebSettings(**settings.model_dump(), session_idle_minutes=30, session_absolute_hours=10)
    cookie = await _signed_in(db, web, unique)
    clock.advance(minutes=29)
    assert await web_session.load(db, web, cookie) is not None, "used within the idle time: still alive"
    clock.advance(minutes=29)  # 58 min after sign-in, but 29 after the last use
    assert await web_session.is_alive(db, web, cookie)
    clock.advance(minutes=1, seconds=1)  # 30 min and 1 s after the last use; is_alive did not count as use
    assert not await web_session.is_alive(db, web, cookie)
    assert await web_session.load(db, web, cookie) is None, "idle too long: signed out"


async def test_a_session_in_constant_use_ends_after_the_absolute_hours(db, settings, clock, unique):
    web = WebSettings(**settings.model_dump(), session_idle_minutes=30, session_absolute_hours=10)
    cookie = await _signed_in(db, web, unique)
    for _ in range(10 * 4 - 1):  # used every 15 minutes for 9 h 45 min
        clock.advance(minutes=15)
        assert await web_session.load(db, web, cookie) is not None
    clock.advance(minutes=14, seconds=59)
    assert await web_session.load(db, web, cookie) is not None, "a second before the 10 hours"
    clock.advance(seconds=2)
    assert await web_session.load(db, web, cookie) is None, "10 hours after sign-in, however busy"

"""Business days: "today" and day boundaries are in the configured business time zone
(``CRM_BUSINESS_TIMEZONE``, default Asia/Ho_Chi_Minh, UTC+7), never in UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm.platform.errors import BusinessRuleViolation
from crm.platform.problems import declare

PERIOD_REVERSED = declare("period.reversed", "from ({from}) is after to ({to}).")
PERIOD_TOO_LONG = declare("period.too_long", "The period {from} .. {to} is longer than {maxDays} days.")


def business_date(moment: datetime, tz: ZoneInfo) -> date:
    """The business day an aware instant falls on."""
    return moment.astimezone(tz).date()


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A business day as a half-open range of instants: [midnight, next midnight) in ``tz``."""
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=tz
    )


def snapshot_cut(synced_at: datetime, tz: ZoneInfo) -> datetime:
    """The first instant a core snapshot read at ``synced_at`` does not cover: a nightly extract
    loaded on business day S describes the days before S, so it includes the payments made before
    S's midnight and none after."""
    return day_bounds(business_date(synced_at, tz), tz)[0]


def snapshot_includes(paid_at: datetime, synced_at: datetime | None, tz: ZoneInfo) -> bool:
    """Whether a snapshot read at ``synced_at`` already has a payment made at ``paid_at`` in its
    balances (``snapshot_cut``). A snapshot of unknown time (None) includes nothing."""
    return synced_at is not None and paid_at < snapshot_cut(synced_at, tz)


def check_period(date_from: date | None, date_to: date | None, *, max_days: int | None = None) -> None:
    """``from`` .. ``to`` (business dates, inclusive) in order and at most ``max_days`` long, else 422
    naming the query parameter."""
    if date_from is None or date_to is None:
        return
    period: dict[str, Any] = {"from": date_from, "to": date_to}
    if date_from > date_to:
        raise BusinessRuleViolation.of(
            PERIOD_REVERSED, errors=[PERIOD_REVERSED.field("from", **period)], **period
        )
    if max_days is not None and (date_to - date_from).days + 1 > max_days:
        period["maxDays"] = max_days
        raise BusinessRuleViolation.of(
            PERIOD_TOO_LONG, errors=[PERIOD_TOO_LONG.field("to", **period)], **period
        )

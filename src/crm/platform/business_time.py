"""Business days: "today" and day boundaries are in the configured business time zone
(``CRM_BUSINESS_TIMEZONE``, default Asia/Ho_Chi_Minh, UTC+7), never in UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def business_date(moment: datetime, tz: ZoneInfo) -> date:
    """The business day an aware instant falls on."""
    return moment.astimezone(tz).date()


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A business day as a half-open range of instants: [midnight, next midnight) in ``tz``."""
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=tz
    )

"""Pure rules of recording an action: business dates, contact hours, promise dates, follow-ups.

No database and no clock: the caller passes "now" and the business time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm.platform.business_time import business_date
from crm.platform.problems import ProblemCode, declare

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far ahead of our clock a client's ``actionDate`` may be (clock skew)."""


def within_contact_hours(moment: datetime, tz: ZoneInfo, start: time, end: time) -> bool:
    """Whether a contact at ``moment`` is allowed by the contact hours, both ends included.

    With 07:00-21:00: 07:00:00 and 21:00:00 are allowed, 06:59:59 and 21:00:01 (indeed 21:00:00.001)
    are not.
    """
    local = moment.astimezone(tz).time().replace(tzinfo=None)
    return start <= local <= end


OUTSIDE_HOURS = declare("contact.outside_hours", "{time} ({zone}) is outside the contact hours {start}-{end}")
PROMISE_IN_PAST = declare("promise.date_in_past", "must not be before today ({today})")
PROMISE_TOO_FAR = declare("promise.date_too_far", "must be at most {days} days ahead (on or before {last})")


def promise_date_refusal(
    promise_date: date, today: date, horizon_days: int
) -> tuple[ProblemCode, dict[str, Any]] | None:
    """Why a promise date is refused, as a code and its params (None when it is fine): from today to
    today + horizon, inclusive."""
    if promise_date < today:
        return PROMISE_IN_PAST, {"today": today}
    last = today + timedelta(days=horizon_days)
    if promise_date > last:
        return PROMISE_TOO_FAR, {"days": horizon_days, "last": last}
    return None


def promise_date_problem(promise_date: date, today: date, horizon_days: int) -> str | None:
    """Why a promise date is refused, in English (None when it is fine)."""
    refusal = promise_date_refusal(promise_date, today, horizon_days)
    return refusal[0].detail(**refusal[1]) if refusal else None


def follow_up_date(
    action_date: datetime, tz: ZoneInfo, follow_up_days: int | None, promise_date: date | None
) -> date | None:
    """When to follow up: the promise date for a promise, else the action's business date plus the
    result's follow-up days, else none."""
    if promise_date is not None:
        return promise_date
    if follow_up_days is None:
        return None
    return business_date(action_date, tz) + timedelta(days=follow_up_days)

"""The state of a promise to pay, as a pure rule (no database): OPEN, KEPT or BROKEN.

A promise made at ``action_date`` to pay ``promise_amount`` by ``promise_date`` is kept by the
RECEIVED payments whose payment date falls from the moment it was made to the end of its date in
the business time zone; it is broken once its date has passed (business time) without them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm.platform.business_time import day_bounds

OPEN, KEPT, BROKEN = "OPEN", "KEPT", "BROKEN"


def window_end(promise_date: date, tz: ZoneInfo) -> datetime:
    """The first instant after the promise's day, in the business time zone (exclusive end)."""
    return day_bounds(promise_date, tz)[1]


def settled_status(
    *, current: str, promise_amount: Decimal, paid: Decimal, promise_date: date, today: date
) -> str:
    """What a promise becomes given the payments that count for it and the business ``today``.

    Enough paid: KEPT. Not enough: a KEPT promise (a payment of it was reversed) goes back to OPEN
    while its date has not passed, else BROKEN; an OPEN or BROKEN promise stays as it is (the
    nightly round breaks OPEN promises whose date has passed).
    """
    if paid >= promise_amount:
        return KEPT
    if current == KEPT:
        return OPEN if promise_date >= today else BROKEN
    return current


def is_overdue(promise_date: date, today: date) -> bool:
    """An unpaid promise is broken from the business day after its date."""
    return promise_date < today

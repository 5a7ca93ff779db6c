"""The generator's calendar: every date of a base set is an offset in days from ``as_of``."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


class Calendar:
    """ISO strings of the days around ``as_of``, by offset in days, and month arithmetic on offsets."""

    def __init__(self, as_of: date, back_years: int = 85, ahead_years: int = 45) -> None:
        self.as_of = as_of
        self.year = as_of.year
        start = date(as_of.year - back_years, 1, 1)
        end = date(as_of.year + ahead_years, 12, 31)
        self.zero = (as_of - start).days
        self.days: list[str] = []
        self.month_of: list[int] = []  # per day: its month, counted from the first month of the table
        self.day_of: list[int] = []
        self.month_start: list[int] = []  # per month: the offset of its first day
        month_numbers = list(range((end.year - start.year + 1) * 12 + 1))
        for i in range((end - start).days + 1):
            day = start + timedelta(days=i)
            index = (day.year - start.year) * 12 + day.month - 1
            if day.day == 1:
                self.month_start.append(i - self.zero)
            self.days.append(day.isoformat())
            self.month_of.append(month_numbers[index])
            self.day_of.append(day.day)
        self.month_start.append(len(self.days) - self.zero)

    def iso(self, offset: int) -> str:
        return self.days[offset + self.zero]

    def add_months(self, offset: int, months: int) -> int:
        """The same day of the month ``months`` later (earlier when negative), clamped to the month's end."""
        at = offset + self.zero
        index = self.month_of[at] + months
        start = self.month_start[index]
        length = self.month_start[index + 1] - start
        day = self.day_of[at]
        return start + (day if day <= length else length) - 1

    def overdue_count(self, dpd: int, step: int) -> int:
        """How many instalments (every ``step`` months, the oldest ``dpd`` days ago) are due by as_of."""
        oldest = -dpd
        months = self.month_of[self.zero] - self.month_of[oldest + self.zero]
        last = months // step
        return last + 1 if self.add_months(oldest, last * step) <= 0 else last


@lru_cache(maxsize=4)
def calendar(as_of: date) -> Calendar:
    return Calendar(as_of)

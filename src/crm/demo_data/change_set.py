"""What ``--changed`` changes: each file module's ``change`` takes a row chosen for the date's change set.

The snapshot is the base with, in each file, exactly ``round(changed * rows)`` rows changed in place: never
the natural key, so that the row is the same record with at least one different value (and a loan's sums
stay consistent). loan_collaterals.csv has no column outside its key, so it never has changed rows. Each
date's change set is drawn afresh from (seed, date) on top of the same base: changes are not cumulative
from one date to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random

from crm.demo_data.days import Calendar


@dataclass(frozen=True)
class Today:
    """What a change draws on: the chunk's change stream, the business date and the base's calendar."""

    rng: Random
    day: str  # the business date, ISO
    cal: Calendar


Change = Callable[[Today, list[str]], None]


def toggle_verified(today: Today, row: list[str], at: int) -> None:
    """A contact verified today, or no longer verified: ``at`` is isVerified, verificationDate follows it."""
    if row[at] == "true":
        row[at], row[at + 1] = "false", ""
    else:
        row[at], row[at + 1] = "true", today.day


def no_change(today: Today, row: list[str]) -> None:
    """For a file whose every column is its key (``NO_CHANGE_FILES``): never chosen."""
    raise AssertionError("loan_collaterals rows have no column outside their key to change")

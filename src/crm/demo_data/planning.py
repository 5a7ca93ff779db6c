"""The plan of a generated set: its sources, its chunks of customers, and the random streams they draw from.

Each source's customers are numbered 0..n-1 and cut into chunks of ``CHUNK`` customers. Every random stream
of a chunk is seeded by (seed, source, chunk, what it is for) — and the business date for the streams of
that day only — so a chunk's rows never depend on the other chunks, on the number of worker processes or on
``--customers``.
"""

# ruff: noqa: S311 - synthetic data: the generator's randomness is reproducibility, not secrecy.
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from random import Random
from typing import NamedTuple

CHUNK = 1000
"""Customers per chunk: part of the data's definition (changing it changes every file), not a tuning knob."""
DEFAULT_AS_OF = date(2026, 11, 27)
"""The day the base snapshot's balances, dpd and due dates are computed for, unless ``as_of`` is given."""


class Source(NamedTuple):
    code: str
    weight: int  # share of the customers, in percent, when several sources are generated
    cif: str  # customers' cif prefix
    ref_cif: str  # reference-only persons' cif prefix (never a customer)
    account: str  # loan / card account number prefix
    collateral: str  # collateral number prefix
    payment: str  # payment reference prefix
    missing: str  # prefix of the identifiers the bad rows point at, which nothing has


SOURCES = {
    "T24": Source("T24", 65, "T24C", "T24R", "LD", "CL", "FT", "T24X"),
    "W4": Source("W4", 35, "W4C", "W4R", "CA", "CD", "WP", "W4X"),
}


def share_of(rows: int, share: float) -> int:
    """How many of a file's ``rows`` a ``share`` (0.05 for 5 %) of them is: ``round(rows * share)``."""
    return round(rows * share)


@dataclass(frozen=True)
class Plan:
    seed: int
    business_date: date
    as_of: date
    changed: float
    bad: float


@dataclass(frozen=True)
class Job:
    """One chunk of one source, and (with changed/bad) how many of its rows per file to change or break."""

    plan: Plan
    source: str
    chunk: int
    first: int  # index of the chunk's first customer within the source
    count: int
    base_rows: tuple[int, ...] = ()  # per file, the chunk's rows in the base (from the pre-pass)
    changed_rows: tuple[int, ...] = ()
    bad_rows: tuple[int, ...] = ()
    bad_before: tuple[int, ...] = ()  # per file, bad rows in the source's earlier chunks (cycles the kinds)

    def stream(self, what: str) -> Random:
        """The chunk's random stream for ``what``, the same whatever the business date."""
        return Random(_seed(self.plan.seed, self.source, self.chunk, what))

    def daily_stream(self, what: str) -> Random:
        """The chunk's random stream for ``what`` on the plan's business date."""
        plan = self.plan
        return Random(_seed(plan.seed, plan.business_date.toordinal(), self.source, self.chunk, what))


@dataclass
class ChunkOut:
    data: list[bytes]
    rows: list[int]
    bad: list[tuple[int, int, str, str]] = field(default_factory=list)  # file, row in chunk, kind, column


def _seed(*parts: object) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def part(k: int, n: int, upto: int) -> int:
    """round(k * upto / n), half up, in integers: how many of k picks fall in the first ``upto`` of n rows."""
    return (2 * k * upto + n) // (2 * n) if n else 0


def split_customers(customers: int, sources: Sequence[str]) -> dict[str, int]:
    """How many of ``customers`` each source gets (by its weight), in the canonical order of SOURCES."""
    chosen = [s for s in SOURCES.values() if s.code in sources]
    total = sum(s.weight for s in chosen)
    split, before = {}, 0
    for source in chosen:
        upto = before + source.weight
        split[source.code] = part(customers, total, upto) - part(customers, total, before)
        before = upto
    return split


def chunk_jobs(plan: Plan, source: str, customers: int) -> list[Job]:
    """The source's ``customers`` cut into jobs of ``CHUNK`` (the last one shorter)."""
    return [
        Job(plan, source, c, c * CHUNK, min(CHUNK, customers - c * CHUNK))
        for c in range((customers + CHUNK - 1) // CHUNK)
    ]

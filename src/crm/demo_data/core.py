"""Realistic full-snapshot extract sets (docs/extracts.md) for T24 (loans) and W4 (cards), as a stream.

Layout of the work, and what makes it deterministic and flat in memory:

- Each source's customers are numbered 0..n-1 and cut into chunks of ``CHUNK`` customers. A chunk is
  generated from random streams seeded by (seed, source, chunk) only, so its rows never depend on the
  business date, on the other chunks, on the number of worker processes, or on ``--customers`` (customer
  ``T24C0000007`` is the same person in a 1,000 and in a 1,000,000 customer set).
- A chunk first draws the *shape* of its customers (how many phones, loans, collaterals, due rows ...) from
  its own stream, then their values from another. With ``changed`` or ``bad`` a quick pre-pass draws the
  shapes alone to count every file's rows, so that exactly ``round(share * rows)`` rows per file can be
  chosen (spread over the chunks, then sampled inside each chunk).
- The base data is independent of the business date: every date in it is relative to ``as_of``
  (``DEFAULT_AS_OF`` unless given). Only payments.csv (that day's payments), the change set and the bad
  rows are drawn from streams that also take the business date.
- Rows are written chunk by chunk (one string join per row), sha256 and row counts are taken while writing,
  and the manifest is written last, so a reader never sees a delivery without all of its files.

``--changed``: the snapshot is the base with, in each file, exactly ``round(changed * rows)`` rows changed
(a changed row keeps its natural key and differs in at least one other column). loan_collaterals.csv has no
column outside its key, so it never has changed rows. Each date's change set is drawn afresh from (seed,
date) on top of the same base: changes are not cumulative from one date to the next.

``--bad``: about ``round(bad * rows)`` rows per file are replaced by invalid rows (missing natural key, bad
date, bad number, unknown enum value, unknown customer/loan/collateral, duplicate key), cycling over the
kinds that the file's columns allow. When a customer, loan or collateral row is bad, the rows that depend on
it (its phones, loans, due rows, links, payments ...) are left out of the set, so that every other row
still loads. ``bad_rows.json`` beside the manifest lists every bad row by line number (1 is the header).
"""

# ruff: noqa: S311 - synthetic data: the generator's randomness is reproducibility, not secrecy.
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from random import Random
from typing import Any, NamedTuple

from crm.demo_data import vocab as v
from crm.demo_data.files import (
    ADR,
    BAD_DATE,
    BAD_NUMBER,
    COL,
    CUS,
    DUE,
    DUPLICATE_KEY,
    EML,
    FILES,
    LCO,
    LOA,
    MISSING_KEY,
    NO_CHANGE_FILES,
    PAY,
    PHO,
    REF,
    UNKNOWN_ENUM,
)

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


# ----------------------------------------------------------------------------------------------- calendar


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


# ----------------------------------------------------------------------------------------------- planning


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


@dataclass
class ChunkOut:
    data: list[bytes]
    rows: list[int]
    bad: list[tuple[int, int, str, str]] = field(default_factory=list)  # file, row in chunk, kind, column


def _seed(*parts: object) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _q(text: str) -> str:
    """A CSV field (RFC 4180), quoted when it has to be."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _money(amount: int) -> str:
    return f"{amount}.00"


def _bucket(u: float) -> int:
    if u < 0.55:
        return 0
    if u < 0.70:
        return 1
    if u < 0.79:
        return 2
    if u < 0.86:
        return 3
    return 4 if u < 0.93 else 5


def _dpd(bucket: int, u: float) -> int:
    if bucket == 0:
        return 0
    if bucket == 1:
        return 1 + int(u * 30)
    if bucket == 2:
        return 31 + int(u * 30)
    if bucket == 3:
        return 61 + int(u * 30)
    if bucket == 4:
        return 91 + int(u * 90)
    return 181 + int(u * u * 540)


def delinquency(dpd: int) -> str:
    return "CURRENT" if dpd == 0 else "DELINQUENT" if dpd <= 90 else "DEFAULT"


# ------------------------------------------------------------------------------------------------- shapes

# A loan's shape: product, dpd, closed, overdue instalments, months between instalments,
# collateral indexes it is linked to, due rows, payments.
LoanShape = tuple[str, int, bool, int, int, tuple[int, ...], int, int]
# A customer's shape: is_org, phones, addresses, emails, references, loans, collateral kinds.
Shape = tuple[bool, int, int, int, int, list[LoanShape], list[str]]


def _shapes(job: Job) -> list[Shape]:
    plan = job.plan
    w4 = job.source == "W4"
    cal = calendar(plan.as_of)
    s = Random(_seed(plan.seed, job.source, job.chunk, "shape"))
    pay = Random(_seed(plan.seed, plan.business_date.toordinal(), job.source, job.chunk, "payments"))
    rnd, prnd = s.random, pay.random
    shapes: list[Shape] = []
    for _ in range(job.count):
        if rnd() < (0.02 if w4 else 0.07):
            is_org = True
            n_ph = 1 + (rnd() < 0.6)
            n_ad = 1 + (rnd() < 0.5)
            n_em = 1 + (rnd() < 0.4)
            n_ref = 1 + (rnd() < 0.3)
        else:
            is_org = False
            u = rnd()
            n_ph = 1 if u < 0.40 else 2 if u < 0.82 else 3
            n_ad = 1 + (rnd() < 0.3)
            u = rnd()
            n_em = 0 if u < 0.25 else 1 if u < 0.80 else 2
            u = rnd()
            n_ref = 0 if u < 0.50 else 1 if u < 0.88 else 2
        u = rnd()
        if w4:
            n_loans = 1 if u < 0.70 else 2 if u < 0.95 else 3
            mix = v.W4_MIX
        else:
            n_loans = 1 if u < 0.60 else 2 if u < 0.88 else 3 if u < 0.97 else 4
            mix = v.T24_ORG_MIX if is_org else v.T24_INDIVIDUAL_MIX
        bucket = _bucket(rnd())
        loans: list[LoanShape] = []
        kinds: list[str] = []
        for _k in range(n_loans):
            product = mix[int(rnd() * len(mix))]
            closed = rnd() < 0.04
            dpd = 0 if closed else _dpd(bucket if rnd() < 0.75 else _bucket(rnd()), rnd())
            step = 3 if product == "BUSINESS" and rnd() < 0.2 else 1
            n_over = cal.overdue_count(dpd, step) if dpd else 0
            links = _collateral_plan(product, kinds, rnd)
            n_due = 0 if closed else min(n_over, 3) + 1
            n_pay = 0
            if dpd and prnd() < 0.07:
                n_pay = 2 if prnd() < 0.1 else 1
            loans.append((product, dpd, closed, n_over, step, links, n_due, n_pay))
        shapes.append((is_org, n_ph, n_ad, n_em, n_ref, loans, kinds))
    return shapes


def _collateral_plan(product: str, kinds: list[str], rnd: Callable[[], float]) -> tuple[int, ...]:
    """The collaterals (indexes into ``kinds``, which it extends) that secure a new loan of ``product``."""

    def new(kind: str) -> int:
        kinds.append(kind)
        return len(kinds) - 1

    u = rnd()
    if product == "MORTGAGE":
        return (new("REAL_ESTATE"), new("REAL_ESTATE")) if u < 0.1 else (new("REAL_ESTATE"),)
    if product == "AUTO":
        return (new("VEHICLE"),)
    if product in ("SECURED_PERSONAL", "REFINANCE"):
        if product == "REFINANCE" and u < 0.5:
            return ()
        if "REAL_ESTATE" in kinds and rnd() < 0.5:  # a top-up loan on the house already pledged
            return (kinds.index("REAL_ESTATE"),)
        w = rnd()
        return (new("REAL_ESTATE" if w < 0.55 else "DEPOSIT" if w < 0.85 else "VEHICLE"),)
    if product == "BUSINESS":
        if u < 0.25:
            return ()
        return (new("REAL_ESTATE" if u < 0.65 else "EQUIPMENT" if u < 0.9 else "DEPOSIT"),)
    if product == "CREDIT_CARD":
        return (new("DEPOSIT"),) if u < 0.06 else ()
    if product == "LINE_OF_CREDIT":
        return (new("DEPOSIT"),) if u < 0.4 else ()
    if product == "OVERDRAFT":
        return (new("DEPOSIT"),) if u < 0.15 else ()
    return ()


def shape_rows(shape: Shape) -> tuple[int, ...]:
    """The rows one customer's shape puts in each file."""
    _, n_ph, n_ad, n_em, n_ref, loans, kinds = shape
    return (
        1,
        n_ph,
        n_ad,
        n_em,
        len(loans),
        len(kinds),
        sum(len(loan[5]) for loan in loans),
        sum(loan[6] for loan in loans),
        n_ref,
        sum(loan[7] for loan in loans),
    )


def count_chunk(job: Job) -> tuple[int, ...]:
    """Rows per file of a chunk in the base set (the pre-pass of changed / bad)."""
    totals = [0] * len(FILES)
    for shape in _shapes(job):
        for i, n in enumerate(shape_rows(shape)):
            totals[i] += n
    return tuple(totals)


# -------------------------------------------------------------------------------------------- generation


class _Person(NamedTuple):
    type: str
    name: str
    dob: str
    national_id: str
    gender: str
    company: str
    registration: str
    tax_id: str
    age: int
    folded: tuple[str, str, str]  # family, middle, given (ascii) for e-mail addresses


def _person(r: Random, cal: Calendar, province: v.Province, gender: str = "") -> _Person:
    rnd = r.random
    if not gender:
        g = rnd()
        gender = "MALE" if g < 0.515 else "FEMALE" if g < 0.997 else "OTHER"
    if gender == "MALE":
        middles, givens = v.MIDDLE_MALE, v.GIVEN_MALE
    elif gender == "FEMALE":
        middles, givens = v.MIDDLE_FEMALE, v.GIVEN_FEMALE
    else:
        middles, givens = v.MIDDLE_MALE, v.GIVEN_ANY
    family = v.FAMILY_NAMES[int(rnd() * len(v.FAMILY_NAMES))]
    middle = middles[int(rnd() * len(middles))]
    given = givens[int(rnd() * len(givens))]
    if rnd() < 0.2:
        name = f"{family} {middle} {givens[int(rnd() * len(givens))]} {given}"
    else:
        name = f"{family} {middle} {given}"
    age = 21 + int(rnd() ** 1.4 * 50)
    year = cal.year - age
    dob = f"{year}-{1 + int(rnd() * 12):02d}-{1 + int(rnd() * 28):02d}"
    century = (0 if year < 2000 else 2) + (gender == "FEMALE")
    national_id = f"{province.id_code}{century}{year % 100:02d}{int(rnd() * 1_000_000):06d}"
    folded = (v.FOLDED[family], v.FOLDED[middle], v.FOLDED[given])
    return _Person("INDIVIDUAL", name, dob, national_id, gender, "", "", "", age, folded)


def _company(r: Random, province: v.Province) -> _Person:
    rnd = r.random
    trade_name = v.COMPANY_NAMES[int(rnd() * len(v.COMPANY_NAMES))]
    company = (
        f"{v.COMPANY_FORMS[int(rnd() * len(v.COMPANY_FORMS))]} "
        f"{v.COMPANY_TRADES[int(rnd() * len(v.COMPANY_TRADES))]} {trade_name}"
    )
    tax_id = f"{province.tax_code}{int(rnd() * 100_000_000):08d}"
    slug = v.COMPANY_SLUGS[trade_name]
    return _Person("ORGANIZATION", company, "", "", "", company, tax_id, tax_id, 0, (slug, "", ""))


def _mobile(rnd: Callable[[], float]) -> str:
    return f"+84{v.MOBILE_PREFIXES[int(rnd() * len(v.MOBILE_PREFIXES))]}{int(rnd() * 10_000_000):07d}"


def _landline(rnd: Callable[[], float], province: v.Province) -> str:
    if len(province.area_code) == 2:
        return f"+84{province.area_code}3{int(rnd() * 10_000_000):07d}"
    return f"+84{province.area_code}3{int(rnd() * 1_000_000):06d}"


def _street(rnd: Callable[[], float]) -> str:
    street = v.STREETS[int(rnd() * len(v.STREETS))]
    number = 1 + int(rnd() * 300)
    u = rnd()
    if u < 0.5:
        return f"Số {number} {street}"
    if u < 0.75:
        return f'"Số {number}, ngõ {1 + int(rnd() * 200)}, {street}"'
    if u < 0.9:
        return f"{number}/{1 + int(rnd() * 60)} {street}"
    return f'"Căn hộ {1 + int(rnd() * 30)}{1 + int(rnd() * 20):02d}, tòa {"ABCDE"[int(rnd() * 5)]}, {street}"'


def _ward(rnd: Callable[[], float], province: v.Province) -> str:
    wards = v.HCMC_WARDS if province is v.PROVINCES[0] else v.WARDS
    return wards[int(rnd() * len(wards))]


class _Loan(NamedTuple):
    number: str
    fields: list[str]
    amount: int  # original amount or limit
    disbursed: int  # offset of the disbursement date
    due_rows: list[list[str]]
    due: int
    outstanding: int
    min_pay: int


class _DueRows:
    """The due_segmentations rows of one loan: one per instalment due, except that the older arrears
    of a long-overdue loan are carried as one lump on the oldest row."""

    def __init__(self, number: str, n_over: int, cal: Calendar, rows: list[list[str]]) -> None:
        self.number, self.n_over, self.cal, self.rows = number, n_over, cal, rows
        self.lump = [0, 0, 0, 0]
        self.oldest = 0

    def add(self, t: int, when: int, principal: int, interest: int, fees: int, penalty: int) -> None:
        if t < self.n_over - 2 and self.n_over > 3:
            for i, amount in enumerate((principal, interest, fees, penalty)):
                self.lump[i] += amount
            if t == 0:
                self.oldest = when
            if t == self.n_over - 3:
                self.rows.append([self.number, self.cal.iso(self.oldest), *map(_money, self.lump)])
            return
        self.rows.append(
            [
                self.number,
                self.cal.iso(when),
                _money(principal),
                _money(interest),
                _money(fees),
                _money(penalty),
            ]
        )


def _instalment_loan(
    r: Random, cal: Calendar, number: str, cif: str, shape: LoanShape, product: v.Product
) -> _Loan:
    rnd = r.random
    code, dpd, closed, n_over, step, _links, _n_due, _n_pay = shape
    steps = (product.max_million - product.min_million) // product.step_million + 1
    amount = (product.min_million + int(rnd() * rnd() * steps) * product.step_million) * 1_000_000
    term = product.terms[int(rnd() * len(product.terms))]
    if (n_over + 1) * step >= term:
        term = ((n_over + 2) * step + 11) // 12 * 12
    rate = (product.rate_min + int(rnd() * (product.rate_max - product.rate_min + 1))) * 100
    if rnd() < 0.1:
        rate += int(rnd() * 100)
    instalments = term // step
    principal = amount // instalments // 1000 * 1000
    paid = int(rnd() * (instalments - n_over - 1 + 1)) if instalments > n_over + 1 else 0
    paid = min(paid, instalments - n_over - 1)
    frequency = "MONTHLY" if step == 1 else "QUARTERLY"
    rows: list[list[str]] = []
    if closed:
        close = -1 - int(rnd() * 700)
        disbursed = cal.add_months(close, -(1 + int(rnd() * term)))
        res_code, res_notes, _ = v.RESOLUTIONS[v.RESOLUTION_PICK[int(rnd() * len(v.RESOLUTION_PICK))]]
        fields = [
            number,
            cif,
            code,
            _money(amount),
            "VND",
            cal.iso(disbursed),
            cal.iso(cal.add_months(disbursed, term)),
            f"{rate // 10000}.{rate % 10000:04d}",
            str(term),
            frequency,
            "",
            "0.00",
            "0.00",
            "0.00",
            "",
            "",
            "0",
            "CURRENT",
            "CLOSED",
            cal.iso(close),
            res_code,
            res_notes,
        ]
        return _Loan(number, fields, amount, disbursed, rows, 0, 0, 0)
    base = -dpd if dpd else 1 + int(rnd() * 28)  # the oldest unpaid instalment, or the next one
    disbursed = cal.add_months(base, -(paid + 1) * step)
    late_fee = (0, 0, 0, 50_000, 100_000, 200_000)[int(rnd() * 6)]
    due = 0
    dues = _DueRows(number, n_over, cal, rows)
    for t in range(n_over + 1):
        balance = amount - principal * (paid + t)
        interest = balance * rate * step // 12_000_000
        when = cal.add_months(base, t * step)
        if t < n_over:
            penalty = principal * rate * 3 * -when // 730_000_000
            fees = late_fee
        else:
            penalty = fees = 0
        due += principal + interest + fees + penalty
        dues.add(t, when, principal, interest, fees, penalty)
    remaining = amount - principal * (paid + n_over + 1)
    outstanding = remaining + due
    fields = [
        number,
        cif,
        code,
        _money(amount),
        "VND",
        cal.iso(disbursed),
        cal.iso(cal.add_months(disbursed, term)),
        f"{rate // 10000}.{rate % 10000:04d}",
        str(term),
        frequency,
        "",
        _money(outstanding),
        _money(remaining),
        _money(due),
        "",
        cal.iso(cal.add_months(base, n_over * step)),
        str(dpd),
        delinquency(dpd),
        "OPEN",
        "",
        "",
        "",
    ]
    return _Loan(number, fields, amount, disbursed, rows, due, outstanding, 0)


def _revolving(
    r: Random, cal: Calendar, number: str, cif: str, shape: LoanShape, product: v.Product
) -> _Loan:
    """A W4 credit card, overdraft or credit line: a limit, a balance, monthly statements."""
    rnd = r.random
    code, dpd, closed, n_over, _step, _links, _n_due, _n_pay = shape
    card = code == "CREDIT_CARD"
    if card:
        original = int(v.CARD_LIMITS_MILLION[int(rnd() * len(v.CARD_LIMITS_MILLION))]) * 1_000_000
    else:
        steps = (product.max_million - product.min_million) // product.step_million + 1
        original = (product.min_million + int(rnd() * rnd() * steps) * product.step_million) * 1_000_000
    limit = original * 3 // 2 // 5_000_000 * 5_000_000 if rnd() < 0.15 else original
    term = product.terms[int(rnd() * len(product.terms))]
    if n_over + 2 >= term:
        term = (n_over + 2 + 11) // 12 * 12
    rate = (product.rate_min + int(rnd() * (product.rate_max - product.rate_min + 1))) * 100
    elapsed = int(rnd() * (term - n_over - 1))
    rate_text = f"{rate // 10000}.{rate % 10000:04d}"
    rows: list[list[str]] = []
    if closed:
        close = -1 - int(rnd() * 700)
        opened = cal.add_months(close, -(1 + int(rnd() * term)))
        res_code, res_notes, _ = v.RESOLUTIONS[v.RESOLUTION_PICK[int(rnd() * 2)]]
        fields = [
            number,
            cif,
            code,
            _money(original),
            "VND",
            cal.iso(opened),
            cal.iso(cal.add_months(opened, term)),
            rate_text,
            str(term),
            "MONTHLY",
            _money(limit),
            "0.00",
            "0.00",
            "0.00",
            "0.00" if card else "",
            "",
            "0",
            "CURRENT",
            "CLOSED",
            cal.iso(close),
            res_code,
            res_notes,
        ]
        return _Loan(number, fields, original, opened, rows, 0, 0, 0)
    base = -dpd if dpd else 1 + int(rnd() * 28)
    opened = cal.add_months(base, -(elapsed + n_over + 1))
    usage = 0.6 + rnd() * 0.5 if dpd else rnd() * 0.85
    balance = int(limit * usage) // 1000 * 1000
    interest = balance * rate // 12_000_000
    if card:
        min_pay = max(min(balance, 50_000), balance * 5 // 100 // 1000 * 1000)
        principal_each = max(min_pay - interest, 0)
    else:
        min_pay = interest
        principal_each = 0
    left = balance
    due = charges = 0
    dues = _DueRows(number, n_over, cal, rows)
    for t in range(n_over + 1):
        when = cal.add_months(base, t)
        principal = min(principal_each, left)
        left -= principal
        if t < n_over:
            fees = max(100_000, min_pay * 5 // 100 // 1000 * 1000) if card else 50_000
            penalty = (balance - limit) * 4 // 100 if balance > limit and t == n_over - 1 else 0
            if not card:
                penalty = interest // 2
        else:
            fees = penalty = 0
        due += principal + interest + fees + penalty
        charges += interest + fees + penalty
        dues.add(t, when, principal, interest, fees, penalty)
    outstanding = balance + charges
    fields = [
        number,
        cif,
        code,
        _money(original),
        "VND",
        cal.iso(opened),
        cal.iso(cal.add_months(opened, term)),
        rate_text,
        str(term),
        "MONTHLY",
        _money(limit),
        _money(outstanding),
        _money(outstanding - due),
        _money(due),
        _money(min_pay) if card else "",
        cal.iso(cal.add_months(base, n_over)),
        str(dpd),
        delinquency(dpd),
        "OPEN",
        "",
        "",
        "",
    ]
    return _Loan(number, fields, original, opened, rows, due, outstanding, min_pay)


def _collateral(
    r: Random, cal: Calendar, number: str, cif: str, kind: str, loan: _Loan, province: v.Province
) -> list[str]:
    rnd = r.random
    valued = loan.disbursed if rnd() < 0.5 else -1 - int(rnd() * 365)
    row = [number, cif, kind, "", "", cal.iso(valued), "", "", "", "", "", "", "", "", ""]
    if kind == "REAL_ESTATE":
        property_type = v.PROPERTY_TYPES[int(rnd() * len(v.PROPERTY_TYPES))]
        words, low, high = v.PROPERTY_WORDS[property_type]
        size = (low + int(rnd() * (high - low))) * 100 + int(rnd() * 4) * 25
        district = province.districts[int(rnd() * len(province.districts))]
        street = _street(rnd).strip('"')
        area = f"{size // 100}.{size % 100:02d}"
        row[3] = _q(f"{words} {area} m² tại {district}, {province.name}")
        row[4] = _money(loan.amount * (125 + int(rnd() * 75)) // 100 // 10_000_000 * 10_000_000)
        row[11] = property_type
        row[12] = _q(f"{street}, {district}, {province.name}")
        row[13] = area
        row[14] = f"{v.TITLE_SERIES[int(rnd() * len(v.TITLE_SERIES))]}{int(rnd() * 1_000_000):06d}"
    elif kind == "VEHICLE":
        make, wmi, models = v.VEHICLES[int(rnd() * len(v.VEHICLES))]
        model = models[int(rnd() * len(models))]
        year = min(cal.year, max(2012, cal.year + (loan.disbursed // 365) - int(rnd() * 3)))
        vin = wmi + "".join(v.VIN_ALPHABET[int(rnd() * len(v.VIN_ALPHABET))] for _ in range(14))
        region = province.plates[int(rnd() * len(province.plates))]
        series = v.PLATE_SERIES[int(rnd() * len(v.PLATE_SERIES))]
        plate = f"{region}{series}-{int(rnd() * 1000):03d}.{int(rnd() * 100):02d}"
        row[3] = _q(f"Xe ô tô {make} {model} {year}, biển số {plate}")
        row[4] = _money(loan.amount * (125 + int(rnd() * 50)) // 100 // 1_000_000 * 1_000_000)
        row[6], row[7], row[8], row[9], row[10] = make, model, str(year), vin, plate
    elif kind == "DEPOSIT":
        months = (6, 12, 13, 24, 36)[int(rnd() * 5)]
        row[3] = f"Sổ tiết kiệm kỳ hạn {months} tháng số {int(rnd() * 10_000_000_000):010d}"
        row[4] = _money(loan.amount * (105 + int(rnd() * 30)) // 100 // 1_000_000 * 1_000_000)
    else:
        row[3] = v.EQUIPMENT[int(rnd() * len(v.EQUIPMENT))]
        row[4] = _money(loan.amount * (120 + int(rnd() * 40)) // 100 // 1_000_000 * 1_000_000)
    return row


class _Chunk:
    """Generates one chunk: the rows of each file, with the change set and the bad rows applied."""

    def __init__(self, job: Job) -> None:
        plan = job.plan
        self.job = job
        self.src = SOURCES[job.source]
        self.cal = calendar(plan.as_of)
        self.day = plan.business_date.isoformat()
        self.out: list[list[str]] = [[] for _ in FILES]
        self.ordinal = [0] * len(FILES)
        self.last: list[str | None] = [None] * len(FILES)
        self.changes: list[frozenset[int]] = [frozenset()] * len(FILES)
        self.breaks: list[dict[int, str]] = [{} for _ in FILES]
        self.bad: list[tuple[int, int, str, str]] = []
        date_ordinal = plan.business_date.toordinal()
        self.crng = Random(_seed(plan.seed, date_ordinal, job.source, job.chunk, "change"))
        self.brng = Random(_seed(plan.seed, date_ordinal, job.source, job.chunk, "bad"))
        if job.changed_rows:
            pick = Random(_seed(plan.seed, date_ordinal, job.source, job.chunk, "change-rows"))
            self.changes = [
                frozenset(pick.sample(range(job.base_rows[f]), job.changed_rows[f]))
                for f in range(len(FILES))
            ]
        if job.bad_rows:
            pick = Random(_seed(plan.seed, date_ordinal, job.source, job.chunk, "bad-rows"))
            for f, spec in enumerate(FILES):
                chosen = sorted(pick.sample(range(job.base_rows[f]), job.bad_rows[f]))
                kinds = spec.kinds
                self.breaks[f] = {
                    o: kinds[(job.bad_before[f] + n) % len(kinds)] for n, o in enumerate(chosen)
                }
        self.missing_serial = 0

    def emit(self, f: int, fields: list[str], omit: bool = False) -> bool:
        """Write a row (changed or broken when chosen); False when it was left out or written broken."""
        o = self.ordinal[f]
        self.ordinal[f] = o + 1
        if omit:
            return False
        if o in self.changes[f]:
            CHANGES[f](self, fields)
        kind = self.breaks[f].get(o)
        if kind is not None:
            self.write_bad(f, fields, kind)
            return False
        line = ",".join(fields)
        self.out[f].append(line)
        self.last[f] = line
        return True

    # ------------------------------------------------------------------------------------------ bad rows

    def _missing_id(self, what: str) -> str:
        self.missing_serial += 1
        serial = self.job.chunk * 100_000 + self.missing_serial
        if what == "cif":
            return f"{self.src.missing}{serial:07d}"
        if what == "loan":
            return f"{self.src.account}X{serial:09d}"
        return f"{self.src.collateral}X{serial:09d}"

    def write_bad(self, f: int, fields: list[str], kind: str) -> None:
        spec = FILES[f]
        b = self.brng
        column = ""
        if kind == DUPLICATE_KEY and self.last[f] is None:
            kind = MISSING_KEY
        if kind == DUPLICATE_KEY:
            line = self.last[f]
            assert line is not None
            column = "+".join(spec.key)
        else:
            if kind == MISSING_KEY:
                column = spec.key[int(b.random() * len(spec.key))]
                value = ""
            elif kind == BAD_DATE:
                column = spec.dates[int(b.random() * len(spec.dates))]
                value = _bad_date(fields[spec.at(column)] or self.day, b)
            elif kind == BAD_NUMBER:
                column = spec.numbers[int(b.random() * len(spec.numbers))]
                value = _bad_number(fields[spec.at(column)], b)
            elif kind == UNKNOWN_ENUM:
                column, wrong = spec.enums[int(b.random() * len(spec.enums))]
                value = wrong[int(b.random() * len(wrong))]
            else:
                column, what = spec.refs[int(b.random() * len(spec.refs))]
                value = self._missing_id(what)
            fields[spec.at(column)] = value
            line = ",".join(fields)
        self.bad.append((f, len(self.out[f]), kind, column))
        self.out[f].append(line)

    # ---------------------------------------------------------------------------------------- generation

    def run(self) -> ChunkOut:
        job, src, cal = self.job, self.src, self.cal
        plan = job.plan
        shapes = _shapes(job)
        r = Random(_seed(plan.seed, job.source, job.chunk, "values"))
        pay = Random(
            _seed(plan.seed, plan.business_date.toordinal(), job.source, job.chunk, "payment-values")
        )
        rnd = r.random
        emit = self.emit
        people: list[_Person] = []
        cifs: list[str] = []
        products = v.W4_PRODUCTS if job.source == "W4" else v.T24_PRODUCTS
        day_digits = self.day.replace("-", "")
        for i, (is_org, n_ph, n_ad, n_em, n_ref, loan_shapes, kinds) in enumerate(shapes):
            num = job.first + i + 1
            cif = f"{src.cif}{num:07d}"
            province = v.PROVINCES[v.PROVINCE_PICK[int(rnd() * len(v.PROVINCE_PICK))]]
            person = _company(r, province) if is_org else _person(r, cal, province)
            people.append(person)
            cifs.append(cif)
            if is_org:
                segment = v.ORG_SEGMENTS[int(rnd() * len(v.ORG_SEGMENTS))]
            else:
                segment = v.INDIVIDUAL_SEGMENTS[int(rnd() * len(v.INDIVIDUAL_SEGMENTS))]
            row = [
                cif,
                person.type,
                person.name,
                person.dob,
                person.national_id,
                person.gender,
                person.company,
                person.registration,
                person.tax_id,
                segment,
                "ACTIVE" if rnd() < 0.95 else "INACTIVE",
            ]
            omit = not emit(CUS, row)

            used: set[tuple[str, str]] = set()
            for p in range(n_ph):
                if p == 0:
                    kind = "WORK" if is_org else "MOBILE"
                else:
                    u = rnd()
                    if is_org:
                        kind = "MOBILE" if u < 0.5 else "FAX" if u < 0.7 else "WORK"
                    else:
                        kind = (
                            "MOBILE"
                            if u < 0.45
                            else "HOME"
                            if u < 0.65
                            else "WORK"
                            if u < 0.9
                            else "EMERGENCY"
                        )
                number = _landline(rnd, province) if kind in ("HOME", "WORK", "FAX") else _mobile(rnd)
                while (kind, number) in used:
                    number = _mobile(rnd)
                used.add((kind, number))
                verified = rnd() < (0.75 if p == 0 else 0.45)
                emit(
                    PHO,
                    [
                        cif,
                        kind,
                        number,
                        "true" if p == 0 else "false",
                        "true" if verified else "false",
                        cal.iso(-1 - int(rnd() * 1500)) if verified else "",
                    ],
                    omit,
                )

            for a in range(n_ad):
                if a == 0:
                    kind = "WORK" if is_org else "HOME"
                    place = province
                else:
                    if is_org:
                        kind = "BILLING" if rnd() < 0.6 else "MAILING"
                    else:
                        u = rnd()
                        kind = "WORK" if u < 0.5 else "MAILING" if u < 0.75 else "TEMPORARY"
                    place = (
                        province
                        if rnd() < 0.7
                        else v.PROVINCES[v.PROVINCE_PICK[int(rnd() * len(v.PROVINCE_PICK))]]
                    )
                verified = rnd() < 0.6
                emit(
                    ADR,
                    [
                        cif,
                        kind,
                        _street(rnd),
                        _ward(rnd, place) if rnd() < 0.7 else "",
                        place.name,
                        place.districts[int(rnd() * len(place.districts))],
                        "",
                        "VN",
                        "true" if a == 0 else "false",
                        "true" if verified else "false",
                        cal.iso(-1 - int(rnd() * 2000)) if verified else "",
                    ],
                    omit,
                )

            previous = ""
            for e in range(n_em):
                family, middle, given = person.folded
                if is_org:
                    box = v.ORG_EMAIL_BOXES[(int(rnd() * 6) + e) % 6]
                    address = f"{box}@{family}{num % 1000}.com.vn"
                else:
                    domain = v.EMAIL_DOMAINS[int(rnd() * len(v.EMAIL_DOMAINS))]
                    pattern = (int(rnd() * 3) + e) % 3
                    if pattern == 0:
                        address = f"{given}.{family}{1 + int(rnd() * 99)}@{domain}"
                    elif pattern == 1:
                        address = f"{family}{middle}{given}{person.dob[2:4]}@{domain}"
                    else:
                        address = f"{given}{family}{int(rnd() * 1000):03d}@{domain}"
                if address == previous:
                    address = "1" + address
                previous = address
                verified = rnd() < 0.5
                emit(
                    EML,
                    [
                        cif,
                        address,
                        "true" if e == 0 else "false",
                        "true" if verified else "false",
                        cal.iso(-1 - int(rnd() * 1500)) if verified else "",
                    ],
                    omit,
                )

            referenced: set[str] = set()
            for k in range(n_ref):
                if i > 0 and rnd() < 0.25:
                    other = int(rnd() * i)
                    ref_cif = cifs[other]
                    if ref_cif not in referenced:
                        ref = people[other]
                        if is_org or ref.type == "ORGANIZATION":
                            relation = "BUSINESS_PARTNER" if rnd() < 0.6 else "GUARANTOR"
                        else:
                            relation = v.CUSTOMER_RELATIONSHIPS[int(rnd() * len(v.CUSTOMER_RELATIONSHIPS))]
                        referenced.add(ref_cif)
                        emit(REF, [ref_cif, cif, relation, *_person_fields(ref)], omit)
                        continue
                ref_cif = f"{src.ref_cif}{num:07d}{k + 1:02d}"
                if is_org:
                    relation = (
                        "LEGAL_REPRESENTATIVE"
                        if k == 0
                        else v.ORG_RELATIONSHIPS[int(rnd() * len(v.ORG_RELATIONSHIPS))]
                    )
                    ref = (
                        _company(r, province) if relation == "BUSINESS_PARTNER" else _person(r, cal, province)
                    )
                elif k == 0 and person.age >= 25 and rnd() < 0.35:
                    relation = "SPOUSE"
                    ref = _person(r, cal, province, "FEMALE" if person.gender == "MALE" else "MALE")
                else:
                    relation = v.PERSON_RELATIONSHIPS[int(rnd() * len(v.PERSON_RELATIONSHIPS))]
                    ref = _person(r, cal, province)
                fields = [ref_cif, cif, relation, *_person_fields(ref)]
                if ref.type == "INDIVIDUAL":
                    if rnd() < 0.2:
                        fields[6] = ""
                    if rnd() < 0.15:
                        fields[5] = ""
                referenced.add(ref_cif)
                emit(REF, fields, omit)

            loans: list[_Loan] = []
            for k, shape in enumerate(loan_shapes):
                number = f"{src.account}{num:07d}{k + 1:02d}"
                product = products[shape[0]]
                if job.source == "W4":
                    loans.append(_revolving(r, cal, number, cif, shape, product))
                else:
                    loans.append(_instalment_loan(r, cal, number, cif, shape, product))

            secured_by: dict[int, _Loan] = {}
            for loan, shape in zip(loans, loan_shapes, strict=True):
                for c in shape[5]:
                    secured_by.setdefault(c, loan)
            collateral_ok: list[bool] = []
            for c, kind in enumerate(kinds):
                number = f"{src.collateral}{num:07d}{c + 1:02d}"
                row = _collateral(r, cal, number, cif, kind, secured_by[c], province)
                collateral_ok.append(emit(COL, row, omit))

            for k, (loan, shape) in enumerate(zip(loans, loan_shapes, strict=True)):
                loan_ok = emit(LOA, loan.fields, omit)
                for c in shape[5]:
                    emit(
                        LCO,
                        [loan.number, f"{src.collateral}{num:07d}{c + 1:02d}"],
                        not (loan_ok and collateral_ok[c]),
                    )
                for due_row in loan.due_rows:
                    emit(DUE, due_row, not loan_ok)
                for m in range(shape[7]):
                    self._payment(
                        pay,
                        loan,
                        cif,
                        f"{src.payment}{day_digits}{num:07d}{k + 1:02d}{m + 1}",
                        m,
                        shape[7],
                        not loan_ok,
                    )
        return self.finish()

    def _payment(
        self, pay: Random, loan: _Loan, cif: str, reference: str, m: int, count: int, omit: bool
    ) -> None:
        prnd = pay.random
        u = prnd()
        if u < 0.4:
            amount = loan.due
        elif u < 0.75:
            amount = max(10_000, loan.due * (20 + int(prnd() * 60)) // 100 // 10_000 * 10_000)
        else:
            amount = min(loan.outstanding, (1 + int(prnd() * 20)) * 1_000_000)
        amount = max(amount, 10_000)
        channel = v.PAYMENT_CHANNELS[int(prnd() * len(v.PAYMENT_CHANNELS))]
        u = prnd()
        if count == 2 and m == 0:
            status, reason, channel = "FAILED", "INSUFFICIENT_FUNDS", "AUTO_DEBIT"
        elif u < 0.9:
            status, reason = "COMPLETED", ""
        elif u < 0.96:
            status, reason = "FAILED", v.FAILURE_REASONS[int(prnd() * len(v.FAILURE_REASONS))]
        else:
            status, reason = "REVERSED", v.REVERSAL_REASONS[int(prnd() * len(v.REVERSAL_REASONS))]
        hour = 6 if count == 2 and m == 0 else 7 + int(prnd() * 16)  # a failed morning auto-debit comes first
        when = f"{self.day}T{hour:02d}:{int(prnd() * 60):02d}:{int(prnd() * 60):02d}+07:00"
        row = [reference, loan.number, cif, _money(amount), "VND", when, channel, status, reason]
        self.emit(PAY, row, omit)

    def finish(self) -> ChunkOut:
        data = [("\r\n".join(lines) + "\r\n").encode() if lines else b"" for lines in self.out]
        if self.job.base_rows:
            assert tuple(self.ordinal) == self.job.base_rows, "the pre-pass and the generation disagree"
        return ChunkOut(data, [len(lines) for lines in self.out], self.bad)


def _person_fields(p: _Person) -> list[str]:
    return [p.type, p.name, p.dob, p.national_id, p.gender, p.company, p.registration, p.tax_id]


# ------------------------------------------------------------------------------------------- change set
# Each takes a row chosen for the date's change set and changes it in place, never its natural key, so that
# it is the same record with at least one different value (and the loan's sums stay consistent).


def _toggle_verified(chunk: _Chunk, row: list[str], at: int) -> None:
    if row[at] == "true":
        row[at], row[at + 1] = "false", ""
    else:
        row[at], row[at + 1] = "true", chunk.day


def _change_customer(chunk: _Chunk, row: list[str]) -> None:
    if row[10] == "INACTIVE":
        row[10] = "ACTIVE"
    elif chunk.crng.random() < 0.3:
        row[10] = "INACTIVE"
    elif row[1] == "ORGANIZATION":
        row[9] = "CORPORATE" if row[9] == "SME" else "SME"
    else:
        row[9] = "PRIORITY" if row[9] != "PRIORITY" else "RETAIL"


def _change_phone(chunk: _Chunk, row: list[str]) -> None:
    _toggle_verified(chunk, row, 4)


def _change_address(chunk: _Chunk, row: list[str]) -> None:
    old = row[2]
    while row[2] == old:
        row[2] = _street(chunk.crng.random)


def _change_email(chunk: _Chunk, row: list[str]) -> None:
    _toggle_verified(chunk, row, 3)


def _change_loan(chunk: _Chunk, row: list[str]) -> None:
    c = chunk.crng
    if row[18] == "CLOSED":
        row[21] = f"{row[21]} (đối soát {chunk.day})"
        return
    dpd = int(row[16])
    outstanding, remaining, due = int(row[11][:-3]), int(row[12][:-3]), int(row[13][:-3])
    u = c.random()
    if dpd > 0 and (u < 0.45 or due < 2000):  # another day unpaid: dpd and the penalty grow
        dpd += 1
        accrual = max(1000, due * 5 // 10_000 // 1000 * 1000)
        due += accrual
        outstanding += accrual
    elif dpd > 0 and u < 0.8:  # a partial payment: less due, still late
        paid = min(due - 1000, max(1000, due * (20 + int(c.random() * 70)) // 100 // 1000 * 1000))
        due -= paid
        outstanding -= paid
    elif dpd > 0:  # rescheduled: the next instalment a month later
        cal = chunk.cal
        offset = (date.fromisoformat(row[15]) - cal.as_of).days
        row[15] = cal.iso(cal.add_months(offset, 1))
    elif u < 0.5 or remaining < 1000:  # the instalment was missed
        dpd = 1
    else:  # a prepayment
        paid = min(remaining, (1 + int(c.random() * 50)) * 1_000_000) if remaining >= 1_000_000 else remaining
        remaining -= paid
        outstanding -= paid
    row[11], row[12], row[13] = _money(outstanding), _money(remaining), _money(due)
    row[16], row[17] = str(dpd), delinquency(dpd)


def _change_collateral(chunk: _Chunk, row: list[str]) -> None:
    value = int(row[4][:-3])
    factor = (90, 93, 95, 97, 103, 105, 108, 110)[int(chunk.crng.random() * 8)]
    new = value * factor // 100 // 1_000_000 * 1_000_000
    row[4] = _money(new if new != value else value + 1_000_000)
    row[5] = chunk.day


def _no_change(chunk: _Chunk, row: list[str]) -> None:
    raise AssertionError("loan_collaterals rows have no column outside their key to change")


def _change_due(chunk: _Chunk, row: list[str]) -> None:
    row[5] = _money(int(row[5][:-3]) + 1000 * (1 + int(chunk.crng.random() * 500)))


_RELATIONS = ("FAMILY_MEMBER", "EMERGENCY_CONTACT", "GUARANTOR", "FRIEND", "COLLEAGUE", "OTHER")


def _change_reference(chunk: _Chunk, row: list[str]) -> None:
    choices = [r for r in _RELATIONS if r != row[2]]
    row[2] = choices[int(chunk.crng.random() * len(choices))]


def _change_payment(chunk: _Chunk, row: list[str]) -> None:
    if row[7] == "COMPLETED":
        row[7] = "REVERSED"
        row[8] = v.REVERSAL_REASONS[int(chunk.crng.random() * len(v.REVERSAL_REASONS))]
    else:
        row[7], row[8] = "COMPLETED", ""


CHANGES: tuple[Callable[[_Chunk, list[str]], None], ...] = (
    _change_customer,
    _change_phone,
    _change_address,
    _change_email,
    _change_loan,
    _change_collateral,
    _no_change,
    _change_due,
    _change_reference,
    _change_payment,
)


def _bad_date(original: str, b: Random) -> str:
    year, month, day = original[:4], original[5:7], original[8:10]
    if "T" in original:
        return f"{day}/{month}/{year} {original[11:19]}"
    u = b.random()
    if u < 0.5:
        return f"{day}/{month}/{year}"
    return f"{year}-02-30" if u < 0.75 else f"{year}-13-{day}"


def _bad_number(original: str, b: Random) -> str:
    if original.endswith(".00") and len(original) > 9 and b.random() < 0.6:
        return f"{int(original[:-3]):,}".replace(",", ".")  # 1.250.000: thousands separated the local way
    if "." in original:
        return _q(original.replace(".", ","))  # a decimal comma
    return f"{original or '0'}.5"  # a fraction where an integer is expected


# ------------------------------------------------------------------------------------------ orchestration


def _run_chunk(job: Job) -> ChunkOut:
    return _Chunk(job).run()


def _part(k: int, n: int, upto: int) -> int:
    """round(k * upto / n), half up, in integers: how many of k picks fall in the first ``upto`` of n rows."""
    return (2 * k * upto + n) // (2 * n) if n else 0


def _allocate(jobs: list[Job], counts: list[tuple[int, ...]], plan: Plan) -> list[Job]:
    """Spread each file's changed and bad rows over the chunks, in proportion to their rows."""
    files = range(len(FILES))
    totals = [sum(c[f] for c in counts) for f in files]
    k_changed = [0 if f in NO_CHANGE_FILES else share_of(totals[f], plan.changed) for f in files]
    k_bad = [share_of(totals[f], plan.bad) for f in files]
    done = [0] * len(FILES)
    allocated = []
    for job, rows in zip(jobs, counts, strict=True):
        upto = [done[f] + rows[f] for f in files]
        allocated.append(
            Job(
                job.plan,
                job.source,
                job.chunk,
                job.first,
                job.count,
                base_rows=rows,
                changed_rows=tuple(
                    _part(k_changed[f], totals[f], upto[f]) - _part(k_changed[f], totals[f], done[f])
                    for f in files
                ),
                bad_rows=tuple(
                    _part(k_bad[f], totals[f], upto[f]) - _part(k_bad[f], totals[f], done[f]) for f in files
                ),
                bad_before=tuple(_part(k_bad[f], totals[f], done[f]) for f in files),
            )
        )
        done = upto
    return allocated


class _Executor:
    """Runs chunk jobs in order, in this process or in a pool, with at most 2 x workers results pending."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: Any = None

    def __enter__(self) -> _Executor:
        if self.workers > 1:
            self.pool = multiprocessing.get_context().Pool(self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()

    def map(self, fn: Callable[[Job], Any], jobs: Iterable[Job]) -> Iterator[Any]:
        if self.pool is None:
            yield from map(fn, jobs)
            return
        pending: deque[Any] = deque()
        for job in jobs:
            pending.append(self.pool.apply_async(fn, (job,)))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def split_customers(customers: int, sources: Sequence[str]) -> dict[str, int]:
    """How many of ``customers`` each source gets (by its weight), in the canonical order of SOURCES."""
    chosen = [s for s in SOURCES.values() if s.code in sources]
    total = sum(s.weight for s in chosen)
    split, before = {}, 0
    for source in chosen:
        upto = before + source.weight
        split[source.code] = _part(customers, total, upto) - _part(customers, total, before)
        before = upto
    return split


def _write_source(
    out_dir: Path,
    plan: Plan,
    source: str,
    jobs: list[Job],
    executor: _Executor,
    progress: Callable[[str, int, int], None] | None,
) -> dict[str, int]:
    folder = out_dir / source / plan.business_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path, bad_path = folder / "manifest.json", folder / "bad_rows.json"
    manifest_path.unlink(missing_ok=True)  # no manifest until every file is complete
    bad_path.unlink(missing_ok=True)
    hashes = [hashlib.sha256() for _ in FILES]
    rows = [0] * len(FILES)
    bad: list[list[dict[str, object]]] = [[] for _ in FILES]
    total = sum(job.count for job in jobs)
    done = 0
    handles = [(folder / spec.name).open("wb") for spec in FILES]
    try:
        for f, spec in enumerate(FILES):
            header = (",".join(spec.header) + "\r\n").encode()
            handles[f].write(header)
            hashes[f].update(header)
        for job, out in zip(jobs, executor.map(_run_chunk, jobs), strict=True):
            for f, data in enumerate(out.data):
                if data:
                    handles[f].write(data)
                    hashes[f].update(data)
            for f, row, kind, column in out.bad:
                bad[f].append({"line": rows[f] + row + 2, "kind": kind, "column": column})
            for f, n in enumerate(out.rows):
                rows[f] += n
            done += job.count
            if progress is not None:
                progress(source, done, total)
    finally:
        for handle in handles:
            handle.close()
    if plan.bad:
        bad_path.write_text(
            json.dumps({spec.name: bad[f] for f, spec in enumerate(FILES)}, indent=1) + "\n", encoding="utf-8"
        )
    manifest = {
        "sourceSystem": source,
        "businessDate": plan.business_date.isoformat(),
        "files": {
            spec.name: {"rows": rows[f], "sha256": hashes[f].hexdigest()} for f, spec in enumerate(FILES)
        },
    }
    partial = folder / "manifest.json.part"
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, manifest_path)
    return {spec.name: rows[f] for f, spec in enumerate(FILES)}


def generate(
    out_dir: Path,
    customers: int,
    business_date: date,
    seed: int = 42,
    changed: float = 0.0,
    bad: float = 0.0,
    sources: Sequence[str] = ("T24", "W4"),
    *,
    as_of: date | None = None,
    workers: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Write ``<out_dir>/<SOURCE>/<business_date>/`` per source; returns the data rows per source and file.

    ``customers`` are split over ``sources`` by weight (T24 65 %, W4 35 %); ``changed`` and ``bad`` are
    shares (0.05 for 5 %). The output depends on the arguments only, not on ``workers``.
    """
    if customers < 1:
        raise ValueError(f"customers must be at least 1, not {customers}.")
    for name, share in (("changed", changed), ("bad", bad)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be a share between 0 and 1 (0 % to 100 %), not {share}.")
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise ValueError(
            f"unknown source(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SOURCES)}."
        )
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}.")
    plan = Plan(seed, business_date, as_of or DEFAULT_AS_OF, changed, bad)
    result: dict[str, dict[str, int]] = {}
    with _Executor(workers) as executor:
        for source, n in split_customers(customers, sources).items():
            jobs = [
                Job(plan, source, c, c * CHUNK, min(CHUNK, n - c * CHUNK))
                for c in range((n + CHUNK - 1) // CHUNK)
            ]
            if changed or bad:
                jobs = _allocate(jobs, list(executor.map(count_chunk, jobs)), plan)
            result[source] = _write_source(out_dir, plan, source, jobs, executor, progress)
    return result

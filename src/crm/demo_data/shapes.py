"""The shape of a chunk's customers: how many rows of each file each one has, drawn before any value.

A chunk draws its shapes from a stream of its own (the number of payments from one of the business date),
so that the pre-pass of ``changed`` / ``bad`` can count every file's rows by drawing the shapes alone.
"""

from __future__ import annotations

from collections.abc import Callable

from crm.demo_data import vocab as v
from crm.demo_data.days import Calendar, calendar
from crm.demo_data.files import FILES
from crm.demo_data.planning import Job

LoanShape = tuple[str, int, bool, int, int, tuple[int, ...], int, int]
"""A loan's shape: product, dpd, closed, overdue instalments, months between instalments, collateral
indexes it is linked to, due rows, payments."""
Shape = tuple[bool, int, int, int, int, list[LoanShape], list[str]]
"""A customer's shape: is_org, phones, addresses, emails, references, loans, collateral kinds."""

Draw = Callable[[], float]


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


def shapes(job: Job) -> list[Shape]:
    """The shapes of the job's customers, in order."""
    w4 = job.source == "W4"
    cal = calendar(job.plan.as_of)
    rnd, prnd = job.stream("shape").random, job.daily_stream("payments").random
    result: list[Shape] = []
    for _ in range(job.count):
        is_org, n_ph, n_ad, n_em, n_ref = _contacts(rnd, w4)
        kinds: list[str] = []
        loans = _loans(rnd, prnd, cal, w4, is_org, kinds)
        result.append((is_org, n_ph, n_ad, n_em, n_ref, loans, kinds))
    return result


def _contacts(rnd: Draw, w4: bool) -> tuple[bool, int, int, int, int]:
    """Whether the customer is an organisation, and its phones, addresses, e-mails and references."""
    if rnd() < (0.02 if w4 else 0.07):
        return True, 1 + (rnd() < 0.6), 1 + (rnd() < 0.5), 1 + (rnd() < 0.4), 1 + (rnd() < 0.3)
    u = rnd()
    n_ph = 1 if u < 0.40 else 2 if u < 0.82 else 3
    n_ad = 1 + (rnd() < 0.3)
    u = rnd()
    n_em = 0 if u < 0.25 else 1 if u < 0.80 else 2
    u = rnd()
    n_ref = 0 if u < 0.50 else 1 if u < 0.88 else 2
    return False, n_ph, n_ad, n_em, n_ref


def _loans(rnd: Draw, prnd: Draw, cal: Calendar, w4: bool, is_org: bool, kinds: list[str]) -> list[LoanShape]:
    """The customer's loans (cards at W4); ``kinds`` gets the kinds of the collaterals securing them."""
    u = rnd()
    if w4:
        n_loans = 1 if u < 0.70 else 2 if u < 0.95 else 3
        mix = v.W4_MIX
    else:
        n_loans = 1 if u < 0.60 else 2 if u < 0.88 else 3 if u < 0.97 else 4
        mix = v.T24_ORG_MIX if is_org else v.T24_INDIVIDUAL_MIX
    bucket = _bucket(rnd())  # a customer's loans tend to be late together
    loans: list[LoanShape] = []
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
    return loans


def _collateral_plan(product: str, kinds: list[str], rnd: Draw) -> tuple[int, ...]:
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
    for shape in shapes(job):
        for i, n in enumerate(shape_rows(shape)):
            totals[i] += n
    return tuple(totals)

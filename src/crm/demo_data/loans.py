"""loans.csv: T24's instalment loans and W4's cards and credit lines, with the due rows they owe.

A loan's balances and dpd are as of the calendar's ``as_of``; its due_segmentations rows (``Loan.due_rows``)
add up to its ``dueAmount``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from random import Random
from typing import NamedTuple

from crm.demo_data import vocab as v
from crm.demo_data.cells import money
from crm.demo_data.change_set import Today
from crm.demo_data.days import Calendar
from crm.demo_data.due_segmentations import DueRows
from crm.demo_data.shapes import LoanShape

Draw = Callable[[], float]


class Loan(NamedTuple):
    number: str
    fields: list[str]
    amount: int  # original amount or limit
    disbursed: int  # offset of the disbursement date
    due_rows: list[list[str]]
    due: int
    outstanding: int
    min_pay: int


class _Terms(NamedTuple):
    """What a loan's row says from its opening on, whatever became of it."""

    number: str
    cif: str
    code: str  # productType
    amount: int
    term: int
    rate: int  # in ten-thousandths of a percent
    frequency: str
    limit: str  # the limitAmount cell

    def cells(self, cal: Calendar, opened: int) -> list[str]:
        """The row's columns from accountNumber to limitAmount."""
        return [
            self.number,
            self.cif,
            self.code,
            money(self.amount),
            "VND",
            cal.iso(opened),
            cal.iso(cal.add_months(opened, self.term)),
            f"{self.rate // 10000}.{self.rate % 10000:04d}",
            str(self.term),
            self.frequency,
            self.limit,
        ]


def delinquency(dpd: int) -> str:
    return "CURRENT" if dpd == 0 else "DELINQUENT" if dpd <= 90 else "DEFAULT"


def _amount(rnd: Draw, product: v.Product) -> int:
    steps = (product.max_million - product.min_million) // product.step_million + 1
    return (product.min_million + int(rnd() * rnd() * steps) * product.step_million) * 1_000_000


def _rate(rnd: Draw, product: v.Product) -> int:
    return (product.rate_min + int(rnd() * (product.rate_max - product.rate_min + 1))) * 100


def _closed(rnd: Draw, cal: Calendar, terms: _Terms, picks: int, min_pay: str) -> Loan:
    """A loan closed in the last two years, resolved by one of the first ``picks`` of RESOLUTION_PICK."""
    close = -1 - int(rnd() * 700)
    opened = cal.add_months(close, -(1 + int(rnd() * terms.term)))
    res_code, res_notes, _ = v.RESOLUTIONS[v.RESOLUTION_PICK[int(rnd() * picks)]]
    fields = [
        *terms.cells(cal, opened),
        "0.00",
        "0.00",
        "0.00",
        min_pay,
        "",
        "0",
        "CURRENT",
        "CLOSED",
        cal.iso(close),
        res_code,
        res_notes,
    ]
    return Loan(terms.number, fields, terms.amount, opened, [], 0, 0, 0)


def _open_fields(
    cal: Calendar,
    terms: _Terms,
    opened: int,
    balances: tuple[int, int, int],
    min_pay: str,
    next_due: int,
    dpd: int,
) -> list[str]:
    """The row of an open loan; ``balances``: outstanding, remaining, due."""
    outstanding, remaining, due = balances
    return [
        *terms.cells(cal, opened),
        money(outstanding),
        money(remaining),
        money(due),
        min_pay,
        cal.iso(next_due),
        str(dpd),
        delinquency(dpd),
        "OPEN",
        "",
        "",
        "",
    ]


# ----------------------------------------------------------------------------------------- instalment loans


def instalment_loan(
    r: Random, cal: Calendar, number: str, cif: str, shape: LoanShape, product: v.Product
) -> Loan:
    """A T24 loan repaid in equal principal instalments, monthly or quarterly, ``n_over`` of them overdue."""
    rnd = r.random
    code, dpd, closed, n_over, step, _links, _n_due, _n_pay = shape
    amount = _amount(rnd, product)
    term = product.terms[int(rnd() * len(product.terms))]
    if (n_over + 1) * step >= term:
        term = ((n_over + 2) * step + 11) // 12 * 12
    rate = _rate(rnd, product)
    if rnd() < 0.1:
        rate += int(rnd() * 100)
    terms = _Terms(number, cif, code, amount, term, rate, "MONTHLY" if step == 1 else "QUARTERLY", "")
    instalments = term // step
    principal = amount // instalments // 1000 * 1000
    paid = int(rnd() * (instalments - n_over - 1 + 1)) if instalments > n_over + 1 else 0
    paid = min(paid, instalments - n_over - 1)
    if closed:
        return _closed(rnd, cal, terms, len(v.RESOLUTION_PICK), "")
    base = -dpd if dpd else 1 + int(rnd() * 28)  # the oldest unpaid instalment, or the next one
    disbursed = cal.add_months(base, -(paid + 1) * step)
    late_fee = (0, 0, 0, 50_000, 100_000, 200_000)[int(rnd() * 6)]
    rows: list[list[str]] = []
    dues = DueRows(number, n_over, cal, rows)
    due = _instalments_due(dues, base, terms, principal, paid, step, late_fee)
    remaining = amount - principal * (paid + n_over + 1)
    outstanding = remaining + due
    next_due = cal.add_months(base, n_over * step)
    fields = _open_fields(cal, terms, disbursed, (outstanding, remaining, due), "", next_due, dpd)
    return Loan(number, fields, amount, disbursed, rows, due, outstanding, 0)


def _instalments_due(
    dues: DueRows, base: int, terms: _Terms, principal: int, paid: int, step: int, late_fee: int
) -> int:
    """Adds the due rows of the overdue instalments (late fee, penalty) and of the next one; their sum."""
    cal, n_over, rate = dues.cal, dues.n_over, terms.rate
    due = 0
    for t in range(n_over + 1):
        balance = terms.amount - principal * (paid + t)
        interest = balance * rate * step // 12_000_000
        when = cal.add_months(base, t * step)
        if t < n_over:
            penalty = principal * rate * 3 * -when // 730_000_000
            fees = late_fee
        else:
            penalty = fees = 0
        due += principal + interest + fees + penalty
        dues.add(t, when, principal, interest, fees, penalty)
    return due


# ------------------------------------------------------------------------------------------ revolving credit


def revolving(r: Random, cal: Calendar, number: str, cif: str, shape: LoanShape, product: v.Product) -> Loan:
    """A W4 credit card, overdraft or credit line: a limit, a balance, monthly statements."""
    rnd = r.random
    code, dpd, closed, n_over, _step, _links, _n_due, _n_pay = shape
    card = code == "CREDIT_CARD"
    if card:
        original = int(v.CARD_LIMITS_MILLION[int(rnd() * len(v.CARD_LIMITS_MILLION))]) * 1_000_000
    else:
        original = _amount(rnd, product)
    limit = original * 3 // 2 // 5_000_000 * 5_000_000 if rnd() < 0.15 else original
    term = product.terms[int(rnd() * len(product.terms))]
    if n_over + 2 >= term:
        term = (n_over + 2 + 11) // 12 * 12
    rate = _rate(rnd, product)
    elapsed = int(rnd() * (term - n_over - 1))
    terms = _Terms(number, cif, code, original, term, rate, "MONTHLY", money(limit))
    if closed:
        return _closed(rnd, cal, terms, 2, "0.00" if card else "")
    base = -dpd if dpd else 1 + int(rnd() * 28)
    opened = cal.add_months(base, -(elapsed + n_over + 1))
    usage = 0.6 + rnd() * 0.5 if dpd else rnd() * 0.85
    balance = int(limit * usage) // 1000 * 1000
    rows: list[list[str]] = []
    due, charges, min_pay = _statements_due(
        DueRows(number, n_over, cal, rows), base, card, balance, limit, rate
    )
    outstanding = balance + charges
    balances = (outstanding, outstanding - due, due)
    min_pay_cell = money(min_pay) if card else ""
    fields = _open_fields(cal, terms, opened, balances, min_pay_cell, cal.add_months(base, n_over), dpd)
    return Loan(number, fields, original, opened, rows, due, outstanding, min_pay)


def _statements_due(
    dues: DueRows, base: int, card: bool, balance: int, limit: int, rate: int
) -> tuple[int, int, int]:
    """Adds the due rows of the unpaid statements and the next one: (due, charges on top of the balance,
    minimum payment). A card's minimum pays off some principal; a credit line's is its interest."""
    cal, n_over = dues.cal, dues.n_over
    interest = balance * rate // 12_000_000
    if card:
        min_pay = max(min(balance, 50_000), balance * 5 // 100 // 1000 * 1000)
        principal_each = max(min_pay - interest, 0)
    else:
        min_pay = interest
        principal_each = 0
    left = balance
    due = charges = 0
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
    return due, charges, min_pay


# ---------------------------------------------------------------------------------------------- change set


def change(today: Today, row: list[str]) -> None:
    """A closed loan's notes amended; an open one a day later, partly paid, rescheduled, missed or prepaid."""
    c = today.rng
    if row[18] == "CLOSED":
        row[21] = f"{row[21]} (đối soát {today.day})"
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
        cal = today.cal
        offset = (date.fromisoformat(row[15]) - cal.as_of).days
        row[15] = cal.iso(cal.add_months(offset, 1))
    elif u < 0.5 or remaining < 1000:  # the instalment was missed
        dpd = 1
    else:  # a prepayment
        paid = min(remaining, (1 + int(c.random() * 50)) * 1_000_000) if remaining >= 1_000_000 else remaining
        remaining -= paid
        outstanding -= paid
    row[11], row[12], row[13] = money(outstanding), money(remaining), money(due)
    row[16], row[17] = str(dpd), delinquency(dpd)

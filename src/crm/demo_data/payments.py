"""payments.csv: the business day's payments on late loans, from a stream of that day.

A loan with two payments has a failed morning auto-debit first, then a payment later in the day.
"""

from __future__ import annotations

from random import Random

from crm.demo_data import vocab as v
from crm.demo_data.cells import money
from crm.demo_data.change_set import Today
from crm.demo_data.loans import Loan


def payment_number(prefix: str, day: str, num: int, k: int, m: int) -> str:
    """The reference of customer ``num``'s loan ``k``'s payment ``m`` (both from 0) on ``day`` (ISO)."""
    return f"{prefix}{day.replace('-', '')}{num:07d}{k + 1:02d}{m + 1}"


def payment_row(pay: Random, day: str, loan: Loan, cif: str, reference: str, m: int, count: int) -> list[str]:
    """Payment ``m`` of the loan's ``count`` on ``day``: the amount due, part of it, or a lump sum."""
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
    when = f"{day}T{hour:02d}:{int(prnd() * 60):02d}:{int(prnd() * 60):02d}+07:00"
    return [reference, loan.number, cif, money(amount), "VND", when, channel, status, reason]


def change(today: Today, row: list[str]) -> None:
    """Reversed since, or completed after all."""
    if row[7] == "COMPLETED":
        row[7] = "REVERSED"
        row[8] = v.REVERSAL_REASONS[int(today.rng.random() * len(v.REVERSAL_REASONS))]
    else:
        row[7], row[8] = "COMPLETED", ""

"""emails.csv: a customer's e-mail addresses, made of its (ASCII-folded) name or trade name."""

from __future__ import annotations

from collections.abc import Callable

from crm.demo_data import vocab as v
from crm.demo_data.change_set import Today, toggle_verified
from crm.demo_data.days import Calendar
from crm.demo_data.people import Customer

Draw = Callable[[], float]


def _address(rnd: Draw, e: int, customer: Customer) -> str:
    num, person = customer.num, customer.person
    family, middle, given = person.folded
    if customer.is_org:
        box = v.ORG_EMAIL_BOXES[(int(rnd() * 6) + e) % 6]
        return f"{box}@{family}{num % 1000}.com.vn"
    domain = v.EMAIL_DOMAINS[int(rnd() * len(v.EMAIL_DOMAINS))]
    pattern = (int(rnd() * 3) + e) % 3
    if pattern == 0:
        return f"{given}.{family}{1 + int(rnd() * 99)}@{domain}"
    if pattern == 1:
        return f"{family}{middle}{given}{person.dob[2:4]}@{domain}"
    return f"{given}{family}{int(rnd() * 1000):03d}@{domain}"


def email_rows(rnd: Draw, cal: Calendar, customer: Customer, count: int) -> list[list[str]]:
    """``count`` addresses; a second one never repeats the first (the key)."""
    rows = []
    previous = ""
    for e in range(count):
        address = _address(rnd, e, customer)
        if address == previous:
            address = "1" + address
        previous = address
        verified = rnd() < 0.5
        rows.append(
            [
                customer.cif,
                address,
                "true" if e == 0 else "false",
                "true" if verified else "false",
                cal.iso(-1 - int(rnd() * 1500)) if verified else "",
            ]
        )
    return rows


def change(today: Today, row: list[str]) -> None:
    toggle_verified(today, row, 3)

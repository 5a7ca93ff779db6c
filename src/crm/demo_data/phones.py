"""phones.csv: a customer's phones, the first one primary (a mobile, or an organisation's office line)."""

from __future__ import annotations

from collections.abc import Callable

from crm.demo_data import vocab as v
from crm.demo_data.change_set import Today, toggle_verified
from crm.demo_data.days import Calendar
from crm.demo_data.people import Customer

Draw = Callable[[], float]


def _mobile(rnd: Draw) -> str:
    return f"+84{v.MOBILE_PREFIXES[int(rnd() * len(v.MOBILE_PREFIXES))]}{int(rnd() * 10_000_000):07d}"


def _landline(rnd: Draw, province: v.Province) -> str:
    if len(province.area_code) == 2:
        return f"+84{province.area_code}3{int(rnd() * 10_000_000):07d}"
    return f"+84{province.area_code}3{int(rnd() * 1_000_000):06d}"


def _kind(rnd: Draw, p: int, is_org: bool) -> str:
    if p == 0:
        return "WORK" if is_org else "MOBILE"
    u = rnd()
    if is_org:
        return "MOBILE" if u < 0.5 else "FAX" if u < 0.7 else "WORK"
    return "MOBILE" if u < 0.45 else "HOME" if u < 0.65 else "WORK" if u < 0.9 else "EMERGENCY"


def phone_rows(rnd: Draw, cal: Calendar, customer: Customer, count: int) -> list[list[str]]:
    """``count`` phones, no two with the same (type, number): the file's key."""
    cif, is_org, province = customer.cif, customer.is_org, customer.province
    rows = []
    used: set[tuple[str, str]] = set()
    for p in range(count):
        kind = _kind(rnd, p, is_org)
        number = _landline(rnd, province) if kind in ("HOME", "WORK", "FAX") else _mobile(rnd)
        while (kind, number) in used:
            number = _mobile(rnd)
        used.add((kind, number))
        verified = rnd() < (0.75 if p == 0 else 0.45)
        rows.append(
            [
                cif,
                kind,
                number,
                "true" if p == 0 else "false",
                "true" if verified else "false",
                cal.iso(-1 - int(rnd() * 1500)) if verified else "",
            ]
        )
    return rows


def change(today: Today, row: list[str]) -> None:
    toggle_verified(today, row, 4)

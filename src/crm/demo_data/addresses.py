"""addresses.csv: a customer's addresses, the first (home, or an organisation's office) in its province."""

from __future__ import annotations

from collections.abc import Callable

from crm.demo_data import places
from crm.demo_data import vocab as v
from crm.demo_data.change_set import Today
from crm.demo_data.days import Calendar
from crm.demo_data.people import Customer

Draw = Callable[[], float]


def _kind_and_place(rnd: Draw, a: int, is_org: bool, province: v.Province) -> tuple[str, v.Province]:
    if a == 0:
        return ("WORK" if is_org else "HOME"), province
    if is_org:
        kind = "BILLING" if rnd() < 0.6 else "MAILING"
    else:
        u = rnd()
        kind = "WORK" if u < 0.5 else "MAILING" if u < 0.75 else "TEMPORARY"
    return kind, province if rnd() < 0.7 else places.province(rnd)


def address_rows(rnd: Draw, cal: Calendar, customer: Customer, count: int) -> list[list[str]]:
    rows = []
    for a in range(count):
        kind, place = _kind_and_place(rnd, a, customer.is_org, customer.province)
        verified = rnd() < 0.6
        rows.append(
            [
                customer.cif,
                kind,
                places.street(rnd),
                places.ward(rnd, place) if rnd() < 0.7 else "",
                place.name,
                place.districts[int(rnd() * len(place.districts))],
                "",
                "VN",
                "true" if a == 0 else "false",
                "true" if verified else "false",
                cal.iso(-1 - int(rnd() * 2000)) if verified else "",
            ]
        )
    return rows


def change(today: Today, row: list[str]) -> None:
    """The customer moved: another address line."""
    old = row[2]
    while row[2] == old:
        row[2] = places.street(today.rng.random)

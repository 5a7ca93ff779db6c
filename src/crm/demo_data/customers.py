"""customers.csv: one row per customer, its identity, segment and status."""

from __future__ import annotations

from collections.abc import Callable

from crm.demo_data import vocab as v
from crm.demo_data.change_set import Today
from crm.demo_data.people import Customer, person_fields


def customer_row(rnd: Callable[[], float], customer: Customer) -> list[str]:
    if customer.is_org:
        segment = v.ORG_SEGMENTS[int(rnd() * len(v.ORG_SEGMENTS))]
    else:
        segment = v.INDIVIDUAL_SEGMENTS[int(rnd() * len(v.INDIVIDUAL_SEGMENTS))]
    return [customer.cif, *person_fields(customer.person), segment, "ACTIVE" if rnd() < 0.95 else "INACTIVE"]


def change(today: Today, row: list[str]) -> None:
    """Reactivated, deactivated, or moved to another segment."""
    if row[10] == "INACTIVE":
        row[10] = "ACTIVE"
    elif today.rng.random() < 0.3:
        row[10] = "INACTIVE"
    elif row[1] == "ORGANIZATION":
        row[9] = "CORPORATE" if row[9] == "SME" else "SME"
    else:
        row[9] = "PRIORITY" if row[9] != "PRIORITY" else "RETAIL"

"""reference_customers.csv: the people a customer names (spouse, guarantor, legal representative ...).

A quarter of the references point at an earlier customer of the same chunk (the row then repeats that
customer's identity); the rest are reference-only persons (``<ref_cif><num><k>``), who are never in
customers.csv.
"""

from __future__ import annotations

from random import Random

from crm.demo_data import vocab as v
from crm.demo_data.change_set import Today
from crm.demo_data.days import Calendar
from crm.demo_data.people import Customer, Person, company, person, person_fields

_RELATIONS = ("FAMILY_MEMBER", "EMERGENCY_CONTACT", "GUARANTOR", "FRIEND", "COLLEAGUE", "OTHER")


def reference_rows(
    r: Random, cal: Calendar, ref_prefix: str, customer: Customer, earlier: list[Customer], count: int
) -> list[list[str]]:
    """``count`` references of ``customer``, who comes after ``earlier`` in the chunk; never one twice."""
    rnd = r.random
    rows = []
    referenced: set[str] = set()
    for k in range(count):
        if earlier and rnd() < 0.25:
            other = earlier[int(rnd() * len(earlier))]
            if other.cif not in referenced:
                referenced.add(other.cif)
                rows.append(_customer_reference(rnd(), customer, other))
                continue
        row = _new_reference(r, cal, f"{ref_prefix}{customer.num:07d}{k + 1:02d}", customer, k)
        referenced.add(row[0])
        rows.append(row)
    return rows


def _customer_reference(u: float, customer: Customer, other: Customer) -> list[str]:
    """A reference to another customer; ``u`` draws the relation."""
    ref = other.person
    if customer.is_org or ref.type == "ORGANIZATION":
        relation = "BUSINESS_PARTNER" if u < 0.6 else "GUARANTOR"
    else:
        relation = v.CUSTOMER_RELATIONSHIPS[int(u * len(v.CUSTOMER_RELATIONSHIPS))]
    return [other.cif, customer.cif, relation, *person_fields(ref)]


def _new_reference(r: Random, cal: Calendar, ref_cif: str, customer: Customer, k: int) -> list[str]:
    """A reference-only person, a company or an individual (some without a date of birth or national id)."""
    rnd = r.random
    relation, ref = _relation_and_person(r, cal, customer, k)
    row = [ref_cif, customer.cif, relation, *person_fields(ref)]
    if ref.type == "INDIVIDUAL":
        if rnd() < 0.2:
            row[6] = ""
        if rnd() < 0.15:
            row[5] = ""
    return row


def _relation_and_person(r: Random, cal: Calendar, customer: Customer, k: int) -> tuple[str, Person]:
    rnd = r.random
    province = customer.province
    if customer.is_org:
        relation = (
            "LEGAL_REPRESENTATIVE" if k == 0 else v.ORG_RELATIONSHIPS[int(rnd() * len(v.ORG_RELATIONSHIPS))]
        )
        return relation, company(r, province) if relation == "BUSINESS_PARTNER" else person(r, cal, province)
    if k == 0 and customer.person.age >= 25 and rnd() < 0.35:
        return "SPOUSE", person(r, cal, province, "FEMALE" if customer.person.gender == "MALE" else "MALE")
    relation = v.PERSON_RELATIONSHIPS[int(rnd() * len(v.PERSON_RELATIONSHIPS))]
    return relation, person(r, cal, province)


def change(today: Today, row: list[str]) -> None:
    """Another relationship."""
    choices = [r for r in _RELATIONS if r != row[2]]
    row[2] = choices[int(today.rng.random() * len(choices))]

"""The people of a generated set: customers and reference persons, individuals or companies."""

from __future__ import annotations

from random import Random
from typing import NamedTuple

from crm.demo_data import vocab as v
from crm.demo_data.days import Calendar


class Person(NamedTuple):
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


def person(r: Random, cal: Calendar, province: v.Province, gender: str = "") -> Person:
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
    return Person("INDIVIDUAL", name, dob, national_id, gender, "", "", "", age, folded)


def company(r: Random, province: v.Province) -> Person:
    rnd = r.random
    trade_name = v.COMPANY_NAMES[int(rnd() * len(v.COMPANY_NAMES))]
    company = (
        f"{v.COMPANY_FORMS[int(rnd() * len(v.COMPANY_FORMS))]} "
        f"{v.COMPANY_TRADES[int(rnd() * len(v.COMPANY_TRADES))]} {trade_name}"
    )
    tax_id = f"{province.tax_code}{int(rnd() * 100_000_000):08d}"
    slug = v.COMPANY_SLUGS[trade_name]
    return Person("ORGANIZATION", company, "", "", "", company, tax_id, tax_id, 0, (slug, "", ""))


def person_fields(p: Person) -> list[str]:
    """The identity columns customers.csv and reference_customers.csv share, from ``type`` on."""
    return [p.type, p.name, p.dob, p.national_id, p.gender, p.company, p.registration, p.tax_id]


class Customer(NamedTuple):
    """A customer of the chunk being generated, as its files' rows need it."""

    num: int  # its number within the source, from 1 (cif, account and collateral numbers carry it)
    cif: str
    person: Person
    is_org: bool
    province: v.Province

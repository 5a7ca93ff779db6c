"""Reading customers: the search box and the full view."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Text, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.contacts.service import primary_phones
from crm.bank_sync.customers import repository
from crm.bank_sync.customers.models import Customer
from crm.bank_sync.customers.repository import CustomerCriteria
from crm.bank_sync.customers.schemas import (
    AddressRead,
    CustomerFoundRead,
    CustomerFullRead,
    CustomerStatus,
    EmailRead,
    PhoneRead,
    ReferenceCustomerRead,
)
from crm.bank_sync.records.freshness import Freshness
from crm.bank_sync.records.schemas import EntityType
from crm.platform.errors import NotFound
from crm.platform.problems import declare

NO_CUSTOMER = declare("customer.not_found", "No customer with CIF {cif}.")

MIN_FUZZY_LENGTH = 3
"""A name or CIF prefix shorter than this would match most customers (and no trigram narrows it)."""
COUNTRY_CODE = "84"
_PHONE_LIKE = re.compile(r"\+?[\d\s.()-]+")
_SEPARATORS = re.compile(r"[\s.()+-]")


def phone_candidates(digits: str, *, international: bool) -> tuple[str, ...]:
    """The ways a Vietnamese number may be stored: as typed, E.164 (+84...) and local (0...).

    ``digits`` is the number without separators or ``+``; ``international`` says it was typed with ``+``.
    """
    if international or digits.startswith("00"):
        e164 = "+" + digits.removeprefix("00")
    elif digits.startswith("0"):
        e164 = "+" + COUNTRY_CODE + digits[1:]
    elif digits.startswith(COUNTRY_CODE) and len(digits) >= 11:
        e164 = "+" + digits
    else:
        e164 = "+" + COUNTRY_CODE + digits
    candidates = {digits, e164}
    if e164.startswith("+" + COUNTRY_CODE):
        candidates.add("0" + e164[1 + len(COUNTRY_CODE) :])
    return tuple(sorted(candidates))


def search_criteria(q: str | None, *, segment: str | None, status: CustomerStatus | None) -> CustomerCriteria:
    """Read the search box by what it holds: an e-mail (has ``@``); digits (CIF, national id or phone,
    separators allowed); anything else (CIF, national id or an accent-insensitive part of the name)."""
    filters = CustomerCriteria(segment=segment or None, status=status.value if status else None)
    q = " ".join((q or "").split())
    if not q:
        return filters
    if "@" in q:
        return replace(filters, email=q.replace(" ", ""))
    if _PHONE_LIKE.fullmatch(q) and any(c.isdigit() for c in q):
        digits = _SEPARATORS.sub("", q)
        return replace(
            filters,
            cifs=_distinct(q, digits),
            cif_prefixes=(digits,) if len(digits) >= MIN_FUZZY_LENGTH else (),
            national_ids=_distinct(q, digits),
            phone_numbers=phone_candidates(digits, international=q.startswith("+")),
        )
    long_enough = len(q) >= MIN_FUZZY_LENGTH
    return replace(
        filters,
        cifs=_distinct(q, q.upper()),
        cif_prefixes=_distinct(q, q.upper()) if long_enough and " " not in q else (),
        national_ids=_distinct(q, q.upper()),
        name=q if long_enough else None,
    )


def _distinct(*values: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


async def search_customers(
    session: AsyncSession,
    q: str | None,
    *,
    segment: str | None,
    status: CustomerStatus | None,
    offset: int,
    limit: int,
) -> tuple[list[CustomerFoundRead], int, bool]:
    """A page of the customers the search box finds, best matches first, how many there are (a name
    search counts up to ``repository.COUNT_LIMIT``) and whether that count is exact; each with its
    primary phone (one query for the page's phones)."""
    criteria = search_criteria(q, segment=segment, status=status)
    rows, total, exact = await repository.search(session, criteria, offset=offset, limit=limit)
    freshness = await Freshness.load(session)
    found = await _with_phones(session, freshness, rows)
    return found, total, exact


async def _with_phones(
    session: AsyncSession, freshness: Freshness, rows: Sequence[Customer]
) -> list[CustomerFoundRead]:
    """The customers as lists show them, each with its primary phone (one query for all)."""
    numbers = await primary_phones(session, [row.cif for row in rows])
    return [
        freshness.read(CustomerFoundRead, row, EntityType.CUSTOMERS).model_copy(
            update={"primary_phone": numbers.get(row.cif)}
        )
        for row in rows
    ]


async def lookup_customers(session: AsyncSession, cifs: list[str]) -> list[CustomerFoundRead]:
    """The customers with these CIFs, by CIF, in one query (``cif = ANY(:cifs)``), each with its
    primary phone; unknown CIFs are absent."""
    keys = bindparam("cifs", list(dict.fromkeys(cifs)), type_=ARRAY(Text))
    rows = (
        await session.scalars(select(Customer).where(Customer.cif == any_(keys)).order_by(Customer.cif))
    ).all()
    return await _with_phones(session, await Freshness.load(session), rows)


async def get_customer(session: AsyncSession, cif: str) -> Customer:
    """The customer with this CIF, or 404."""
    customer = await repository.get(session, cif)
    if customer is None:
        raise NotFound.of(NO_CUSTOMER, cif=cif)
    return customer


async def ensure_customer(session: AsyncSession, cif: str) -> None:
    """404 unless a customer has this CIF."""
    if not await repository.exists(session, cif):
        raise NotFound.of(NO_CUSTOMER, cif=cif)


async def get_customer_full(session: AsyncSession, cif: str) -> CustomerFullRead:
    """CustomerFullView: the customer with its phones, addresses, e-mails and references (with theirs)."""
    customer = await get_customer(session, cif)
    freshness = await Freshness.load(session)
    references = await repository.references_of(session, cif)
    phones: dict[str, list[PhoneRead]] = defaultdict(list)
    for phone in await repository.phones_of(session, [cif, *(r.ref_cif for r in references)]):
        phones[phone.cif].append(freshness.read(PhoneRead, phone, EntityType.PHONES))
    return freshness.read(CustomerFullRead, customer, EntityType.CUSTOMERS).model_copy(
        update={
            "phones": phones[cif],
            "addresses": [
                freshness.read(AddressRead, a, EntityType.ADDRESSES)
                for a in await repository.addresses_of(session, cif)
            ],
            "emails": [
                freshness.read(EmailRead, e, EntityType.EMAILS)
                for e in await repository.emails_of(session, cif)
            ],
            "references": [
                freshness.read(ReferenceCustomerRead, r, EntityType.REFERENCE_CUSTOMERS).model_copy(
                    update={"phones": phones[r.ref_cif]}
                )
                for r in references
            ],
        }
    )

"""Queries of customers, their contacts and references.

Each search branch is a condition on ``customer`` that one index answers (the unique CIF index,
``ix_customer_cif_pattern`` for a CIF prefix, ``ix_customer_national_id``, ``ix_customer_name_search``;
phones and e-mails through ``ix_phone_number`` / ``ix_email_address_lower`` folded into a
``cif = ANY(ARRAY(...))`` that is evaluated once), so PostgreSQL ORs them as bitmap index scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    Select,
    Text,
    any_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.contacts.models import Address, Email, Phone, ReferenceCustomer
from crm.bank_sync.customers.models import Customer
from crm.bank_sync.records.paging import total

LIKE_ESCAPE = "\\"


def like_escape(value: str) -> str:
    """``value`` with LIKE's wildcards taken literally (under ``ESCAPE '\\'``)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_text(value: ColumnExpressionArgument[str] | str) -> ColumnElement[str]:
    """``bank_sync.search_text(value)``: lower case without accents, the expression the name index holds."""
    return func.bank_sync.search_text(value, type_=Text)


@dataclass(frozen=True)
class CustomerCriteria:
    """What a customer search looks for; the key conditions are ORed, segment and status ANDed."""

    cifs: tuple[str, ...] = ()
    cif_prefixes: tuple[str, ...] = ()
    national_ids: tuple[str, ...] = ()
    phone_numbers: tuple[str, ...] = ()
    email: str | None = None
    name: str | None = None
    segment: str | None = None
    status: str | None = None


EXACT, CONTACT, PREFIX, NAME = 0, 1, 2, 3
"""Ranks of the kinds of match: exact CIF, national id / phone / e-mail, CIF prefix, name."""


def _matches(criteria: CustomerCriteria) -> list[tuple[int, ColumnElement[bool]]]:
    matches: list[tuple[int, ColumnElement[bool]]] = []
    if criteria.cifs:
        matches.append((EXACT, Customer.cif.in_(criteria.cifs)))
    if criteria.national_ids:
        matches.append((CONTACT, Customer.national_id.in_(criteria.national_ids)))
    if criteria.phone_numbers:
        owners = select(Phone.cif).where(Phone.number.in_(criteria.phone_numbers)).scalar_subquery()
        matches.append((CONTACT, Customer.cif == any_(func.array(owners, type_=ARRAY(Text)))))
    if criteria.email is not None:
        owners = (
            select(Email.cif).where(func.lower(Email.address) == criteria.email.lower()).scalar_subquery()
        )
        matches.append((CONTACT, Customer.cif == any_(func.array(owners, type_=ARRAY(Text)))))
    for prefix in criteria.cif_prefixes:
        matches.append((PREFIX, Customer.cif.like(like_escape(prefix) + "%", escape=LIKE_ESCAPE)))
    if criteria.name is not None:
        pattern = literal("%") + search_text(like_escape(criteria.name)) + literal("%")
        matches.append((NAME, search_text(Customer.name).like(pattern, escape=LIKE_ESCAPE)))
    return matches


def _filtered(
    query: Select, criteria: CustomerCriteria, matches: list[tuple[int, ColumnElement[bool]]]
) -> Select:
    if matches:
        query = query.where(or_(*(condition for _, condition in matches)))
    if criteria.segment is not None:
        query = query.where(Customer.segment == criteria.segment)
    if criteria.status is not None:
        query = query.where(Customer.status == criteria.status)
    return query


def search_statement(criteria: CustomerCriteria, *, offset: int, limit: int) -> Select[Customer]:
    """One page of the customers matching ``criteria``: best kind of match first, then name similarity."""
    matches = _matches(criteria)
    order: list[ColumnExpressionArgument[Any]] = []
    if matches:
        rank = case(*((condition, kind) for kind, condition in matches), else_=NAME + 1)
        order.append(rank)
        if criteria.name is not None:
            # Among name matches only: a CIF prefix match's name says nothing about it.
            similarity = func.similarity(search_text(Customer.name), search_text(criteria.name))
            order.append(case((rank == NAME, similarity), else_=0.0).desc())
    order.append(Customer.cif)
    return _filtered(select(Customer), criteria, matches).order_by(*order).offset(offset).limit(limit)


def count_statement(criteria: CustomerCriteria) -> Select[int]:
    """How many customers match ``criteria`` (the same conditions as :func:`search_statement`)."""
    return _filtered(select(func.count()).select_from(Customer), criteria, _matches(criteria))


async def search(
    session: AsyncSession, criteria: CustomerCriteria, *, offset: int, limit: int
) -> tuple[list[Customer], int]:
    """A page of matching customers and how many match in all."""
    rows = list(await session.scalars(search_statement(criteria, offset=offset, limit=limit)))
    return rows, await total(session, rows, count_statement(criteria), offset=offset, limit=limit)


async def get(session: AsyncSession, cif: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.cif == cif))


async def exists(session: AsyncSession, cif: str) -> bool:
    return bool(await session.scalar(select(literal(True)).where(Customer.cif == cif)))


async def phones_of(session: AsyncSession, cifs: Sequence[str]) -> list[Phone]:
    """The phones filed under these CIFs (customers' or reference persons'), primary first."""
    if not cifs:
        return []
    query = (
        select(Phone)
        .where(Phone.cif.in_(cifs))
        .order_by(Phone.cif, Phone.is_primary.desc(), Phone.type, Phone.number)
    )
    return list(await session.scalars(query))


async def addresses_of(session: AsyncSession, cif: str) -> list[Address]:
    query = select(Address).where(Address.cif == cif).order_by(Address.is_primary.desc(), Address.type)
    return list(await session.scalars(query))


async def emails_of(session: AsyncSession, cif: str) -> list[Email]:
    query = select(Email).where(Email.cif == cif).order_by(Email.is_primary.desc(), Email.address)
    return list(await session.scalars(query))


async def references_of(session: AsyncSession, cif: str) -> list[ReferenceCustomer]:
    query = (
        select(ReferenceCustomer)
        .where(ReferenceCustomer.primary_cif == cif)
        .order_by(ReferenceCustomer.relationship_type, ReferenceCustomer.name, ReferenceCustomer.ref_cif)
    )
    return list(await session.scalars(query))

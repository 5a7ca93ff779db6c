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
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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


COUNT_LIMIT = 1_000
"""A name search counts at most this many customers whose name matches: "more than 1,000" is all a
person can use (they add to the name), and each match counted beyond is a row PostgreSQL reads and
checks (at 10,000 the count alone was 60-90 ms on a million customers)."""
RANK_LIMIT = COUNT_LIMIT
"""A name search ranks (by similarity) at most this many customers whose name matches. When it is
``COUNT_LIMIT``, the ranking statement counts too and a name search is one statement."""


def _ranking(
    criteria: CustomerCriteria, matches: list[tuple[int, ColumnElement[bool]]]
) -> tuple[ColumnElement[int], ColumnElement[float]]:
    """The kind of match a customer is (best first), and the similarity of its name to the one
    searched (0 unless the name is how it matched)."""
    rank = case(*((condition, kind) for kind, condition in matches), else_=NAME + 1)
    if criteria.name is None:
        return rank, literal(0.0)
    # Among name matches only: a CIF prefix match's name says nothing about it.
    similarity = func.similarity(search_text(Customer.name), search_text(criteria.name))
    return rank, case((rank == NAME, similarity), else_=0.0)


def _candidates(
    criteria: CustomerCriteria, matches: list[tuple[int, ColumnElement[bool]]], *, limit: int, ranked: bool
) -> Any:
    """The customers a name search ranks (``ranked``: whole rows with their rank and similarity) or
    counts (their CIFs): every match of the other kinds (a CIF, a national id, a phone: a few) and up
    to ``limit + 1`` of the name's, in the order the index finds them.

    A common name ("nguyen": one customer in three) matches hundreds of thousands of customers of a
    million; ranking every one of them by similarity, and counting them, took a second, and a person
    cannot use that many results anyway. Up to ``RANK_LIMIT`` name matches the ranking is over every
    match, exactly as before; beyond it the page is the best among the first ``RANK_LIMIT + 1`` found.
    Up to ``COUNT_LIMIT`` the total is exact; beyond it it says "more than" (``totalExact`` false).
    Whole rows, not keys, for the page: a join back to the table by key was planned as a scan of it."""
    columns: Any  # whole rows, or keys
    if ranked:
        rank, similarity = _ranking(criteria, matches)
        columns = select(Customer, rank.label("rank"), similarity.label("similarity"))
    else:
        columns = select(Customer.cif)
    named = [(kind, condition) for kind, condition in matches if kind == NAME]
    keyed = [(kind, condition) for kind, condition in matches if kind != NAME]
    parts = [_filtered(columns, criteria, named).limit(limit + 1)]
    if keyed:
        parts.append(_filtered(columns, criteria, keyed))
    return union(*parts).cte("candidates")


def search_statement(criteria: CustomerCriteria, *, offset: int, limit: int) -> Select[Any]:
    """One page of the customers matching ``criteria``: best kind of match first, then name similarity.

    A name search selects each customer with ``matched``, the number of customers ranked
    (:func:`_candidates`), counted in the same statement."""
    matches = _matches(criteria)
    if criteria.name is not None:
        candidates = _candidates(criteria, matches, limit=RANK_LIMIT, ranked=True)
        found = aliased(Customer, candidates)
        query: Any = select(found, func.count().over().label("matched")).order_by(
            candidates.c.rank, candidates.c.similarity.desc(), candidates.c.cif
        )
        return query.offset(offset).limit(limit)  # type: ignore[no-any-return]
    order: list[ColumnExpressionArgument[Any]] = []
    if matches:
        order.append(_ranking(criteria, matches)[0])
    order.append(Customer.cif)
    return _filtered(select(Customer), criteria, matches).order_by(*order).offset(offset).limit(limit)


def count_statement(criteria: CustomerCriteria) -> Select[int]:
    """How many customers match ``criteria`` (the same conditions as :func:`search_statement`; for a
    name search, the candidates)."""
    matches = _matches(criteria)
    if criteria.name is not None:
        counted = _candidates(criteria, matches, limit=COUNT_LIMIT, ranked=False)
        return select(func.count()).select_from(counted)
    return _filtered(select(func.count()).select_from(Customer), criteria, matches)


async def search(
    session: AsyncSession, criteria: CustomerCriteria, *, offset: int, limit: int
) -> tuple[list[Customer], int, bool]:
    """A page of matching customers, how many match (up to ``COUNT_LIMIT`` for a name search) and
    whether that number is exact."""
    statement = search_statement(criteria, offset=offset, limit=limit)
    if criteria.name is None:
        rows = list(await session.scalars(statement))
        return rows, await total(session, rows, count_statement(criteria), offset=offset, limit=limit), True
    found = (await session.execute(statement)).all()
    rows = [row[0] for row in found]
    ranked = found[0].matched if found else 0
    # Every candidate ranked is every match: counted already, no second look.
    matched = (
        ranked if found and ranked <= RANK_LIMIT else await session.scalar(count_statement(criteria)) or 0
    )
    return rows, min(matched, COUNT_LIMIT), matched <= COUNT_LIMIT


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

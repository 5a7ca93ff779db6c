"""The ten extract files a generated delivery holds, and how the rows of each can be broken.

The columns are not restated here: an entity file's header is its bank-sync ``EntitySpec`` (the fields the
sync loads, in the spec's order) and payments.csv's is payment processing's ``COLUMNS`` (what it reads). What
is the generator's own is the order of the files, a column order that differs from the spec's (kept so that
a seed gives the bytes it always gave: column order is free in an extract), and which columns the bad
rows break, with which wrong values.
"""

from __future__ import annotations

from typing import NamedTuple

from crm.bank_sync.sync.entities import (
    ADDRESSES,
    COLLATERALS,
    CUSTOMERS,
    DUE_SEGMENTATIONS,
    EMAILS,
    LOAN_COLLATERALS,
    LOANS,
    PHONES,
    REFERENCE_CUSTOMERS,
    EntitySpec,
)
from crm.payments.core_extract import COLUMNS as PAYMENT_COLUMNS

CUS, PHO, ADR, EML, LOA, COL, LCO, DUE, REF, PAY = range(10)
"""Index of each file in ``FILES`` (and in every per-file list of a chunk)."""

MISSING_KEY, BAD_DATE, BAD_NUMBER, UNKNOWN_ENUM, UNKNOWN_REFERENCE, DUPLICATE_KEY = (
    "missing_key",
    "bad_date",
    "bad_number",
    "unknown_enum",
    "unknown_reference",
    "duplicate_key",
)
BAD_KINDS = (MISSING_KEY, BAD_DATE, BAD_NUMBER, UNKNOWN_ENUM, UNKNOWN_REFERENCE, DUPLICATE_KEY)


class FileSpec(NamedTuple):
    """One extract file: its header (camelCase field names) and how its rows can be broken."""

    name: str
    header: tuple[str, ...]
    key: tuple[str, ...]
    kinds: tuple[str, ...]  # the bad-row kinds its columns allow, in the order they are handed out
    dates: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    enums: tuple[tuple[str, tuple[str, ...]], ...] = ()  # column, wrong values a core might send
    refs: tuple[tuple[str, str], ...] = ()  # column, what it points at: cif | loan | collateral

    def at(self, column: str) -> int:
        return self.header.index(column)


def _entity_file(
    entity: EntitySpec,
    kinds: tuple[str, ...],
    *,
    first: tuple[str, ...] = (),
    dates: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    enums: tuple[tuple[str, tuple[str, ...]], ...] = (),
    refs: tuple[tuple[str, str], ...] = (),
) -> FileSpec:
    """The file of a bank-sync entity: its spec's field names as the header (``first`` moved to the
    front), its spec's natural key by field name."""
    names = tuple(f.name for f in entity.fields)
    name_of = {f.column: f.name for f in entity.fields}
    header = (*first, *(n for n in names if n not in first))
    key = tuple(name_of[column] for column in entity.key)
    return FileSpec(entity.file_name, header, key, kinds, dates, numbers, enums, refs)


_ALL = BAD_KINDS
FILES: tuple[FileSpec, ...] = (
    _entity_file(
        CUSTOMERS,
        (MISSING_KEY, BAD_DATE, UNKNOWN_ENUM, DUPLICATE_KEY),
        dates=("dateOfBirth",),
        enums=(
            ("type", ("PERSON", "CORP")),
            ("gender", ("M", "F", "NAM", "NU")),
            ("status", ("DORMANT", "BLOCKED")),
        ),
    ),
    _entity_file(
        PHONES,
        (MISSING_KEY, BAD_DATE, UNKNOWN_ENUM, UNKNOWN_REFERENCE, DUPLICATE_KEY),
        dates=("verificationDate",),
        enums=(("type", ("CELL", "ZALO", "LANDLINE")),),
        refs=(("cif", "cif"),),
    ),
    _entity_file(
        ADDRESSES,
        (MISSING_KEY, BAD_DATE, UNKNOWN_ENUM, UNKNOWN_REFERENCE, DUPLICATE_KEY),
        dates=("verificationDate",),
        enums=(("type", ("RESIDENTIAL", "OFFICE", "PERMANENT")),),
        refs=(("cif", "cif"),),
    ),
    _entity_file(
        EMAILS,
        (MISSING_KEY, BAD_DATE, UNKNOWN_REFERENCE, DUPLICATE_KEY),
        dates=("verificationDate",),
        refs=(("cif", "cif"),),
    ),
    _entity_file(
        LOANS,
        _ALL,
        dates=("disbursementDate", "maturityDate"),
        numbers=("originalAmount", "interestRate", "term", "outstanding", "dueAmount", "dpd"),
        enums=(
            ("productType", ("HOME_LOAN", "CAR_LOAN", "PAYDAY")),
            ("delinquencyStatus", ("WATCH", "SUBSTANDARD", "BAD_DEBT")),
            ("status", ("ACTIVE", "WRITTEN_OFF", "SUSPENDED")),
        ),
        refs=(("cif", "cif"),),
    ),
    _entity_file(
        COLLATERALS,
        _ALL,
        dates=("valuationDate",),
        numbers=("value",),
        enums=(("type", ("GOLD", "STOCK", "LAND_USE_RIGHT")),),
        refs=(("cif", "cif"),),
    ),
    _entity_file(
        LOAN_COLLATERALS,
        (MISSING_KEY, UNKNOWN_REFERENCE, DUPLICATE_KEY),
        refs=(("loanAccountNumber", "loan"), ("collateralNumber", "collateral")),
    ),
    _entity_file(
        DUE_SEGMENTATIONS,
        (MISSING_KEY, BAD_DATE, BAD_NUMBER, UNKNOWN_REFERENCE, DUPLICATE_KEY),
        dates=("dueDate",),
        numbers=("principalAmount", "interestAmount", "feesAmount", "penaltyAmount"),
        refs=(("loanAccountNumber", "loan"),),
    ),
    _entity_file(
        REFERENCE_CUSTOMERS,
        (MISSING_KEY, BAD_DATE, UNKNOWN_ENUM, UNKNOWN_REFERENCE, DUPLICATE_KEY),
        first=("refCif",),
        dates=("dateOfBirth",),
        enums=(
            ("relationshipType", ("NEIGHBOUR", "COUSIN", "PARENT")),
            ("type", ("PERSON", "COMPANY")),
        ),
        refs=(("primaryCif", "cif"),),
    ),
    # Payments go through payment processing, whose idempotency makes a repeated reference a no-op rather
    # than a reject, and which cannot see bank-sync's loans: no duplicate or unknown-reference rows here.
    FileSpec(
        "payments.csv",
        tuple(PAYMENT_COLUMNS),
        ("referenceNumber",),
        (MISSING_KEY, BAD_DATE, BAD_NUMBER, UNKNOWN_ENUM),
        dates=("paymentDate",),
        numbers=("amount",),
        enums=(
            ("paymentChannel", ("ATM", "VNPAY", "COUNTER")),
            ("status", ("SETTLED", "SUCCESS", "CANCELLED")),
        ),
    ),
)
NO_CHANGE_FILES = frozenset({LCO})
"""Files whose every column is part of the natural key: a row can only appear or disappear, not change."""


def _check(spec: FileSpec) -> None:
    """Every column the bad rows break is in the header: a spec that drops one fails at import, not in the
    middle of a bad set."""
    named = (*spec.key, *spec.dates, *spec.numbers, *(c for c, _ in spec.enums), *(c for c, _ in spec.refs))
    unknown = [column for column in named if column not in spec.header]
    if unknown:
        raise AssertionError(f"{spec.name} has no column {', '.join(unknown)}")


for _spec in FILES:
    _check(_spec)

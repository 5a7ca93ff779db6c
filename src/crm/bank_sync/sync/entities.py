"""What each extract file holds: its columns, their kinds, its natural key and its parents.

The pipeline builds all of its SQL (validation, casts, upsert, staleness) from these specs, so a new
entity is a new spec here plus its model, and nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Table

from crm.bank_sync.collaterals.models import Collateral, DueSegmentation, LoanCollateral
from crm.bank_sync.collaterals.schemas import CollateralType
from crm.bank_sync.contacts.models import Address, Email, Phone, ReferenceCustomer
from crm.bank_sync.customers.models import Customer
from crm.bank_sync.customers.schemas import (
    AddressType,
    CustomerStatus,
    CustomerType,
    Gender,
    PhoneType,
    RelationshipType,
)
from crm.bank_sync.loans.models import Loan
from crm.bank_sync.loans.reapply import reapply_payments_since_snapshot
from crm.bank_sync.loans.schemas import DelinquencyStatus, LoanStatus, ProductType

Kind = Literal["text", "int", "money", "rate", "size", "date", "bool", "enum"]


def _t(model: Any) -> Table:
    table: Table = model.__table__
    return table


@dataclass(frozen=True)
class Field:
    """One column of an extract file: its header name (camelCase) and how to check and cast it."""

    name: str
    column: str
    kind: Kind = "text"
    required: bool = False
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parent:
    """A reference the rows must satisfy: ``columns`` exist as ``parent_columns`` in one of ``tables``."""

    columns: tuple[str, ...]
    tables: tuple[tuple[Table, tuple[str, ...]], ...]
    what: str


AfterMerge = Callable[[Any, datetime, ZoneInfo], Awaitable[int]]


@dataclass(frozen=True)
class EntitySpec:
    name: str  # the extract file stem, also the entityType of runs and events
    table: Table
    key: tuple[str, ...]  # natural key, as column names
    fields: tuple[Field, ...]
    parents: tuple[Parent, ...] = field(default_factory=tuple)
    after_merge: AfterMerge | None = None
    """Run in the load's transaction once the rows are written: (asyncpg connection, load time, business
    time zone) -> rows it changed. Loans: the payments made since the snapshot's cut, taken off again."""

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


def _values(vocabulary: type[StrEnum] | None) -> tuple[str, ...]:
    """An enum field accepts exactly the values of the API's own enum for it (one vocabulary, not two)."""
    return tuple(v.value for v in vocabulary) if vocabulary else ()


def _f(name: str, column: str, kind: Kind = "text", *, values: type[StrEnum] | None = None) -> Field:
    return Field(name, column, kind, False, _values(values))


def _req(name: str, column: str, kind: Kind = "text", values: type[StrEnum] | None = None) -> Field:
    return Field(name, column, kind, True, _values(values))


def _customer_parent(column: str) -> Parent:
    return Parent((column,), ((_t(Customer), ("cif",)),), "customer")


_PERSON = (
    _f("dateOfBirth", "date_of_birth", "date"),
    _f("nationalId", "national_id"),
    _f("gender", "gender", "enum", values=Gender),
    _f("companyName", "company_name"),
    _f("registrationNumber", "registration_number"),
    _f("taxId", "tax_id"),
)
_CONTACT_FLAGS = (
    _req("isPrimary", "is_primary", "bool"),
    _req("isVerified", "is_verified", "bool"),
    _f("verificationDate", "verification_date", "date"),
)

CUSTOMERS = EntitySpec(
    "customers",
    _t(Customer),
    ("cif",),
    (
        _req("cif", "cif"),
        _req("type", "type", "enum", CustomerType),
        _req("name", "name"),
        *_PERSON,
        _req("segment", "segment"),
        _req("status", "status", "enum", CustomerStatus),
    ),
)
REFERENCE_CUSTOMERS = EntitySpec(
    "reference_customers",
    _t(ReferenceCustomer),
    ("primary_cif", "ref_cif"),
    (
        _req("primaryCif", "primary_cif"),
        _req("refCif", "ref_cif"),
        _req("relationshipType", "relationship_type", "enum", RelationshipType),
        _req("type", "type", "enum", CustomerType),
        _req("name", "name"),
        *_PERSON,
    ),
    (_customer_parent("primary_cif"),),
)
PHONES = EntitySpec(
    "phones",
    _t(Phone),
    ("cif", "type", "number"),
    (
        _req("cif", "cif"),
        _req("type", "type", "enum", PhoneType),
        _req("number", "number"),
        *_CONTACT_FLAGS,
    ),
    # A phone belongs to a customer or to a reference person (then its cif is the refCif).
    (
        Parent(
            ("cif",),
            ((_t(Customer), ("cif",)), (_t(ReferenceCustomer), ("ref_cif",))),
            "customer or reference",
        ),
    ),
)
ADDRESSES = EntitySpec(
    "addresses",
    _t(Address),
    ("cif", "type"),
    (
        _req("cif", "cif"),
        _req("type", "type", "enum", AddressType),
        _req("addressLine1", "address_line1"),
        _f("addressLine2", "address_line2"),
        _req("city", "city"),
        _f("district", "district"),
        _f("state", "state"),
        _req("country", "country"),
        *_CONTACT_FLAGS,
    ),
    (_customer_parent("cif"),),
)
EMAILS = EntitySpec(
    "emails",
    _t(Email),
    ("cif", "address"),
    (_req("cif", "cif"), _req("address", "address"), *_CONTACT_FLAGS),
    (_customer_parent("cif"),),
)
LOANS = EntitySpec(
    "loans",
    _t(Loan),
    ("account_number",),
    (
        _req("accountNumber", "account_number"),
        _req("cif", "cif"),
        _req("productType", "product_type", "enum", ProductType),
        _req("originalAmount", "original_amount", "money"),
        _req("currency", "currency"),
        _req("disbursementDate", "disbursement_date", "date"),
        _req("maturityDate", "maturity_date", "date"),
        _req("interestRate", "interest_rate", "rate"),
        _req("term", "term", "int"),
        _req("paymentFrequency", "payment_frequency"),
        _f("limitAmount", "limit_amount", "money"),
        _req("outstanding", "outstanding", "money"),
        _req("remainingAmount", "remaining_amount", "money"),
        _req("dueAmount", "due_amount", "money"),
        _f("minPay", "min_pay", "money"),
        _f("nextPaymentDate", "next_payment_date", "date"),
        _req("dpd", "dpd", "int"),
        _req("delinquencyStatus", "delinquency_status", "enum", DelinquencyStatus),
        _req("status", "status", "enum", LoanStatus),
        _f("closeDate", "close_date", "date"),
        _f("resolutionCode", "resolution_code"),
        _f("resolutionNotes", "resolution_notes"),
    ),
    (_customer_parent("cif"),),
    after_merge=reapply_payments_since_snapshot,
)
COLLATERALS = EntitySpec(
    "collaterals",
    _t(Collateral),
    ("collateral_number",),
    (
        _req("collateralNumber", "collateral_number"),
        _req("cif", "cif"),
        _req("type", "type", "enum", CollateralType),
        _req("description", "description"),
        _req("value", "value", "money"),
        _f("valuationDate", "valuation_date", "date"),
        _f("make", "make"),
        _f("model", "model"),
        _f("year", "year", "int"),
        _f("vin", "vin"),
        _f("licensePlate", "license_plate"),
        _f("propertyType", "property_type"),
        _f("address", "address"),
        _f("size", "size", "size"),
        _f("titleNumber", "title_number"),
    ),
    (_customer_parent("cif"),),
)
LOAN_COLLATERALS = EntitySpec(
    "loan_collaterals",
    _t(LoanCollateral),
    ("loan_account_number", "collateral_number"),
    (_req("loanAccountNumber", "loan_account_number"), _req("collateralNumber", "collateral_number")),
    (
        Parent(("loan_account_number",), ((_t(Loan), ("account_number",)),), "loan"),
        Parent(("collateral_number",), ((_t(Collateral), ("collateral_number",)),), "collateral"),
    ),
)
DUE_SEGMENTATIONS = EntitySpec(
    "due_segmentations",
    _t(DueSegmentation),
    ("loan_account_number", "due_date"),
    (
        _req("loanAccountNumber", "loan_account_number"),
        _req("dueDate", "due_date", "date"),
        _req("principalAmount", "principal_amount", "money"),
        _req("interestAmount", "interest_amount", "money"),
        _req("feesAmount", "fees_amount", "money"),
        _req("penaltyAmount", "penalty_amount", "money"),
    ),
    (Parent(("loan_account_number",), ((_t(Loan), ("account_number",)),), "loan"),),
)

LOAD_ORDER: tuple[EntitySpec, ...] = (
    CUSTOMERS,
    REFERENCE_CUSTOMERS,
    PHONES,
    ADDRESSES,
    EMAILS,
    LOANS,
    COLLATERALS,
    LOAN_COLLATERALS,
    DUE_SEGMENTATIONS,
)
"""Parents before children, so that a child's reference check sees today's parents."""
ENTITIES = {spec.name: spec for spec in LOAD_ORDER}


def load_levels(specs: Sequence[EntitySpec]) -> list[list[EntitySpec]]:
    """``specs`` in waves: every entity comes after all of its parents, and the entities of one wave
    do not depend on each other, so they may load at the same time."""
    by_table = {spec.table.name: spec for spec in LOAD_ORDER}
    depth: dict[str, int] = {}
    for spec in LOAD_ORDER:  # parents first, so a parent's depth is known
        parents = [by_table[t.name].name for p in spec.parents for t, _ in p.tables]
        depth[spec.name] = 1 + max((depth[name] for name in parents), default=-1)
    waves: dict[int, list[EntitySpec]] = {}
    for spec in specs:
        waves.setdefault(depth[spec.name], []).append(spec)
    return [waves[d] for d in sorted(waves)]

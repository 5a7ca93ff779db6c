"""How to reach a customer (or a reference person): phones, addresses, e-mails, references."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index, Text, UniqueConstraint, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from crm.bank_sync.models import Base
from crm.bank_sync.records.models import SynchronizedMixin


class Phone(SynchronizedMixin, Base):
    """A phone of a customer, or of a reference person (then ``cif`` is the reference's ``refCif``)."""

    __tablename__ = "phone"
    __table_args__ = (
        UniqueConstraint("cif", "type", "number"),
        Index("ix_phone_number", "number"),
    )

    cif: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    number: Mapped[str] = mapped_column(Text)
    is_primary: Mapped[bool]
    is_verified: Mapped[bool]
    verification_date: Mapped[date | None]


class Address(SynchronizedMixin, Base):
    __tablename__ = "address"
    __table_args__ = (UniqueConstraint("cif", "type"),)

    cif: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    address_line1: Mapped[str] = mapped_column(Text)
    address_line2: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str] = mapped_column(Text)
    is_primary: Mapped[bool]
    is_verified: Mapped[bool]
    verification_date: Mapped[date | None]


class Email(SynchronizedMixin, Base):
    __tablename__ = "email"
    __table_args__ = (
        UniqueConstraint("cif", "address"),
        Index("ix_email_address_lower", func.lower(literal_column("address"))),
    )

    cif: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    is_primary: Mapped[bool]
    is_verified: Mapped[bool]
    verification_date: Mapped[date | None]


class ReferenceCustomer(SynchronizedMixin, Base):
    """A person linked to a customer who can be contacted about the debt (guarantor, spouse, ...)."""

    __tablename__ = "reference_customer"
    __table_args__ = (
        UniqueConstraint("primary_cif", "ref_cif"),
        Index("ix_reference_customer_ref_cif", "ref_cif"),
    )

    primary_cif: Mapped[str] = mapped_column(Text)
    ref_cif: Mapped[str] = mapped_column(Text)
    relationship_type: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    date_of_birth: Mapped[date | None]
    national_id: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(Text)
    company_name: Mapped[str | None] = mapped_column(Text)
    registration_number: Mapped[str | None] = mapped_column(Text)
    tax_id: Mapped[str | None] = mapped_column(Text)

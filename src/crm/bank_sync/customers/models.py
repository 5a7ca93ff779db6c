"""A bank customer (person or organisation), unique by CIF."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index, Text, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from crm.bank_sync.models import Base
from crm.bank_sync.records.models import SynchronizedMixin


class Customer(SynchronizedMixin, Base):
    __tablename__ = "customer"
    __audit__ = True
    __audit_key__ = "cif"
    __table_args__ = (
        # Accent-insensitive name search: "nguyen van an" finds "Nguyễn Văn An" (search_text is
        # lower(unaccent(...)) made IMMUTABLE in migration 0003).
        Index(
            "ix_customer_name_search",
            func.bank_sync.search_text(literal_column("name")),
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_customer_national_id", "national_id"),
        # CIF prefix search (LIKE 'abc%') under any collation; migration 0004.
        Index("ix_customer_cif_pattern", "cif", postgresql_ops={"cif": "text_pattern_ops"}),
    )

    cif: Mapped[str] = mapped_column(Text, unique=True)
    type: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    date_of_birth: Mapped[date | None]
    national_id: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(Text)
    company_name: Mapped[str | None] = mapped_column(Text)
    registration_number: Mapped[str | None] = mapped_column(Text)
    tax_id: Mapped[str | None] = mapped_column(Text)
    segment: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)

"""A bank customer (person or organisation), unique by CIF, and the fields of every synchronized record."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Index, Text, func, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.bank_sync.models import Base
from crm.platform.db import TimestampMixin


class SynchronizedMixin(TimestampMixin):
    """The SynchronizedEntity fields of docs/data-model.md (besides the natural key)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    source_system: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    is_editable: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    last_synced_at: Mapped[datetime | None]
    missing_since: Mapped[datetime | None] = mapped_column(
        comment="set when a full snapshot of its source no longer has the record (stale)"
    )
    sync_hash: Mapped[uuid.UUID | None] = mapped_column(
        comment="fingerprint of the source row last loaded; NULL once the CRM changed the record itself"
    )


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

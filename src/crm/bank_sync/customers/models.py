"""A bank customer (person or organisation), unique by CIF, and the fields of every synchronized record."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.bank_sync.models import Base
from crm.platform.db import TimestampMixin


class SynchronizedMixin(TimestampMixin):
    """The SynchronizedEntity fields of data-model.md (besides the natural key)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    source_system: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    is_editable: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    last_synced_at: Mapped[datetime | None]


class Customer(SynchronizedMixin, Base):
    __tablename__ = "customer"
    __audit__ = True
    __audit_key__ = "cif"

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

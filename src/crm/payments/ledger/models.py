"""A payment, unique by reference number for ever."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.payments.models import Base
from crm.platform.db import TimestampMixin


class Payment(TimestampMixin, Base):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_loan_account_number_payment_date", "loan_account_number", "payment_date"),
        Index("ix_payment_cif_payment_date", "cif", "payment_date"),
        Index("ix_payment_payment_date", "payment_date"),
        Index("ix_payment_loan_check_pending", "created_at", postgresql_where=text("loan_check_pending")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference_number: Mapped[str] = mapped_column(Text, unique=True)
    loan_account_number: Mapped[str] = mapped_column(Text)
    cif: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    payment_date: Mapped[datetime]
    payment_channel: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    status_reason: Mapped[str | None] = mapped_column(Text)
    source_system: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    is_editable: Mapped[bool] = mapped_column(default=True)
    last_synced_at: Mapped[datetime | None]
    loan_check_pending: Mapped[bool] = mapped_column(
        default=False,
        server_default=text("false"),
        comment="stored PENDING because bank-sync could not confirm the loan; confirmed later",
    )

"""Each customer's call-queue facts on one row (table ``customer_queue_fact``).

Written only by the database: statement triggers on ``loan_view`` and ``action_record`` call
``workflow.refresh_queue_facts`` with the customers a statement touched (migration 0005 explains
the function and its locking). The queue reads these rows by primary key and compares them with
"today"; nothing here depends on the day.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Numeric, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.workflow.models import Base


class QueueFact(Base):
    __tablename__ = "customer_queue_fact"

    cif: Mapped[str] = mapped_column(Text, primary_key=True)
    max_dpd: Mapped[int] = mapped_column(server_default=text("0"))
    """The worst dpd of the customer's loans in ``loan_view`` (0 without loans)."""
    total_due: Mapped[Decimal] = mapped_column(Numeric(20, 2), server_default=text("0"))
    total_outstanding: Mapped[Decimal] = mapped_column(Numeric(20, 2), server_default=text("0"))
    last_action_date: Mapped[datetime | None]
    """The newest action's date; ``follow_up_date`` is that action's follow-up."""
    follow_up_date: Mapped[date | None]
    last_contact_at: Mapped[datetime | None]
    """The newest action whose result reached the customer (``is_contact`` in the vocabulary)."""
    open_promise_date: Mapped[date | None]
    """The OPEN promise that falls due first, with its amount."""
    open_promise_amount: Mapped[Decimal | None]
    broken_settled_at: Mapped[datetime | None]
    """The last BROKEN promise (when it broke, its date and amount), unless a newer promise was made."""
    broken_promise_date: Mapped[date | None]
    broken_promise_amount: Mapped[Decimal | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

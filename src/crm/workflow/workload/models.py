"""Each customer's call-queue facts on one row (table ``customer_queue_fact``).

Written only by the database: statement triggers on ``loan_view``, ``action_record`` and
``customer_agent`` call
``workflow.refresh_queue_facts`` with the customers a statement touched (migration 0005 explains
the function and its locking, 0006 the agents' columns). The queue reads an agent's rows from a
covering index on its agent column and compares them with "today"; nothing here depends on the day.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.workflow.models import Base

QUEUE_COLUMNS = [
    "cif",
    "max_dpd",
    "total_due",
    "total_outstanding",
    "last_action_date",
    "follow_up_date",
    "last_contact_at",
    "open_promise_date",
    "open_promise_amount",
    "broken_settled_at",
    "broken_promise_date",
    "broken_promise_amount",
]


def _by_agent(role: str) -> Index:
    """Every column the queue reads, in the agent's order: the queue is an index-only range."""
    return Index(
        f"ix_customer_queue_fact_{role}_agent",
        f"{role}_agent_id",
        postgresql_include=QUEUE_COLUMNS,
        postgresql_where=text(f"{role}_agent_id IS NOT NULL"),
    )


class QueueFact(Base):
    __tablename__ = "customer_queue_fact"
    __table_args__ = (_by_agent("call"), _by_agent("field"))

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
    call_agent_id: Mapped[uuid.UUID | None]
    """The customer's current call agent (``customer_agent``), and its field agent."""
    field_agent_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

"""Who works a customer, as SCD Type 2 history: a change ends the current row and adds a new one.

The database keeps "exactly one current row per customer" (a unique index over the current rows),
so concurrent reassignments cannot leave two, whatever the code does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.db import utcnow
from crm.workflow.models import Base


class CustomerAgent(Base):
    __tablename__ = "customer_agent"
    __audit__ = True
    __audit_key__ = "cif"
    __table_args__ = (
        CheckConstraint("is_current = (end_date IS NULL)", name="current_has_no_end"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        Index("uq_customer_agent_current_cif", "cif", unique=True, postgresql_where=text("is_current")),
        Index("ix_customer_agent_cif_start_date", "cif", "start_date"),
        Index(
            "ix_customer_agent_current_call_agent",
            "assigned_call_agent_id",
            postgresql_where=text("is_current"),
        ),
        Index(
            "ix_customer_agent_current_field_agent",
            "assigned_field_agent_id",
            postgresql_where=text("is_current"),
        ),
        # An agent's whole history, for the amount collected while customers were assigned to it.
        Index(
            "ix_customer_agent_call_agent_start",
            "assigned_call_agent_id",
            "start_date",
            postgresql_where=text("assigned_call_agent_id IS NOT NULL"),
        ),
        Index(
            "ix_customer_agent_field_agent_start",
            "assigned_field_agent_id",
            "start_date",
            postgresql_where=text("assigned_field_agent_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    cif: Mapped[str] = mapped_column(Text)
    assigned_call_agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow.agent.id"))
    assigned_field_agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workflow.agent.id"))
    start_date: Mapped[datetime]
    end_date: Mapped[datetime | None]
    is_current: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))

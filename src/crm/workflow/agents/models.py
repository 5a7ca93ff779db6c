"""A collection agent (or supervisor, or admin) and the capacity it can carry."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.db import TimestampMixin
from crm.workflow.models import Base


class Agent(TimestampMixin, Base):
    __tablename__ = "agent"
    __audit__ = True
    __audit_key__ = "employee_id"
    __table_args__ = (CheckConstraint("max_customers >= 0", name="max_customers_non_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    employee_id: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    team: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    max_customers: Mapped[int]
    user_id: Mapped[str | None] = mapped_column(Text, unique=True)

"""A login user."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from crm.identity.models import Base
from crm.platform.db import TimestampMixin


class User(TimestampMixin, Base):
    __tablename__ = "app_user"
    __audit__ = True
    __audit_key__ = "username"
    __audit_exclude__ = ("password_hash",)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(Text, unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    agent_id: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_by: Mapped[str] = mapped_column(Text, default="SYSTEM")


class SignInFailure(Base):
    """Failed sign-ins of one username or client address in the current window, and its lockout
    (written with SQL by ``crm.identity.users.throttle``; audited there)."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (CheckConstraint("kind IN ('username', 'address')", name="kind"),)

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]

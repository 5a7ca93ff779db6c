"""The web schema: signed-in sessions and each user's preferences (nothing of the services' data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm.platform.db import TYPE_ANNOTATION_MAP, service_metadata
from crm.platform.tables import define_platform_tables


class Base(DeclarativeBase):
    metadata = service_metadata("web")
    type_annotation_map = TYPE_ANNOTATION_MAP


platform_tables = define_platform_tables(Base.metadata)


class WebSession(Base):
    """A signed-in browser. The cookie carries a random id; only its SHA-256 is stored here."""

    __tablename__ = "session"
    __table_args__ = (Index("ix_session_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    username: Mapped[str] = mapped_column(Text)
    roles: Mapped[str] = mapped_column(Text)
    """Space separated, as the token said at sign-in."""
    agent_id: Mapped[str | None] = mapped_column(Text)
    token: Mapped[str] = mapped_column(Text)
    """The user's API token (from the auth service), sent with every call the UI makes for them."""
    csrf_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    last_seen_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    expires_at: Mapped[datetime]
    """The absolute end: sign-in + ``CRM_SESSION_ABSOLUTE_HOURS``, or the token's expiry if sooner."""
    display_name: Mapped[str | None] = mapped_column(Text)
    """What the header calls the user: an agent's name (read at sign-in); else the username."""


class Preference(Base):
    """What a user chose in the UI, kept across sessions."""

    __tablename__ = "preference"

    username: Mapped[str] = mapped_column(Text, primary_key=True)
    language: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

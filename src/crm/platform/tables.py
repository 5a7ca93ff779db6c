"""Tables every service has in its own schema: the outbox, processed events, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID


@dataclass(frozen=True)
class PlatformTables:
    outbox: Table
    processed_event: Table
    audit_log: Table


def define_platform_tables(metadata: MetaData) -> PlatformTables:
    """Add the platform tables to a service's metadata (and remember them in ``metadata.info``)."""
    outbox = Table(
        "outbox_event",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True, comment="the event's eventId"),
        Column("subject", Text, nullable=False),
        Column("payload", Text, nullable=False, comment="the event JSON exactly as published"),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Index(
            "ix_outbox_event_unpublished",
            "created_at",
            postgresql_where=text("published_at IS NULL"),
        ),
    )
    processed = Table(
        "processed_event",
        metadata,
        Column("consumer", Text, primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
    audit = Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("actor", Text, nullable=False),
        Column("actor_roles", ARRAY(Text), nullable=False, server_default=text("'{}'")),
        Column("action", Text, nullable=False),
        Column("entity_type", Text, nullable=False),
        Column("entity_key", Text, nullable=False),
        Column("before", JSONB),
        Column("after", JSONB),
        Column("request_id", Text),
        Index("ix_audit_log_entity", "entity_type", "entity_key"),
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_actor", "actor", "occurred_at"),
    )
    tables = PlatformTables(outbox=outbox, processed_event=processed, audit_log=audit)
    metadata.info["platform"] = tables
    return tables

"""Alembic helpers: one migration history per service, in its own schema.

``upgrade(url, service_package)`` applies a service's migrations programmatically (``crm migrate``,
``crm up``, ``crm serve`` and the test session all use it). Each service's ``env.py`` is two lines
calling :func:`run_env`.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from crm.platform.settings import async_database_url
from crm.platform.tables import define_platform_tables


def alembic_config(url: str, service_package: str, schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{service_package}:migrations")
    config.set_main_option("sqlalchemy.url", async_database_url(url).replace("%", "%%"))
    config.attributes["schema"] = schema
    return config


def upgrade(url: str, service_package: str, schema: str, revision: str = "head") -> None:
    """Bring a service's schema to ``revision`` (safe to call from several processes at once)."""
    command.upgrade(alembic_config(url, service_package, schema), revision)


def _lock_id(schema: str) -> int:
    return zlib.crc32(f"crm-migrate-{schema}".encode())


def _run_in(connection: Connection, metadata: MetaData) -> None:
    schema = metadata.schema
    assert schema, "every service's metadata has a schema"
    connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id(schema)})
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=False,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run_in, metadata)
            await conn.commit()
    finally:
        await engine.dispose()


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    assert url
    if context.is_offline_mode():
        context.configure(
            url=url, target_metadata=metadata, literal_binds=True, version_table_schema=metadata.schema
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(url, metadata))


def create_platform_tables(schema: str) -> None:
    """Create the outbox, processed-event and audit tables (version 1) in a service's schema."""
    bind: Any = op.get_bind()
    tables = define_platform_tables(MetaData(schema=schema))
    for table in (tables.outbox, tables.processed_event, tables.audit_log):
        table.create(bind)


def drop_platform_tables(schema: str) -> None:
    """Drop what ``create_platform_tables`` created, in the reverse order (a first migration's
    ``downgrade``). The migrations that landed before this helper spell the same drops out."""
    tables = define_platform_tables(MetaData(schema=schema))
    for table in (tables.audit_log, tables.processed_event, tables.outbox):
        op.drop_table(table.name, schema=schema)

"""Each service's Alembic history builds exactly the schema its models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from crm.platform.settings import async_database_url
from crm.services import SERVICES


def _base(service: str):
    import importlib

    importlib.import_module(f"{SERVICES[service].package}.app").spec()  # registers every model
    return importlib.import_module(f"{SERVICES[service].package}.models").Base


@pytest.mark.parametrize("service", list(SERVICES))
async def test_models_and_migrations_agree(settings, service):
    metadata = _base(service).metadata
    schema = metadata.schema
    engine = create_async_engine(async_database_url(settings.database_url))
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):
                context = MigrationContext.configure(
                    sync_conn,
                    opts={
                        "include_schemas": True,
                        "version_table_schema": schema,
                        "include_name": lambda name, type_, parent: (
                            name == schema if type_ == "schema" else name != "alembic_version"
                        ),
                        "compare_type": True,
                        "compare_server_default": True,
                    },
                )
                return compare_metadata(context, metadata)

            differences = await conn.run_sync(diff)
            assert differences == [], f"{service}: models differ from migrations: {differences}"
            revision = await conn.scalar(text(f'SELECT version_num FROM "{schema}".alembic_version'))
            assert revision is not None
    finally:
        await engine.dispose()


async def test_each_service_keeps_to_its_own_schema(settings):
    engine = create_async_engine(async_database_url(settings.database_url))
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT table_schema, count(*) FROM information_schema.tables "
                        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') GROUP BY 1"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    schemas = {schema for schema, _ in rows}
    assert {d.schema for d in SERVICES.values()} <= schemas
    assert "public" not in schemas, "no service creates tables outside its own schema"


async def test_the_platform_tables_a_first_migration_creates_are_dropped_by_its_helper(settings, unique):
    """``create_platform_tables`` / ``drop_platform_tables``: a new service's first migration and its
    downgrade leave the schema as it was."""
    from alembic.operations import Operations
    from sqlalchemy import inspect

    from crm.platform.migrations import create_platform_tables, drop_platform_tables

    schema = unique("mig_").lower().replace("-", "_")

    def migrate(connection):
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        with Operations.context(MigrationContext.configure(connection)):
            create_platform_tables(schema)
            created = set(inspect(connection).get_table_names(schema=schema))
            drop_platform_tables(schema)
        left = set(inspect(connection).get_table_names(schema=schema))
        connection.execute(text(f'DROP SCHEMA "{schema}"'))
        return created, left

    engine = create_async_engine(async_database_url(settings.database_url))
    try:
        async with engine.begin() as connection:
            created, left = await connection.run_sync(migrate)
    finally:
        await engine.dispose()
    assert created == {"outbox_event", "processed_event", "audit_log"}
    assert left == set()

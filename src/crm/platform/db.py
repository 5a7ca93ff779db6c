"""Database access: one async engine per service, one transaction per request / message / batch.

Services and repositories ``flush()``; only the boundary (the request dependency, the consumer,
a job's batch) commits. That is what makes the outbox true: the change and its event commit
together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, Numeric, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform import audit  # noqa: F401 - installs the audit trail's flush hooks on every Session
from crm.platform.settings import async_database_url

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2, asdecimal=True)
"""Money is NUMERIC(18,2) in the database and ``Decimal`` in Python, never float."""


def utcnow() -> datetime:
    return datetime.now(UTC)


TYPE_ANNOTATION_MAP: dict[Any, Any] = {
    datetime: DateTime(timezone=True),
    Decimal: Money,
    uuid.UUID: UUID(as_uuid=True),
}
"""Give every service's ``Base`` this map: aware datetimes, NUMERIC(18,2) money, native uuids."""


def service_metadata(schema: str) -> MetaData:
    """The metadata of one service: its own schema, stable constraint names."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=text("now()")
    )


class Database:
    """The engine and session factory of one service, built at start-up, never at import."""

    def __init__(self, url: str, *, schema: str, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.schema = schema
        self.engine: AsyncEngine = create_async_engine(
            async_database_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=True,
            connect_args={"server_settings": {"application_name": f"crm-{schema}"}},
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any exception."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    db: Database = request.app.state.db
    async with db.transaction() as session:
        session.info["request"] = request
        yield session


Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]
"""The request's unit of work; committed when the route function returns, before the answer is sent."""


def row_to_dict(obj: Any) -> dict[str, Any]:
    """Column values of an ORM object, keyed by attribute name (used for audit snapshots)."""
    from sqlalchemy import inspect as sa_inspect

    mapper = sa_inspect(obj).mapper
    return {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}

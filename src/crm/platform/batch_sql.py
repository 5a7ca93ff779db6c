"""Set-based statements for a consumer that applies a whole batch: rows in, one statement out.

A batch worked out in Python (the rules applied event after event) is written with one statement per
table: ``insert_new`` for the rows it creates, ``update_rows`` for the rows it changes (an ``UPDATE
... FROM unnest(...)`` of one array per column, typed from the table), ``lock_rows`` to take the rows
it reads in key order first (one lock order for every process: two batches never wait for each other
in a cycle).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, Text, any_, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause


class ChangedMeanwhile(RuntimeError):
    """A row the batch meant to create was created by another transaction meanwhile: the batch is
    rolled back and its events applied again one by one (the consumer's fallback), which then see it."""


def keys(values: Sequence[str]) -> Any:
    """A text[] bind parameter, for ``column = ANY(...)``."""
    return bindparam("keys", list(values), type_=ARRAY(Text))


async def lock_rows(
    session: AsyncSession, table: Table, key: str, values: Sequence[str]
) -> list[dict[str, Any]]:
    """The rows whose ``key`` is among ``values``, locked ``FOR UPDATE`` in key order."""
    column = table.c[key]
    rows = await session.execute(
        table.select().where(column == any_(keys(sorted(set(values))))).order_by(column).with_for_update()
    )
    return [dict(row._mapping) for row in rows]


def _sql_type(table: Table, column: str) -> str:
    return str(table.c[column].type.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


@cache
def _insert(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], returning: str) -> TextClause:
    """``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING ...``: one array per
    column, so the statement's text is the same for every batch (compiled once, prepared once by
    asyncpg). A multi-row ``VALUES`` is a new statement for every batch size: SQLAlchemy compiled it
    anew every time, half of a consumer's CPU per batch (bench/consumers.py --profile)."""
    arrays = ", ".join(f"CAST(:{name} AS {_sql_type(table, name)}[])" for name in columns)
    names = ", ".join(columns)
    target = f"({', '.join(conflict)}) " if conflict else ""
    return text(
        f"INSERT INTO {table.fullname} ({names}) "  # noqa: S608 - names come from the model
        f"SELECT {names} FROM unnest({arrays}) AS v({names}) "
        f"ON CONFLICT {target}DO NOTHING RETURNING {returning}"
    ).bindparams(*(bindparam(name, type_=ARRAY(table.c[name].type)) for name in columns))


async def insert_absent(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    returning: str,
    conflict: Sequence[str] = (),
) -> list[Any]:
    """Insert the rows (every row with the same columns) that do not clash with one stored (on the
    ``conflict`` columns' unique index, or any, when none are named); the ``returning`` column of
    those inserted."""
    if not rows:
        return []
    columns = tuple(rows[0])
    statement = _insert(table, columns, tuple(conflict), returning)
    values = {name: [row[name] for row in rows] for name in columns}
    return list((await session.scalars(statement, values)).all())


async def insert_new(session: AsyncSession, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows the batch creates (every row with the same columns); ``ChangedMeanwhile`` if one of
    their keys exists already."""
    stored = await insert_absent(session, table, rows, returning=key, conflict=(key,))
    if len(stored) != len(rows):
        raise ChangedMeanwhile(f"{len(rows) - len(stored)} rows of {table.name} were written meanwhile")


@cache
def _update(table: Table, key: str, columns: tuple[str, ...], constants: tuple[str, ...]) -> TextClause:
    arrays = ", ".join(f"CAST(:{name} AS {_sql_type(table, name)}[])" for name in (key, *columns))
    sets = [f"{name} = v.{name}" for name in columns] + [f"{name} = :{name}" for name in constants]
    return text(
        f"UPDATE {table.fullname} AS t SET {', '.join(sets)} "  # noqa: S608 - names come from the model
        f"FROM unnest({arrays}) AS v({', '.join((key, *columns))}) WHERE t.{key} = v.{key}"
    )


async def update_rows(
    session: AsyncSession,
    table: Table,
    key: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    **constants: Any,
) -> None:
    """Set ``columns`` of each row (found by ``key``) to the row's values, and ``constants`` on all
    of them, in one statement."""
    if not rows:
        return
    statement = _update(table, key, tuple(columns), tuple(sorted(constants)))
    values = {name: [row[name] for row in rows] for name in (key, *columns)}
    await session.execute(statement, {**values, **constants})

"""One page of a query's rows and how many rows it has, counted only when the page cannot tell."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnExpressionArgument, Select, func
from sqlalchemy.ext.asyncio import AsyncSession


async def total(
    session: AsyncSession, rows: Sequence[object], count: Select[int], *, offset: int, limit: int
) -> int:
    """How many rows a paged query has, given the page ``rows`` read at ``offset``."""
    if len(rows) < limit and (rows or offset == 0):
        return offset + len(rows)  # a short page is the last one: nothing to count
    return await session.scalar(count) or 0


async def paged(
    session: AsyncSession, query: Select[Any], *order: ColumnExpressionArgument[Any], offset: int, limit: int
) -> tuple[list[Any], int]:
    """One page of ``query``'s single entity in ``order``, and how many rows the query has."""
    rows = list(await session.scalars(query.order_by(*order).offset(offset).limit(limit)))
    count = query.with_only_columns(func.count(), maintain_column_froms=True)
    return rows, await total(session, rows, count, offset=offset, limit=limit)

"""Base of every API schema: camelCase JSON, money as decimal strings, paged lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

T = TypeVar("T")

MONEY_TEXT = re.compile(r"-?[0-9]{1,16}(?:\.[0-9]{1,2})?", re.ASCII)
"""How money is written wherever it enters: ASCII digits, at most two decimals. ``Decimal()`` alone
would take ``1e10``, ``1E+2``, ``1_000`` and digits of other scripts."""


def parse_money(value: object) -> object:
    """A money value as it arrives (a decimal string, or a whole number), or a ``ValueError`` a
    person can act on. ``Decimal`` values (read from the database) pass as they are."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        raise ValueError('send money as a decimal string such as "1250000.00", not a number')
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str) and MONEY_TEXT.fullmatch(value.strip()):
        return Decimal(value.strip())
    raise ValueError('money is digits with at most two decimals, such as "1250000.00"')


Money = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    Field(max_digits=18, decimal_places=2),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
]
"""Money in the API: a decimal string such as ``"1250000.00"`` (floats are refused on input)."""


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        extra="forbid",
        str_strip_whitespace=True,
    )


class Page(ApiModel, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int

    @classmethod
    def of(cls, rows: Iterable[Any], total: int, paging: PageParams) -> Self:
        """The page ``paging`` asked for: ``rows`` (ORM rows or models, read as items) of ``total``."""
        return cls.model_validate(
            {"items": list(rows), "page": paging.page, "page_size": paging.page_size, "total": total},
            from_attributes=True,
        )


class PageParams(BaseModel):
    page: int = 1
    page_size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


MAX_PAGE = 10_000_000


def page_params(
    # Bounded so that the offset fits PostgreSQL's bigint (a page past it reached the database as 503).
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=500, description="Rows per page")] = 50,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


Paging = Annotated[PageParams, Depends(page_params)]
"""``page`` / ``pageSize`` query parameters of a paged list."""

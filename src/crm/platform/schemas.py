"""Base of every API schema: camelCase JSON, money as decimal strings, paged lists."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar, Union, get_args, get_origin

from fastapi import Depends, Query
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel

from crm.platform.problems import declare

T = TypeVar("T")

MONEY_TEXT = re.compile(r"-?[0-9]{1,16}(?:\.[0-9]{1,2})?", re.ASCII)
"""How money is written wherever it enters: ASCII digits, at most two decimals. ``Decimal()`` alone
would take ``1e10``, ``1E+2``, ``1_000`` and digits of other scripts."""


MAX_EXACT_JSON_INTEGER = 2**53 - 1
"""The largest whole number every JSON parser reads exactly (RFC 8259, section 6)."""


MONEY_NOT_A_NUMBER = declare(
    "money.not_a_string", 'send money as a decimal string such as "1250000.00", not a number'
)
MONEY_TOO_LARGE = declare(
    "money.inexact", "a whole number this large is not exact in JSON: send it as a string"
)
MONEY_FORMAT = declare("money.format", 'money is digits with at most two decimals, such as "1250000.00"')
WRITTEN_OUT = declare("date.format", "write it as {example}")
NOT_NULL = declare("field.not_null", "may be left out but not set to null")
NOT_BOOLEAN = declare("field.not_boolean", "must be true or false")
NOT_WHOLE = declare("field.not_whole_number", "must be a whole number")


def parse_money(value: object) -> object:
    """A money value as it arrives (a decimal string, or a whole number), or a ``ValueError`` a
    person can act on. ``Decimal`` values (read from the database) pass as they are."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        raise MONEY_NOT_A_NUMBER.invalid()
    if isinstance(value, int):
        if abs(value) > MAX_EXACT_JSON_INTEGER:
            raise MONEY_TOO_LARGE.invalid()
        return Decimal(value)
    if isinstance(value, str) and MONEY_TEXT.fullmatch(value):
        return Decimal(value)
    raise MONEY_FORMAT.invalid()


DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
MOMENT_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
    r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)


def _written_as(pattern: re.Pattern[str], example: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        """Dates and times are written out: pydantic alone would read ``0`` or ``"1e9"`` as a
        timestamp (``to=0`` meaning 1 January 1970)."""
        if isinstance(value, date):
            return value
        if isinstance(value, str) and pattern.fullmatch(value.strip()):
            return value.strip()
        raise WRITTEN_OUT.invalid(example=example)

    return check


Day = Annotated[date, BeforeValidator(_written_as(DAY_TEXT, "YYYY-MM-DD, such as 2026-12-03"))]
"""A date in the API: ``YYYY-MM-DD``, never a number."""
Moment = Annotated[
    datetime,
    BeforeValidator(_written_as(MOMENT_TEXT, "ISO 8601 with a time, such as 2026-12-03T09:30:00+07:00")),
]
"""A point in time in the API: ISO 8601 with its time of day, never a number."""
AwareMoment = Annotated[AwareDatetime, BeforeValidator(_written_as(MOMENT_TEXT, "ISO 8601 with an offset"))]
"""A point in time a client sends: ISO 8601 with its offset (``Z`` or ``+07:00``)."""

MONEY_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": "^-?[0-9]{1,16}(\\.[0-9]{1,2})?$", "examples": ["1250000.00"]},
        {"type": "integer", "minimum": -MAX_EXACT_JSON_INTEGER, "maximum": MAX_EXACT_JSON_INTEGER},
    ]
}
"""What the documents say money is: the grammar ``parse_money`` takes (floats are refused)."""

Money = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    Field(max_digits=18, decimal_places=2),
    WithJsonSchema(MONEY_SCHEMA, mode="validation"),
    WithJsonSchema({"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"}, mode="serialization"),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
]
"""Money in the API: a decimal string such as ``"1250000.00"`` (floats are refused on input)."""

PositiveMoney = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    Field(gt=0, max_digits=18, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": "^[0-9]{1,16}(\\.[0-9]{1,2})?$",
                    "not": {"pattern": "^[0.]*$"},
                    "examples": ["1250000.00"],
                },
                {"type": "integer", "minimum": 1, "maximum": MAX_EXACT_JSON_INTEGER},
            ]
        },
        mode="validation",
    ),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"}, mode="serialization"),
]
"""An amount paid or promised: money above zero."""


def not_null(*fields: str) -> Any:
    """A validator for fields of a partial update that may be left out but not sent as null; the
    model's JSON schema then does not offer null for them either."""

    def refuse(cls: type[BaseModel], value: object) -> object:
        if value is None:
            raise NOT_NULL.invalid()
        return value

    refuse.refuses_null = True  # type: ignore[attr-defined]
    return field_validator(*fields, mode="before")(classmethod(refuse))  # type: ignore[arg-type]


def _document(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """What the model's validators refuse, said in its JSON schema: nulls ``not_null`` refuses and
    the rules between fields a model states in ``schema_rules``."""
    schema.update(getattr(model, "schema_rules", {}))
    refused = [
        name
        for decorator in model.__pydantic_decorators__.field_validators.values()
        if getattr(decorator.func, "refuses_null", False)
        for name in decorator.info.fields
    ]
    properties = schema.get("properties", {})
    for name in refused:
        field = model.model_fields[name]
        prop = properties.get(field.alias or name, {})
        choices = [c for c in prop.get("anyOf", []) if c != {"type": "null"}]
        if prop.get("default", "") is None:
            del prop["default"]
        if "anyOf" in prop:
            del prop["anyOf"]
            prop.update(choices[0] if len(choices) == 1 else {"anyOf": choices})


def _json_kind(annotation: Any) -> type | None:
    """``bool`` or ``int`` when a field holds one (possibly optional), else None."""
    if get_origin(annotation) is Annotated:
        return _json_kind(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        kinds = {_json_kind(a) for a in get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    return annotation if annotation in (bool, int) else None


class ApiModel(BaseModel):
    schema_rules: ClassVar[dict[str, Any]] = {}
    """JSON Schema keywords (``anyOf``, ``oneOf``) for rules between fields its validators apply."""
    _json_kinds: ClassVar[dict[str, type]] = {}

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=_document,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kinds = {name: _json_kind(f.annotation) for name, f in cls.model_fields.items()}
        cls._json_kinds = {name: kind for name, kind in kinds.items() if kind is not None}

    @field_validator("*", mode="before")
    @classmethod
    def _as_json_types(cls, value: object, info: ValidationInfo) -> object:
        """A yes/no is ``true`` or ``false`` and a count is a number, as the documents say: pydantic
        alone would take ``0`` for false and ``"5"`` for 5."""
        kind = cls._json_kinds.get(info.field_name or "")
        if kind is None or value is None:
            return value
        if kind is bool and not isinstance(value, bool):
            raise NOT_BOOLEAN.invalid()
        if kind is int and (
            isinstance(value, bool | str) or (isinstance(value, float) and not value.is_integer())
        ):
            raise NOT_WHOLE.invalid()
        return value


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


class CountedPage(Page[T], Generic[T]):
    """A page whose ``total`` may be capped: counting every match would cost more than the page."""

    total_exact: bool = True
    """False when more rows match than were counted: ``total`` is then a lower bound."""


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

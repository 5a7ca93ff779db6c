"""The stable codes of problem+json answers, each declared beside the rule that raises it.

A client acts on a problem's ``code`` (and each field error's), never on its wording: the web UI shows
its own text for the code, in the reader's language, filled with the problem's ``params``. ``text`` is
the English ``detail`` (or field ``message``) the API writes, filled with the same params, so the two
never disagree about what a placeholder means.

    OVER_CAPACITY = declare("assignment.over_capacity", "Agent {agentId} is at capacity ({max}).")
    raise Conflict.of(OVER_CAPACITY, agentId=agent.id, max=agent.max_customers)
    errors.append(OVER_CAPACITY.field("agentId", agentId=..., max=...))

Every declared code is in ``CODES`` once the services are imported; ``tests/web/test_problem_codes.py``
fails on a code the web UI has no English and Vietnamese text for. A code means one thing: declaring
it again with another text is an error at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic_core import PydanticCustomError

CODES: dict[str, ProblemCode] = {}
"""Every declared code, by code."""


def _json(value: Any) -> Any:
    """A param as JSON carries it: dates and times written out, money as a decimal string."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(v) for v in value]
    return value


@dataclass(frozen=True)
class ProblemCode:
    code: str
    text: str
    """English, with ``{param}`` placeholders (``str.format``)."""

    def detail(self, **params: Any) -> str:
        return self.text.format(**{name: _json(value) for name, value in params.items()})

    def params(self, **params: Any) -> dict[str, Any]:
        return {name: _json(value) for name, value in params.items()}

    def field(self, name: str, /, **params: Any) -> dict[str, Any]:
        """One entry of a problem's ``errors``: the field, its code, its English message and params."""
        return {
            "field": name,
            "code": self.code,
            "message": self.detail(**params),
            "params": self.params(**params),
        }

    def invalid(self, **params: Any) -> PydanticCustomError:
        """The error a schema's validator raises: a field error with this code (not ``value_error``)."""
        return PydanticCustomError(self.code, self.text, self.params(**params))


def declare(code: str, text: str) -> ProblemCode:
    """A problem code and its English text (the same code declared again must say the same)."""
    known = CODES.get(code)
    if known is not None and known.text != text:
        raise ValueError(f"problem code {code!r} is declared twice with different texts")
    CODES[code] = declared = ProblemCode(code, text)
    return declared

"""schemathesis hooks for tests/security (loaded through ``SCHEMATHESIS_HOOKS``).

``positive_data_acceptance`` counts every 422 to a request the document calls valid as a failure.
Our contract answers 422 for business rules too (a period over 366 days, an agent at capacity, a
customer bank-sync does not know), which no schema can state. This check keeps the part that catches
a lying document: a schema-valid request refused for the *shape* of a field (a type, a length, a
pattern, a missing field) — problem code ``request.invalid`` with a field error of pydantic's own
(``field.<pydantic error type>``), not a rule a model's validator states with a code of its own
(``case.nothing_to_record``, ``money.not_a_string``, ``field.not_null``).
"""

from __future__ import annotations

import json
import typing

import schemathesis
from pydantic_core.core_schema import ErrorType

SHAPE = {f"field.{kind}" for kind in typing.get_args(ErrorType)} - {"field.value_error"}
"""The field codes of pydantic's own checks (a type, a length, a pattern): a document's to state."""


@schemathesis.check
def valid_shape_accepted(ctx, response, case) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code not in (400, 422):
        return None
    try:
        problem = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} without a problem+json body") from None
    if response.status_code == 400 or problem.get("code") == "request.invalid":
        shape = [e for e in problem.get("errors") or [] if e.get("code") in SHAPE]
        if response.status_code == 400 or shape:
            raise AssertionError(
                f"A request the document calls valid was refused for its shape: {problem.get('errors')}"
            )
    return None

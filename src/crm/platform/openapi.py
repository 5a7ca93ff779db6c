"""What every route can answer besides its success, declared once so the OpenAPI documents are true.

The platform answers problems that no route writes itself: a missing or wrong token (401), a role
that may not call (403), a body or query that does not validate (422, or 400 for unparseable JSON),
a body over the size cap (413), a unique key already taken by another writer (409), the database or
the bus unreachable (503). ``problem_responses`` lists the ones a route can meet, from its access
rule, its path and its method; a route adds its own (a 404 of its lookup, a 429 of its throttle) in
``responses=`` and gets the problem+json content filled in. ``finish_document`` then registers the
``Problem`` schema the answers refer to and states, per operation, how its caller authenticates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from crm.platform.errors import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_WHY = {
    400: "the body is not parseable (malformed JSON)",
    401: "no bearer token, or one that is expired or not valid",
    403: "the caller's roles may not call this",
    404: "nothing found at this path",
    409: "in conflict with what is stored (a key another request took)",
    413: "the body is over the size limit",
    422: "a field or a business rule refused (named in `errors`)",
    429: "too many requests; try again after Retry-After seconds",
    503: "a server this service needs is unreachable; try again after Retry-After seconds",
}


class ProblemField(BaseModel):
    field: str
    message: str
    code: str = Field(description="stable identifier of what is wrong with the field")
    params: dict[str, Any] = Field(default_factory=dict, description="the values a translated message needs")


class Problem(BaseModel):
    """RFC 9457 problem details, with the stable ``code`` clients act on and its ``params``."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="stable identifier of the problem: clients act on it, never on wording")
    params: dict[str, Any] = Field(description="the values a translated message needs")
    instance: str | None = None
    errors: list[ProblemField] | None = Field(default=None, description="one entry per refused field")


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def problem_responses(
    *, authenticated: bool, needs_role: bool, path: str, methods: Iterable[str]
) -> dict[int, dict[str, Any]]:
    """The problems the platform may answer on a route, by who may call it, its path and method."""
    statuses = {422, 503}
    if authenticated:
        statuses.add(401)
    if needs_role:
        statuses.add(403)
    if "{" in path:
        statuses.add(404)
    if WRITE_METHODS.intersection(methods):
        statuses |= {400, 409, 413}
    return {status: problem_response(_WHY[status]) for status in sorted(statuses)}


def with_problems(
    declared: dict[int | str, dict[str, Any]], platform: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """The route's own ``responses`` over the platform's, each error answered as problem+json."""
    merged: dict[int, dict[str, Any]] = {**platform}
    for status, response in declared.items():
        merged[int(status)] = {**merged.get(int(status), {}), **response}
    for status, response in merged.items():
        if status >= 400 and "content" not in response and "model" not in response:
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    return merged


def finish_document(app: FastAPI, components: Iterable[type[BaseModel]] = ()) -> None:
    """Make ``app.openapi()`` register ``Problem`` (and ``components``: schemas a route names by
    ``$ref`` because it reads its own body) and say which operations need no bearer token."""
    models: list[type[BaseModel]] = [Problem, *components]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        schemes = document["components"].setdefault("securitySchemes", {})
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                _state_authentication(operation, schemes)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _state_authentication(operation: dict[str, Any], schemes: dict[str, Any]) -> None:
    """A public route needs no bearer token (an empty ``security``); a signed one names its header."""
    access: str = operation.get("x-access", "")
    header = operation.pop("x-signed-by", None)
    if header:
        schemes[header] = {"type": "apiKey", "in": "header", "name": header, "description": access}
        operation["security"] = [{header: []}]
    elif access == "public" or access.startswith("session"):
        operation["security"] = []

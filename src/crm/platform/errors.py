"""Error hierarchy raised by services, and the handlers that turn every error into RFC 9457 problem+json."""

from __future__ import annotations

import re
from typing import Any, Self

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from crm.platform.logging import get_logger
from crm.platform.problems import CODES, ProblemCode, declare

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://collection-crm.dev/problems/"
log = get_logger("crm.errors")


class DomainError(Exception):
    """Base of the errors that services raise; each maps to one HTTP status.

    ``code`` is what clients act on (the web UI translates by it), stable across rewordings of
    ``detail``; ``params`` are the values a translated message needs. Each class has a generic code;
    a rule that a client treats on its own raises with a code of its own (``contact.outside_hours``).
    """

    status = 400
    title = "Bad request"
    slug = "bad-request"
    code = "request.invalid"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        code: str | ProblemCode | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        if code is not None:
            self.code = code.code if isinstance(code, ProblemCode) else code
        self.params = params or {}

    @classmethod
    def of(cls, problem: ProblemCode, *, errors: list[dict[str, Any]] | None = None, **params: Any) -> Self:
        """The error ``problem`` describes: its code, its English text as detail, its params."""
        return cls(problem.detail(**params), code=problem, params=problem.params(**params), errors=errors)


class BadRequest(DomainError):
    pass


class Unauthorized(DomainError):
    status, title, slug, code = 401, "Unauthorized", "unauthorized", "auth.unauthorized"


class Forbidden(DomainError):
    status, title, slug, code = 403, "Forbidden", "forbidden", "auth.forbidden"


class NotFound(DomainError):
    status, title, slug, code = 404, "Not found", "not-found", "resource.not_found"


class Conflict(DomainError):
    status, title, slug, code = 409, "Conflict", "conflict", "resource.conflict"


class BusinessRuleViolation(DomainError):
    status, title, slug, code = 422, "Business rule violated", "business-rule", "rule.violated"


class TooManyRequests(DomainError):
    """Refused for now; ``Retry-After`` says in how many seconds to try again."""

    status, title, slug, code = 429, "Too many requests", "too-many-requests", "request.throttled"

    def __init__(self, detail: str, *, retry_after: int, code: str | ProblemCode | None = None) -> None:
        super().__init__(detail, code=code, params={"retryAfter": retry_after})
        self.headers = {"Retry-After": str(retry_after)}


class ServiceUnavailable(DomainError):
    status, title, slug, code = 503, "Service unavailable", "unavailable", "service.unavailable"


GENERIC_CODES = {
    400: "request.invalid",
    401: "auth.unauthorized",
    403: "auth.forbidden",
    404: "resource.not_found",
    405: "request.method_not_allowed",
    409: "resource.conflict",
    413: "request.too_large",
    422: "request.invalid",
    429: "request.throttled",
    500: "internal.error",
    503: "service.unavailable",
}
"""The code of a problem nothing more specific describes, by status."""

GENERIC = {
    "request.invalid": "The request is not valid.",
    "auth.unauthorized": "Sign in first.",
    "auth.forbidden": "Your role does not allow this.",
    "resource.not_found": "Not found.",
    "request.method_not_allowed": "This method is not allowed here.",
    "resource.conflict": "The change conflicts with the current state.",
    "request.too_large": "The request is too large.",
    "request.throttled": "Too many requests; try again in {retryAfter} s.",
    "internal.error": "Something went wrong on our side.",
    "service.unavailable": "The service is unavailable; try again shortly.",
    "rule.violated": "A business rule refused the change.",
    "body.not_json": "The body is not valid JSON.",
    "field.invalid": "Invalid value.",
    "field.missing": "Field required",
}
"""The generic codes (of the classes above, by status, of the field errors no rule names)."""
for _code, _text in GENERIC.items():
    declare(_code, _text)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
    params: dict[str, Any] | None = None,
) -> JSONResponse:
    """Build an RFC 9457 problem response, with the stable ``code`` clients act on."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code or GENERIC_CODES.get(status, "request.invalid" if status < 500 else "internal.error"),
        "params": params or {},
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = [{"code": "field.invalid", "params": {}, **error} for error in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def validation_errors(exc: RequestValidationError) -> tuple[int, str, list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    malformed = False
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            malformed = True
            errors.append(
                {"field": "body", "code": "body.not_json", "message": "The body is not valid JSON."}
            )
            continue
        message = str(err.get("msg", "Invalid value"))
        ctx = err.get("ctx") or {}
        if err.get("type") == "enum" and "expected" in ctx:
            message = f"Must be one of {ctx['expected']}."
        kind = str(err.get("type", "invalid"))
        errors.append(
            {
                "field": _field_name(err.get("loc", ())),
                # a rule of a schema raises a declared code (PydanticCustomError); pydantic's own are field.*
                "code": kind if kind in CODES else f"field.{kind}",
                "message": message,
                "params": {k: v for k, v in ctx.items() if isinstance(v, str | int | float | bool)},
            }
        )
    if malformed:
        return 400, "The request body is not valid JSON.", errors
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return 422, f"Invalid value for: {fields}.", errors


def _try_again(request: Request, detail: str) -> JSONResponse:
    """503 for a fault on our side that passes (nothing was written): the client sends it again later."""
    return problem(
        503,
        "Service unavailable",
        detail,
        slug="unavailable",
        instance=request.url.path,
        headers={"Retry-After": "5"},
    )


def _allowed_methods(request: Request) -> str:
    """Every method the path answers, as the service's document lists them. Starlette names only
    those of the first route that matched (``GET`` and ``POST /api/agents`` are two routes)."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(request.app.state, "methods_by_path", None)
    if table is None:
        paths = request.app.openapi().get("paths", {})
        templates = sorted(paths, key=lambda path: "{" in path)  # a fixed path before a parameter's
        table = [
            (
                re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"),
                {m.upper() for m in paths[path]},
            )
            for path in templates
        ]
        request.app.state.methods_by_path = table
    # the first that matches, as routing does: /api/assignments/bulk is not an {id}
    methods = next((m for pattern, m in table if pattern.match(request.url.path)), set())
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem+json answer; no stack trace or SQL reaches a client."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.slug,
            errors=exc.errors,
            instance=request.url.path,
            headers=headers or getattr(exc, "headers", None),
            code=exc.code,
            params=exc.params,
        )

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        """The caller hung up before its body arrived: nobody to answer, nothing was done."""
        log.info("client_disconnected", path=request.url.path)
        return Response(status_code=499)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, detail, errors = validation_errors(exc)
        title = "Malformed request" if status == 400 else "Validation failed"
        fields = sorted({e["field"] for e in errors})
        return problem(
            status,
            title,
            detail,
            slug="validation",
            errors=errors,
            instance=request.url.path,
            params={"fields": fields},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {
            404: "Not found",
            405: "Method not allowed",
            401: "Unauthorized",
            403: "Forbidden",
            413: "Content too large",
        }
        detail = exc.detail if isinstance(exc.detail, str) else "Request refused."
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}."
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return problem(
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            detail,
            instance=request.url.path,
            headers=headers,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        sqlstate = getattr(getattr(exc.orig, "__cause__", None), "sqlstate", None) or getattr(
            exc.orig, "sqlstate", None
        )
        if sqlstate == "23505":
            return problem(
                409,
                "Conflict",
                "A record with this key already exists.",
                slug="conflict",
                instance=request.url.path,
            )
        if sqlstate == "23503":
            return problem(
                422,
                "Business rule violated",
                "A referenced record does not exist.",
                slug="business-rule",
                instance=request.url.path,
            )
        log.error("integrity_error", path=request.url.path, sqlstate=sqlstate)
        return problem(
            422,
            "Business rule violated",
            "The change breaks a data rule.",
            slug="business-rule",
            instance=request.url.path,
        )

    @app.exception_handler(DBAPIError)
    async def _dbapi(request: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database_error", path=request.url.path, error_type=type(exc.orig).__name__)
        return _try_again(request, "The database could not complete the request; try again.")

    @app.exception_handler(ConnectionError)
    @app.exception_handler(TimeoutError)
    async def _unreachable(request: Request, exc: OSError) -> JSONResponse:
        # The database (or another server) cannot be reached at all: refused while it restarts, reset
        # when it died. Nothing was written; the client may send the same request again.
        log.warning("server_unreachable", path=request.url.path, error_type=type(exc).__name__)
        return _try_again(request, "A server this service needs cannot be reached; try again shortly.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return problem(
            500,
            "Internal error",
            "Something went wrong on our side; it has been logged.",
            slug="internal",
            instance=request.url.path,
        )

"""Pure ASGI middleware: request ids (also in the logs), a cap on request body size, no NUL in text."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def send_problem(send: Send, body: dict[str, Any]) -> None:
    """Answer a problem+json from middleware, before (outside) the app's own error handlers."""
    encoded = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": body["status"],
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(encoded)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": encoded})


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")


class BodySizeLimitMiddleware:
    """Answer 413 problem+json for bodies over ``max_bytes``, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _too_large(self, send: Send) -> None:
        body = {
            "type": "https://collection-crm.dev/problems/content-too-large",
            "title": "Content too large",
            "status": 413,
            "detail": f"The request body is larger than {self.max_bytes} bytes.",
            "code": "request.too_large",
            "params": {"maxBytes": self.max_bytes},
        }
        await send_problem(send, body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException, so the app's own handler answers it as problem+json.
                    raise HTTPException(413, f"The request body is larger than {self.max_bytes} bytes.")
            return message

        await self.app(scope, limited_receive, send)


def _nul_in_json(value: Any, path: str) -> str | None:
    """The dotted name of the first string (or key) in a JSON document that holds a NUL character."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return name
            found = _nul_in_json(item, name)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in_json(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


class NulCharacterMiddleware:
    """Refuse a NUL character anywhere a client can put text: 422 problem+json naming the field.

    PostgreSQL cannot store NUL in text; let through, it fails deep in a query and the client gets a
    503 "try again" that it would retry for ever. Decided here, once, for every route: the path, the
    query string, and JSON or form bodies (read whole, which the body size cap keeps small). The
    body is only parsed when its bytes hold a NUL or its escape, so ordinary requests pay a search.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    async def _refuse(send: Send, field: str) -> None:
        body = {
            "type": "https://collection-crm.dev/problems/validation",
            "title": "Validation failed",
            "status": 422,
            "detail": f"Invalid value for: {field}.",
            "code": "request.invalid",
            "params": {"fields": [field]},
            "errors": [
                {"field": field, "code": "text.nul", "message": "Text may not contain a NUL character."}
            ],
        }
        await send_problem(send, body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", ""):
            await self._refuse(send, "path")
            return
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if "\x00" in key or "\x00" in value:
                    await self._refuse(send, key.replace("\x00", "") or "query")
                    return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip()
        if content_type not in (b"application/json", b"application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        refused: HTTPException | None = None
        while True:
            try:
                message = await receive()
            except HTTPException as exc:  # the size cap: raised again when the app reads, to answer it
                refused = exc
                break
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        field = None
        if content_type == b"application/json" and (b"\\u0000" in body or b"\x00" in body):
            try:
                field = _nul_in_json(json.loads(body), "") if b"\x00" not in body else "body"
            except ValueError:
                field = None  # not JSON: the route's own validation says so
        elif content_type != b"application/json" and (b"%00" in body or b"\x00" in body):
            for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
                if "\x00" in key or "\x00" in value:
                    field = key.replace("\x00", "") or "body"
                    break
        if field is not None and refused is None:
            await self._refuse(send, field)
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            if refused is not None:
                raise refused
            return await receive()

        await self.app(scope, replay, send)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(rb"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL | re.IGNORECASE)


def _script_hashes(html: bytes) -> str:
    """CSP hashes of the page's own inline scripts (Swagger UI's start-up script), so that nothing
    else inline runs; data blocks (``type="application/json"``) are not scripts and need none."""
    hashes = []
    for match in _INLINE_SCRIPT.finditer(html):
        attrs = match["attrs"].lower()
        if b"src=" in attrs or b"application/json" in attrs or not match["body"].strip():
            continue
        digest = base64.b64encode(hashlib.sha256(match["body"]).digest()).decode()
        hashes.append(f" 'sha256-{digest}'")
    return "".join(dict.fromkeys(hashes))


class SecurityHeadersMiddleware:
    """The headers every answer carries: no content sniffing, no referrer, nothing cached (answers
    carry personal data; ``/static/`` files excepted), HSTS behind TLS, and for HTML a Content
    Security Policy that runs no inline script but the page's own, by hash, and no framing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope.get("headers") or [])
        tls = scope.get("scheme") == "https" or request_headers.get(b"x-forwarded-proto") == b"https"
        static = scope.get("path", "").startswith("/static/")
        start: Message | None = None
        chunks: list[bytes] = []

        def secured(message: Message, *, measured_again: bool = False) -> Message:
            headers = [
                (k, v)
                for k, v in message.get("headers", [])
                if not (measured_again and k.lower() == b"content-length")
            ]
            names = {k.lower() for k, _ in headers}
            extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
            if not static and b"cache-control" not in names:
                extra.append((b"cache-control", b"no-store"))
            if tls:
                extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
            message["headers"] = headers + [h for h in extra if h[0] not in names]
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    start = message  # held until the body is known: its scripts' hashes go in the CSP
                    return
                await send(secured(message))
                return
            if start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                held = secured(start, measured_again=True)
                policy = CONTENT_SECURITY_POLICY.format(hashes=_script_hashes(body))
                held["headers"] += [
                    (b"content-security-policy", policy.encode()),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send(held)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)

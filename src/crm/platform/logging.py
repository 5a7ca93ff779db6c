"""Structured JSON logs (structlog) with personal data masked before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import asyncpg
import structlog

PII_KEYS = frozenset(
    {
        "name",
        "fullname",
        "customername",
        "companyname",
        "phone",
        "phonenumber",
        "number",
        "nationalid",
        "email",
        "address",
        "addressline1",
        "addressline2",
        "password",
        "taxid",
        "dateofbirth",
    }
)
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_LONG_DIGITS = re.compile(r"(?<![\w.:])\+?\d[\d -]{7,}\d(?![\w.:])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _normalise(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def mask_value(value: str) -> str:
    """Keep just enough to recognise a value: the last 3 characters of a number, a name's initial."""
    if not value:
        return value
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and len(digits) >= len(value) // 2:
        return "*" * (len(digits) - 3) + digits[-3:]
    return value[0] + "***"


def mask_text(text: str) -> str:
    """Mask e-mail addresses and long digit runs (phones, national ids) inside free text."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _LONG_DIGITS.sub(_mask_digits, text)


def _mask_digits(match: re.Match[str]) -> str:
    """Phone numbers and national ids have 9+ digits; dates and small numbers are left alone."""
    found = match.group(0)
    if _ISO_DATE.search(found) or sum(c.isdigit() for c in found) < 9:
        return found
    return mask_value(found)


def mask(obj: Any, key: str | None = None) -> Any:
    """Recursively mask personal data in a log value."""
    if key is not None and _normalise(key) in PII_KEYS and obj is not None:
        if isinstance(obj, Mapping | list | tuple):
            return "***"
        return mask_value(str(obj))
    if isinstance(obj, Mapping):
        return {k: mask(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [mask(v) for v in obj]
    if isinstance(obj, str):
        return mask_text(obj)
    return obj


def _mask_processor(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (mask(v, k) if k not in ("timestamp", "level", "logger") else v) for k, v in event_dict.items()
    }


UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    asyncpg.CannotConnectNowError,  # "the database system is starting up" (or shutting down)
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)
"""A server that cannot be reached (refused while it restarts, reset when it died): a known fault."""


def is_unreachable(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an error it was raised from (SQLAlchemy wraps asyncpg's), is UNREACHABLE."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, UNREACHABLE):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _unreachable_in_one_line(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A log line about an unreachable server keeps the error, not its traceback.

    While PostgreSQL or NATS is down, every retry of every loop (ours and libraries' such as asyncpg's
    pool) would otherwise write a full traceback; the outage is one fact, logged as ``error``.
    """
    exc_info = event_dict.get("exc_info")
    if exc_info is True:
        exc_info = sys.exc_info()
    exc = (
        exc_info
        if isinstance(exc_info, BaseException)
        else (exc_info[1] if isinstance(exc_info, tuple) else None)
    )
    if is_unreachable(exc):
        event_dict.pop("exc_info")
        event_dict.setdefault("error", f"{type(exc).__name__}: {exc}")
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and the standard library's loggers through one JSON renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _unreachable_in_one_line,
        structlog.processors.format_exc_info,
        _mask_processor,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)

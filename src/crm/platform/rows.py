"""The shape of a service's outbox row and audit row, in one place.

``Outbox.add`` and the audit trail's flush hook write these through the ORM session; a hot path that
writes its change, its event and its audit row in one SQL statement (a payment notification) takes
the same dictionaries as bind parameters, so both ways store the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from crm.platform.auth import current_principal
from crm.platform.events import Event


def outbox_row(event: Event) -> dict[str, Any]:
    """An event as its service's outbox holds it until the relay publishes it."""
    return {"id": event.event_id, "subject": event.subject, "payload": event.to_json().decode()}


_AS_IS = frozenset({str, int, float, bool, type(None)})
_AS_TEXT: dict[type, Callable[[Any], str]] = {
    Decimal: str,
    uuid.UUID: str,
    datetime: datetime.isoformat,
    date: date.isoformat,
}


def jsonable(value: Any) -> Any:
    """A value as JSON can hold it: Decimal, dates, UUIDs and enums as text, containers walked.

    The exact types are looked up first: an audit row of a whole record walks every column, and a
    consumer writing a batch writes thousands of them (the ``isinstance`` chain alone was a quarter
    of bank-sync's balance consumer, bench/consumers.py --profile)."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    as_text = _AS_TEXT.get(kind)
    if as_text is not None:
        return as_text(value)
    if kind is dict:
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def audit_row(
    *,
    action: str,
    entity_type: str,
    entity_key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request: Any = None,
    public_actor: str | None = None,
) -> dict[str, Any]:
    """Who changed what: the caller of the request or message (SYSTEM for a job), the entity and the
    values before and after, as JSON text; ``request`` gives the row its request id.

    ``public_actor`` names who acts on a public route when nobody signed in (the processor that
    signed a webhook): an anonymous caller is then recorded as it, not as "anonymous"."""
    principal = current_principal()
    if principal is not None and (principal.roles or public_actor is None):
        actor, roles = principal.subject, sorted(principal.roles)
    else:
        actor, roles = public_actor or "SYSTEM", []
    return {
        "actor": actor,
        "actor_roles": roles,
        "action": action,
        "entity_type": entity_type,
        "entity_key": entity_key,
        "before": None if before is None else jsonable(before),
        "after": None if after is None else jsonable(after),
        "request_id": request.headers.get("x-request-id") if request is not None else None,
    }

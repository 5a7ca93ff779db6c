"""Storing a new payment: the one way, used by every path that creates one.

A new payment, the event its status announces and its audit row are written by one statement: the
payment's insert (``ON CONFLICT (reference_number) DO NOTHING``, so of concurrent twins exactly one
wins) feeds the outbox's and the audit trail's inserts, which therefore happen only for the winner.
The outbox and audit rows are shaped by the platform (``crm.platform.rows``), as ``Outbox.add`` and the
audit trail's flush hook shape theirs.

Two ways to run it: inside a session's transaction (``POST /api/payments``, the core's payments
folder, reconciliation imports), or alone on a plain asyncpg connection as one autocommit round trip
(the notification webhook, the hot path: one statement is one transaction, and no ORM object is built,
their instrumentation was a tenth of a request's time).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import asyncpg
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.payments.ledger.events import payment_event
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentCreate, PaymentStatus
from crm.payments.models import platform_tables
from crm.platform.outbox import Outbox
from crm.platform.rows import audit_row, jsonable, outbox_row

AWAITING_LOAN_CHECK = "Received; waiting for bank-sync to confirm the loan."

_PAYMENT: Table = Payment.__table__  # type: ignore[assignment]
# What a new payment is given; the timestamps come from the database, last_synced_at comes later.
_NEW_COLUMNS = tuple(
    c.name for c in _PAYMENT.columns if c.name not in {"created_at", "updated_at", "last_synced_at"}
)
_OUTBOX_COLUMNS = tuple(
    c.name for c in platform_tables.outbox.columns if c.name in {"id", "subject", "payload"}
)
_AUDIT_COLUMNS = (
    "actor",
    "actor_roles",
    "action",
    "entity_type",
    "entity_key",
    "before",
    "after",
    "request_id",
)
_AUDIT_CASTS = {"actor_roles": "text[]", "before": "jsonb", "after": "jsonb"}
_OUTBOX_CASTS = {"id": "uuid", "subject": "text"}


def _bind(prefix: str, column: str, casts: dict[str, str]) -> str:
    cast = casts.get(column)
    return f"CAST(:{prefix}{column} AS {cast})" if cast else f":{prefix}{column}"


# Table and column names come from the models; every value travels as a bind parameter.
_TEMPLATE = f"""WITH p AS (
        INSERT INTO {_PAYMENT.fullname} ({", ".join(_NEW_COLUMNS)}, created_at, updated_at)
        VALUES ({", ".join(f":{c}" for c in _NEW_COLUMNS)}, statement_timestamp(), statement_timestamp())
        ON CONFLICT (reference_number) DO NOTHING
        RETURNING *)
    , event AS (
        INSERT INTO {platform_tables.outbox.fullname} ({", ".join(_OUTBOX_COLUMNS)})
        SELECT {", ".join(_bind("event_", c, _OUTBOX_CASTS) for c in _OUTBOX_COLUMNS)}
        FROM p WHERE CAST(:event_subject AS text) IS NOT NULL)
    , audit AS (
        INSERT INTO {platform_tables.audit_log.fullname} ({", ".join(_AUDIT_COLUMNS)})
        SELECT {", ".join(_bind("audit_", c, _AUDIT_CASTS) for c in _AUDIT_COLUMNS)} FROM p)
    SELECT * FROM p"""  # noqa: S608
INSERT_PAYMENT = text(_TEMPLATE)
_NAMES = list(dict.fromkeys(re.findall(r"(?<![:\w]):(\w+)", _TEMPLATE)))
# The same statement with asyncpg's numbered parameters, for the autocommit path.
_NUMBERED = re.sub(r"(?<![:\w]):(\w+)", lambda m: f"${_NAMES.index(m.group(1)) + 1}", _TEMPLATE)


def new_payment(
    data: PaymentCreate, *, actor: str, awaiting_loan_check: bool = False, editable: bool
) -> dict[str, Any]:
    """The values of a new payment: PENDING with the reason while bank-sync has not confirmed its
    loan (``notifications.service.confirm_pending`` confirms it later)."""
    status = PaymentStatus.PENDING if awaiting_loan_check else data.status
    return {
        "id": uuid.uuid4(),
        "reference_number": data.reference_number,
        "loan_account_number": data.loan_account_number,
        "cif": data.cif,
        "amount": data.amount,
        "currency": data.currency,
        "payment_date": data.payment_date,
        "payment_channel": data.payment_channel.value,
        "status": status.value,
        "status_reason": AWAITING_LOAN_CHECK if awaiting_loan_check else data.status_reason,
        "source_system": data.source_system.value,
        "created_by": actor,
        "updated_by": actor,
        "is_editable": editable,
        "loan_check_pending": awaiting_loan_check,
    }


def _params(values: dict[str, Any], *, request: Any, public_actor: str | None) -> dict[str, Any]:
    event = payment_event(values)
    staged = outbox_row(event) if event is not None else dict.fromkeys(_OUTBOX_COLUMNS)
    audit = audit_row(
        action="CREATE",
        entity_type="Payment",
        entity_key=values["reference_number"],
        before=None,
        after=values,
        request=request,
        public_actor=public_actor,
    )
    audit["after"] = json.dumps(jsonable(audit["after"]))
    return {
        **{c: values[c] for c in _NEW_COLUMNS},
        **{f"event_{k}": v for k, v in staged.items()},
        **{f"audit_{k}": v for k, v in audit.items()},
    }


async def insert_payment(
    session: AsyncSession, outbox: Outbox, values: dict[str, Any], *, request: Any = None
) -> dict[str, Any] | None:
    """Insert a new payment inside the session's transaction; its row, or None when its reference
    number is already stored (nothing was written)."""
    params = _params(values, request=request, public_actor=None)
    row = (await session.execute(INSERT_PAYMENT, params)).mappings().first()
    if row is None:
        return None
    if params["event_subject"] is not None:
        outbox.wake_after_commit(session)
    return dict(row)


async def insert_payment_autocommit(
    pool: asyncpg.Pool, outbox: Outbox, values: dict[str, Any], *, request: Any, public_actor: str
) -> dict[str, Any] | None:
    """The same insert as one autocommit statement on a plain asyncpg connection (one round trip)."""
    params = _params(values, request=request, public_actor=public_actor)
    record = await pool.fetchrow(_NUMBERED, *(params[name] for name in _NAMES))
    if record is None:
        return None
    if params["event_subject"] is not None:
        outbox.wakeup.set()
    return dict(record)

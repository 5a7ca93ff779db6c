"""The audit trail: every change made through an audited ORM model is recorded in the same transaction.

A model opts in with ``__audit__ = True`` (and ``__audit_key__``, the attribute that identifies it).
The flush hook writes who (the caller of the request or message), when, what entity and key, and
the before/after values as JSON into the owning service's ``audit_log``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from crm.platform.rows import audit_row, jsonable
from crm.platform.tables import PlatformTables

__all__ = ["jsonable", "record", "record_change"]


def _snapshot(obj: Any, *, committed: bool) -> dict[str, Any]:
    state = inspect(obj)
    result: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in getattr(obj, "__audit_exclude__", ()):
            continue
        if committed:
            hist = state.attrs[attr.key].history
            if hist.deleted:
                value = hist.deleted[0]
            elif hist.unchanged:
                value = hist.unchanged[0]
            else:
                value = getattr(obj, attr.key)
        else:
            value = getattr(obj, attr.key)
        result[attr.key] = jsonable(value)
    return result


def record(
    session: Session,
    tables: PlatformTables,
    *,
    action: str,
    entity_type: str,
    entity_key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Write one audit row through the session's connection (inside its transaction)."""
    row = audit_row(
        action=action,
        entity_type=entity_type,
        entity_key=entity_key,
        before=before,
        after=after,
        request=session.info.get("request"),
    )
    session.connection().execute(insert(tables.audit_log).values(**row))


def _key(obj: Any) -> str:
    attr = getattr(obj, "__audit_key__", None)
    if attr:
        return str(getattr(obj, attr))
    return ",".join(str(v) for v in inspect(obj).identity or ())


@event.listens_for(Session, "before_flush")
def _capture_before(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    # A fresh list each flush: entries of a flush that failed must not be written by the next one.
    pending: list[tuple[str, Any, dict[str, Any] | None]] = []
    session.info["audit_pending"] = pending
    for obj in session.dirty:
        if getattr(obj, "__audit__", False) and session.is_modified(obj, include_collections=False):
            pending.append(("UPDATE", obj, _snapshot(obj, committed=True)))
    for obj in session.deleted:
        if getattr(obj, "__audit__", False):
            pending.append(("DELETE", obj, _snapshot(obj, committed=True)))
    for obj in session.new:
        if getattr(obj, "__audit__", False):
            pending.append(("CREATE", obj, None))


@event.listens_for(Session, "after_flush")
def _write_audit(session: Session, flush_context: UOWTransaction) -> None:
    pending = session.info.pop("audit_pending", [])
    for action, obj, before in pending:
        tables: PlatformTables = obj.__table__.metadata.info["platform"]
        after = None if action == "DELETE" else _snapshot(obj, committed=False)
        record(
            session,
            tables,
            action=action,
            entity_type=type(obj).__name__,
            entity_key=_key(obj),
            before=before,
            after=after,
        )


async def record_change(
    session: AsyncSession,
    tables: PlatformTables,
    *,
    action: str,
    entity_type: str,
    entity_key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Audit a change made with SQL rather than through an audited ORM object."""
    await session.run_sync(
        lambda sync: record(
            sync,
            tables,
            action=action,
            entity_type=entity_type,
            entity_key=entity_key,
            before=before,
            after=after,
        )
    )

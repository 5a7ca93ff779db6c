"""Importing the core systems' payments: each source's newest ``payments.csv``, by hand or on a schedule.

Every row goes through what ``POST /api/payments`` does: the same validation (``PaymentCreate``) and the
same idempotent store (``record_payment``), with the folder's source system. So a second run of the same
file changes nothing and reports every row unchanged; a row whose reference number is stored with other
content is a *conflict*, counted and listed, and the import goes on; a bad row is a *reject*, listed with
its line number and reason. A file that does not match its manifest is not imported at all.

Rows are stored in batches, one transaction each (a batch's events commit with it). A run stopped half
way leaves whole batches; running it again finishes the job, the stored rows counting as unchanged.
Several replicas running the schedule at once are harmless for the same reason.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from crm.payments.core_extract import (
    CORE_SOURCES,
    CoreRecord,
    ExtractError,
    RowError,
    business_dates,
    open_payments,
    to_payment,
)
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentCreate
from crm.payments.ledger.service import CONTENT_FIELDS, get_payment, record_payment
from crm.payments.models import platform_tables
from crm.payments.settings import PaymentsSettings
from crm.platform.db import Database
from crm.platform.errors import Conflict
from crm.platform.logging import get_logger
from crm.platform.outbox import Outbox

log = get_logger("crm.payments.sync")
_sleep = asyncio.sleep  # the schedule's clock, replaced in tests


@dataclass(frozen=True)
class RowIssue:
    """A row that was not stored: its line number (1 is the header), reference number and why."""

    line_number: int
    reference_number: str | None
    reason: str


@dataclass
class SourceSyncResult:
    """What one source's import did. ``state``: IMPORTED, NO_FILE (nothing delivered) or FAILED."""

    source_system: str
    business_date: date | None = None
    file: str | None = None
    state: str = "IMPORTED"
    read: int = 0
    imported: int = 0
    unchanged: int = 0
    conflicts: list[RowIssue] = field(default_factory=list)
    rejects: list[RowIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        """Counts only (for logs)."""
        return {
            "source": self.source_system,
            "business_date": self.business_date.isoformat() if self.business_date else None,
            "state": self.state,
            "read": self.read,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "conflicts": len(self.conflicts),
            "rejected": len(self.rejects),
        }

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["business_date"] = self.business_date.isoformat() if self.business_date else None
        return data


def _differences(stored: Payment, incoming: PaymentCreate) -> str:
    values = incoming.model_dump()
    parts = []
    for name in CONTENT_FIELDS:
        mine, theirs = getattr(stored, name), values[name]
        theirs = getattr(theirs, "value", theirs)
        if mine != theirs:
            parts.append(f"{name} {mine} stored, {theirs} in the file")
    return "; ".join(parts) or "content differs"


def _take(rows: Iterator[CoreRecord], size: int) -> list[CoreRecord]:
    return list(itertools.islice(rows, size))


async def _store_batch(
    db: Database,
    outbox: Outbox,
    batch: list[CoreRecord],
    result: SourceSyncResult,
    *,
    tz: ZoneInfo,
    actor: str,
) -> None:
    async with db.transaction() as session:
        for record in batch:
            result.read += 1
            reference = record.values.get("referenceNumber")
            try:
                payment = to_payment(record, result.source_system, tz)
            except RowError as exc:
                result.rejects.append(RowIssue(record.line_number, reference, str(exc)))
                continue
            try:
                async with session.begin_nested():
                    _, created = await record_payment(session, outbox, payment, actor=actor)
            except Conflict:
                stored = await get_payment(session, payment.reference_number)
                reason = "the reference number is stored with other content: " + _differences(stored, payment)
                result.conflicts.append(RowIssue(record.line_number, reference, reason))
                continue
            except DBAPIError as exc:  # this row alone is refused; its savepoint is rolled back
                reason = f"refused by the database ({type(exc.orig).__name__})"
                result.rejects.append(RowIssue(record.line_number, reference, reason))
                continue
            if created:
                result.imported += 1
            else:
                result.unchanged += 1


async def sync_source(
    db: Database,
    outbox: Outbox,
    inbox: Path,
    source: str,
    *,
    tz: ZoneInfo,
    business_date: date | None = None,
    actor: str = "payment-sync",
    batch_size: int = 500,
) -> SourceSyncResult:
    """Import one source's ``payments.csv`` of ``business_date`` (default: its newest delivery)."""
    result = SourceSyncResult(source_system=source, business_date=business_date)
    if result.business_date is None:
        delivered = await asyncio.to_thread(business_dates, inbox, source)
        result.business_date = delivered[-1] if delivered else None
    if result.business_date is None:
        result.state = "NO_FILE"
        return result
    try:
        extract = await asyncio.to_thread(open_payments, inbox, source, result.business_date)
        if extract is None:
            result.state = "NO_FILE"
            return result
        result.file = extract.name
        await asyncio.to_thread(extract.verify)  # the whole file matches its manifest, or nothing is stored
        result.warnings = list(extract.warnings)
        rows = extract.records()
        while batch := await asyncio.to_thread(_take, rows, batch_size):
            await _store_batch(db, outbox, batch, result, tz=tz, actor=actor)
    except ExtractError as exc:
        result.state, result.error = "FAILED", str(exc)
    return result


async def sync_recent_payments(
    db: Database,
    outbox: Outbox,
    inbox: Path,
    *,
    tz: ZoneInfo,
    sources: Sequence[str] | None = None,
    business_date: date | None = None,
    actor: str = "payment-sync",
    batch_size: int = 500,
) -> list[SourceSyncResult]:
    """Import the ``payments.csv`` of each source's newest extract folder (or of ``business_date``).

    One source's unusable file does not stop the others; each result says what happened."""
    results = []
    for source in sources or CORE_SOURCES:
        result = await sync_source(
            db, outbox, inbox, source, tz=tz, business_date=business_date, actor=actor, batch_size=batch_size
        )
        if result.state == "FAILED":
            log.warning("payment_sync_failed", source=source, error=result.error)
        elif result.state == "IMPORTED":
            log.info("payment_sync", **result.summary())
        results.append(result)
    return results


async def run_payment_sync_schedule(app: FastAPI) -> None:
    """Import every source's newest payments at each time of ``CRM_PAYMENT_SYNC_SCHEDULE`` (business tz)."""
    settings: PaymentsSettings = app.state.settings
    if not settings.payment_sync_schedule:
        return
    schedule = croniter(settings.payment_sync_schedule, datetime.now(settings.tz))
    while True:
        due: datetime = schedule.get_next(datetime)
        await _sleep(max(0.0, (due - datetime.now(settings.tz)).total_seconds()))
        try:
            await sync_recent_payments(
                app.state.db, app.state.outbox, settings.inbox, tz=settings.tz, actor="SCHEDULE"
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled_payment_sync_failed")


async def sync_from_cli(
    settings: PaymentsSettings, source: str | None, business_date: date | None
) -> list[SourceSyncResult]:
    """``crm payments sync``: the same import, in this process (its events wait in the outbox)."""
    assert settings.database_url
    db = Database(settings.database_url, schema="payments", pool_size=2, max_overflow=2)
    try:
        return await sync_recent_payments(
            db,
            Outbox(platform_tables.outbox),
            settings.inbox,
            tz=settings.tz,
            sources=[source] if source else None,
            business_date=business_date,
            actor="crm payments sync",
        )
    finally:
        await db.dispose()

"""Reconciling a business date: the core systems' payments of that date against the CRM's.

**The two sides.** The core's side is every source's ``payments.csv`` in the extract folder of the date
(``<inbox>/<SOURCE>/<date>/``), each checked against its manifest; a file that fails the check stops the
reconciliation (422) before anything is written. Its rows dated on the business date (business time
zone) are the core's payments of the date; bad rows are listed as ``rejects`` and compared with nothing.
The CRM's side is every payment of the ``payment`` table dated on the business date, *whatever its
source system*: payments recorded by hand or by a processor's notification (``sourceSystem`` CRM) are
compared too, since a payment the CRM believes in and the bank's books lack is what a reconciliation is
for. The two are matched by reference number: a core row of the date is looked for among all CRM
payments, and a CRM payment of the date among all rows of the date's files (so a payment that the two
sides date either side of midnight is compared, not reported missing twice). A source that did not
deliver ``payments.csv`` for the date is not in ``sources``; its payments then show as MISSING_IN_CORE,
and running the reconciliation again once the file has arrived replaces the report.

**Discrepancies.** MISSING_IN_CRM (imported through ``record_payment``, as ``POST /api/payments`` would,
so its event is staged: resolution IMPORTED), MISSING_IN_CORE, AMOUNT_MISMATCH (amount or currency) and
STATUS_MISMATCH (resolution FLAGGED, for review). A pair that differs in both amount and status has one
entry of each kind.

**Running it again.** The report of a date describes the two sides as they stood *before any
reconciliation of that date imported anything*. A payment imported by an earlier run is listed again as
MISSING_IN_CRM with resolution IMPORTED (its CRM side empty, as found then), not counted as matched, as
long as the CRM's payment still agrees with the core's row. Every entry found again keeps the
``resolvedAt`` of the run that first reported it. So a re-run on unchanged inputs gives the same report
(same counts, entries, sides, resolutions and times); only ``runs`` and ``lastRunAt`` move, and nothing
is imported twice. Each run replaces the stored report of the date in the run's one transaction, under a
lock on the date, so two runs of one date never interleave.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.payments.core_extract import COLUMNS, CORE_SOURCES, ExtractError, RowError, open_payments, to_payment
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentCreate
from crm.payments.ledger.service import record_payment
from crm.payments.models import platform_tables
from crm.payments.reconciliation.models import ReconciliationDiscrepancy, ReconciliationReport
from crm.payments.reconciliation.schemas import (
    DiscrepancyCounts,
    DiscrepancyKind,
    DiscrepancyRead,
    PaymentSide,
    ReconciliationReportRead,
    RejectedRow,
    Resolution,
)
from crm.payments.settings import PaymentsSettings
from crm.platform.business_time import day_bounds
from crm.platform.db import Database, utcnow
from crm.platform.errors import BusinessRuleViolation, Conflict, NotFound
from crm.platform.logging import get_logger
from crm.platform.outbox import Outbox
from crm.platform.problems import declare

CORE_UNUSABLE = declare(
    "reconciliation.core_unusable", "The core's payments of {day} cannot be used: {error}"
)
NO_CORE_FILE = declare(
    "reconciliation.no_core_file",
    "No core system delivered payments.csv for {day} (looked in {inbox}/<SOURCE>/{day}/).",
)
NO_REPORT = declare("reconciliation.not_found", "No reconciliation report for {day}.")

log = get_logger("crm.payments.reconciliation")
KIND_ORDER = list(DiscrepancyKind)
_LOOKUP_CHUNK = 5000
_SIDE_FIELDS = ("sourceSystem", *(name for name in COLUMNS if name != "referenceNumber"))
"""A side's columns in the CSV report: its source system, then payments.csv's columns but the reference
number (the entry's own column)."""


@dataclass(frozen=True)
class CoreRow:
    source_system: str
    line_number: int
    payment: PaymentCreate


@dataclass
class CoreView:
    """The core's payments as read from the date's files."""

    sources: list[str] = field(default_factory=list)
    on_date: dict[str, CoreRow] = field(default_factory=dict)
    other_dates: dict[str, CoreRow] = field(default_factory=dict)
    rejects: list[RejectedRow] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)
    """Reference numbers of rejected rows: a CRM payment with one is not reported missing in the core."""


@dataclass
class _Entry:
    kind: DiscrepancyKind
    reference_number: str
    resolution: Resolution
    note: str
    core: PaymentSide | None
    crm: PaymentSide | None
    resolved_at: datetime | None = None
    to_import: CoreRow | None = None


def read_core(inbox: Path, day: date, tz: ZoneInfo) -> CoreView:
    """Every source's ``payments.csv`` of the date, validated row by row (blocking: run it in a thread)."""
    start, end = day_bounds(day, tz)
    view = CoreView()
    for source in CORE_SOURCES:
        extract = open_payments(inbox, source, day)
        if extract is None:
            continue
        view.sources.append(source)
        for record in extract.records():  # the manifest is checked after the last row, before any use
            reference = record.values.get("referenceNumber")
            try:
                payment = to_payment(record, source, tz)
            except RowError as exc:
                view.rejects.append(
                    RejectedRow(
                        source_system=source,
                        line_number=record.line_number,
                        reference_number=reference,
                        reason=str(exc),
                    )
                )
                if reference:
                    view.unreadable.add(reference)
                continue
            ref = payment.reference_number
            first = view.on_date.get(ref) or view.other_dates.get(ref)
            if first is not None:
                reason = (
                    f"duplicate referenceNumber: also on line {first.line_number} of {first.source_system}"
                )
                view.rejects.append(
                    RejectedRow(
                        source_system=source,
                        line_number=record.line_number,
                        reference_number=ref,
                        reason=reason,
                    )
                )
                continue
            target = view.on_date if start <= payment.payment_date < end else view.other_dates
            target[ref] = CoreRow(source, record.line_number, payment)
    return view


def _core_side(row: CoreRow, tz: ZoneInfo) -> PaymentSide:
    p = row.payment
    return PaymentSide(
        source_system=p.source_system,
        reference_number=p.reference_number,
        loan_account_number=p.loan_account_number,
        cif=p.cif,
        amount=p.amount,
        currency=p.currency,
        payment_date=p.payment_date.astimezone(tz),
        payment_channel=p.payment_channel,
        status=p.status,
        status_reason=p.status_reason,
        line_number=row.line_number,
    )


def _crm_side(p: Payment, tz: ZoneInfo) -> PaymentSide:
    return PaymentSide.model_validate(
        {
            "source_system": p.source_system,
            "reference_number": p.reference_number,
            "loan_account_number": p.loan_account_number,
            "cif": p.cif,
            "amount": p.amount,
            "currency": p.currency,
            "payment_date": p.payment_date.astimezone(tz),
            "payment_channel": p.payment_channel,
            "status": p.status,
            "status_reason": p.status_reason,
        }
    )


def _compare(core: PaymentSide, crm: PaymentSide) -> list[_Entry]:
    """The mismatches of one pair (none when they agree)."""
    found = []
    if core.amount != crm.amount or core.currency != crm.currency:
        note = (
            f"amount {core.amount:.2f} {core.currency} in the core, "
            f"{crm.amount:.2f} {crm.currency} in the CRM"
        )
        found.append(
            _Entry(
                DiscrepancyKind.AMOUNT_MISMATCH, core.reference_number, Resolution.FLAGGED, note, core, crm
            )
        )
    if core.status != crm.status:
        note = f"status {core.status.value} in the core, {crm.status.value} in the CRM"
        found.append(
            _Entry(
                DiscrepancyKind.STATUS_MISMATCH, core.reference_number, Resolution.FLAGGED, note, core, crm
            )
        )
    return found


async def _crm_payments(session: AsyncSession, day: date, tz: ZoneInfo) -> dict[str, Payment]:
    start, end = day_bounds(day, tz)
    rows = await session.scalars(
        select(Payment).where(Payment.payment_date >= start, Payment.payment_date < end)
    )
    return {p.reference_number: p for p in rows}


async def _payments_by_reference(session: AsyncSession, references: Iterable[str]) -> dict[str, Payment]:
    wanted = sorted(references)
    found: dict[str, Payment] = {}
    for i in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[i : i + _LOOKUP_CHUNK]
        rows = await session.scalars(select(Payment).where(Payment.reference_number.in_(chunk)))
        found.update((p.reference_number, p) for p in rows)
    return found


def _discrepancies(
    core: CoreView,
    crm_of_day: dict[str, Payment],
    crm_elsewhere: dict[str, Payment],
    imported_before: set[str],
    tz: ZoneInfo,
) -> tuple[list[_Entry], int, set[str]]:
    """What differs between the sides, how many pairs agree, and the earlier runs' imports found again."""
    entries: list[_Entry] = []
    matched = 0
    carried: set[str] = set()
    for ref, row in core.on_date.items():
        core_side = _core_side(row, tz)
        stored = crm_of_day.get(ref) or crm_elsewhere.get(ref)
        missing_note = (
            f"not in the CRM; imported from {row.source_system} payments.csv line {row.line_number}"
        )
        if stored is None:
            entries.append(
                _Entry(
                    DiscrepancyKind.MISSING_IN_CRM,
                    ref,
                    Resolution.IMPORTED,
                    missing_note,
                    core_side,
                    None,
                    to_import=row,
                )
            )
            continue
        mismatches = _compare(core_side, _crm_side(stored, tz))
        if ref in imported_before and not mismatches:
            carried.add(ref)
            entries.append(
                _Entry(
                    DiscrepancyKind.MISSING_IN_CRM, ref, Resolution.IMPORTED, missing_note, core_side, None
                )
            )
        elif mismatches:
            entries.extend(mismatches)
        else:
            matched += 1
    compared = ", ".join(core.sources)
    for ref, stored in crm_of_day.items():
        if ref in core.on_date or ref in core.unreadable:
            continue
        crm_side = _crm_side(stored, tz)
        elsewhere = core.other_dates.get(ref)
        if elsewhere is not None:
            mismatches = _compare(_core_side(elsewhere, tz), crm_side)
            entries.extend(mismatches)
            if not mismatches:
                matched += 1
            continue
        note = f"sourceSystem {stored.source_system}; not in the core's payments of the date ({compared})"
        entries.append(_Entry(DiscrepancyKind.MISSING_IN_CORE, ref, Resolution.FLAGGED, note, None, crm_side))
    entries.sort(key=lambda e: (KIND_ORDER.index(e.kind), e.reference_number))
    return entries, matched, carried


async def _import(session: AsyncSession, outbox: Outbox, entry: _Entry, actor: str) -> None:
    assert entry.to_import is not None
    try:
        async with session.begin_nested():
            await record_payment(session, outbox, entry.to_import.payment, actor=actor)
    except Conflict:  # recorded meanwhile (after this run looked) with other content
        entry.resolution = Resolution.FLAGGED
        entry.note += "; not imported: the reference number was stored meanwhile with other content"


def _read(report: ReconciliationReport, rows: list[ReconciliationDiscrepancy]) -> ReconciliationReportRead:
    return ReconciliationReportRead(
        business_date=report.business_date,
        sources=list(report.sources),
        core_rows=report.core_rows,
        crm_rows=report.crm_rows,
        matched=report.matched,
        counts=DiscrepancyCounts(
            missing_in_crm=report.missing_in_crm,
            missing_in_core=report.missing_in_core,
            amount_mismatch=report.amount_mismatch,
            status_mismatch=report.status_mismatch,
        ),
        rejected=report.rejected,
        rejects=[RejectedRow.model_validate(r) for r in report.rejects],
        discrepancies=[
            DiscrepancyRead(
                kind=DiscrepancyKind(d.kind),
                reference_number=d.reference_number,
                resolution=Resolution(d.resolution),
                resolved_at=d.resolved_at,
                note=d.note,
                core=PaymentSide.model_validate(d.core) if d.core is not None else None,
                crm=PaymentSide.model_validate(d.crm) if d.crm is not None else None,
            )
            for d in rows
        ],
        runs=report.runs,
        run_by=report.run_by,
        first_run_at=report.created_at,
        last_run_at=report.updated_at,
    )


async def _stored(
    session: AsyncSession, day: date
) -> tuple[ReconciliationReport, list[ReconciliationDiscrepancy]] | None:
    report = await session.scalar(
        select(ReconciliationReport).where(ReconciliationReport.business_date == day)
    )
    if report is None:
        return None
    rows = await session.scalars(
        select(ReconciliationDiscrepancy)
        .where(ReconciliationDiscrepancy.report_id == report.id)
        .order_by(ReconciliationDiscrepancy.position)
    )
    return report, list(rows)


async def reconcile(
    session: AsyncSession, outbox: Outbox, inbox: Path, day: date, *, tz: ZoneInfo, actor: str
) -> ReconciliationReportRead:
    """Reconcile a business date, import what the CRM lacks, and store the report (replacing the date's)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('crm.payments.reconciliation'), :day)"),
        {"day": day.toordinal()},
    )
    try:
        core = await asyncio.to_thread(read_core, inbox, day, tz)
    except ExtractError as exc:
        raise BusinessRuleViolation.of(CORE_UNUSABLE, day=day, error=str(exc)) from exc
    if not core.sources:
        raise BusinessRuleViolation.of(NO_CORE_FILE, day=day, inbox=str(inbox))
    crm_of_day = await _crm_payments(session, day, tz)
    crm_elsewhere = await _payments_by_reference(
        session, (ref for ref in core.on_date if ref not in crm_of_day)
    )
    previous = await _stored(session, day)
    before: dict[tuple[str, str, str], datetime] = {}
    if previous is not None:
        before = {(d.kind, d.reference_number, d.resolution): d.resolved_at for d in previous[1]}
    imported_before = {ref for kind, ref, res in before if kind == "MISSING_IN_CRM" and res == "IMPORTED"}

    entries, matched, carried = _discrepancies(core, crm_of_day, crm_elsewhere, imported_before, tz)
    for entry in entries:
        if entry.to_import is not None:
            await _import(session, outbox, entry, actor)
    now = utcnow()
    for entry in entries:
        entry.resolved_at = before.get(
            (entry.kind.value, entry.reference_number, entry.resolution.value), now
        )

    counts = {kind: sum(1 for e in entries if e.kind is kind) for kind in DiscrepancyKind}
    values: dict[str, Any] = {
        "sources": core.sources,
        "core_rows": len(core.on_date),
        "crm_rows": sum(1 for ref in crm_of_day if ref not in carried),  # as found before any import
        "matched": matched,
        "missing_in_crm": counts[DiscrepancyKind.MISSING_IN_CRM],
        "missing_in_core": counts[DiscrepancyKind.MISSING_IN_CORE],
        "amount_mismatch": counts[DiscrepancyKind.AMOUNT_MISMATCH],
        "status_mismatch": counts[DiscrepancyKind.STATUS_MISMATCH],
        "rejected": len(core.rejects),
        "rejects": [r.model_dump(mode="json", by_alias=True) for r in core.rejects],
        "run_by": actor,
    }
    if previous is None:
        report = ReconciliationReport(business_date=day, runs=1, **values)
        session.add(report)
    else:
        report = previous[0]
        for name, value in values.items():
            setattr(report, name, value)
        report.runs += 1
        await session.execute(
            delete(ReconciliationDiscrepancy).where(ReconciliationDiscrepancy.report_id == report.id)
        )
    await session.flush()
    rows = [
        ReconciliationDiscrepancy(
            report_id=report.id,
            position=position,
            kind=entry.kind.value,
            reference_number=entry.reference_number,
            core=entry.core.model_dump(mode="json", by_alias=True) if entry.core else None,
            crm=entry.crm.model_dump(mode="json", by_alias=True) if entry.crm else None,
            resolution=entry.resolution.value,
            resolved_at=entry.resolved_at,
            note=entry.note,
        )
        for position, entry in enumerate(entries, start=1)
    ]
    session.add_all(rows)
    await session.flush()
    await session.refresh(report)
    log.info(
        "reconciliation",
        business_date=day.isoformat(),
        matched=matched,
        runs=report.runs,
        **{k.value.lower(): n for k, n in counts.items()},
    )
    return _read(report, rows)


async def get_report(session: AsyncSession, day: date) -> ReconciliationReportRead:
    """The stored report of a business date."""
    stored = await _stored(session, day)
    if stored is None:
        raise NotFound.of(NO_REPORT, day=day)
    return _read(*stored)


CSV_HEADER = [
    "kind",
    "referenceNumber",
    "resolution",
    "resolvedAt",
    "note",
    "coreLineNumber",
    *(f"core{name[0].upper()}{name[1:]}" for name in _SIDE_FIELDS),
    *(f"crm{name[0].upper()}{name[1:]}" for name in _SIDE_FIELDS),
]


def _cells(side: PaymentSide | None) -> list[str]:
    if side is None:
        return [""] * len(_SIDE_FIELDS)
    data = side.model_dump(mode="json", by_alias=True)
    return ["" if data.get(name) is None else str(data[name]) for name in _SIDE_FIELDS]


def report_csv(report: ReconciliationReportRead) -> str:
    """One line per discrepancy, after a header row; money as decimal strings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for d in report.discrepancies:
        line = d.core.line_number if d.core and d.core.line_number is not None else ""
        writer.writerow(
            [
                d.kind.value,
                d.reference_number,
                d.resolution.value,
                d.resolved_at.isoformat(),
                d.note,
                line,
                *_cells(d.core),
                *_cells(d.crm),
            ]
        )
    return out.getvalue()


async def reconcile_from_cli(settings: PaymentsSettings, day: date) -> ReconciliationReportRead:
    """``crm payments reconcile``: the same run as ``POST /api/payments/reconciliation``, in this process."""
    assert settings.database_url
    db = Database(settings.database_url, schema="payments", pool_size=2, max_overflow=2)
    try:
        async with db.transaction() as session:
            return await reconcile(
                session,
                Outbox(platform_tables.outbox),
                settings.inbox,
                day,
                tz=settings.tz,
                actor="crm payments reconcile",
            )
    finally:
        await db.dispose()

"""Importing the core's payments.csv: new rows stored once, bad rows and conflicts reported, not fatal."""

from __future__ import annotations

import asyncio
import csv
import gzip
import hashlib
import io
import json
import random
import types
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from crm.payments import sync as payment_sync
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentCreate
from crm.payments.ledger.service import record_payment
from crm.payments.settings import PaymentsSettings
from crm.payments.sync import sync_recent_payments
from crm.platform.settings import PlatformSettings

HEADER = [
    "referenceNumber",
    "loanAccountNumber",
    "cif",
    "amount",
    "currency",
    "paymentDate",
    "paymentChannel",
    "status",
    "statusReason",
]


def row(
    ref: str, amount: str = "1250000.00", when: str = "2026-11-28T09:30:00+07:00", **kw: str
) -> list[str]:
    values = {
        "referenceNumber": ref,
        "loanAccountNumber": kw.pop("loan", "LN0001"),
        "cif": "CIF0001",
        "amount": amount,
        "currency": "VND",
        "paymentDate": when,
        "paymentChannel": "BANK_TRANSFER",
        "status": "COMPLETED",
        "statusReason": "",
        **kw,
    }
    return [values[h] for h in HEADER]


def write_payments(
    inbox: Path,
    source: str,
    day: date,
    rows: list[list[str]],
    *,
    header: list[str] = HEADER,
    gz: bool = False,
    manifest_rows: int | None = None,
    sha256: str | None = None,
) -> Path:
    """A delivery folder with payments.csv (or .csv.gz) and the manifest promising it (docs/extracts.md)."""
    folder = inbox / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows([header, *rows])
    data = text.getvalue().encode()
    name = "payments.csv.gz" if gz else "payments.csv"
    if gz:
        data = gzip.compress(data, mtime=0)
    (folder / name).write_bytes(data)
    manifest = {
        "sourceSystem": source,
        "businessDate": day.isoformat(),
        "files": {
            name: {
                "rows": len(rows) if manifest_rows is None else manifest_rows,
                "sha256": sha256 or hashlib.sha256(data).hexdigest(),
            }
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


async def _stored(db, *refs: str) -> dict[str, Payment]:
    async with db.transaction() as session:
        rows = await session.scalars(select(Payment).where(Payment.reference_number.in_(refs)))
        return {p.reference_number: p for p in rows}


async def _sync(payments, inbox: Path, **kw):
    state = payments.app.state
    return {
        r.source_system: r
        for r in await sync_recent_payments(state.db, state.outbox, inbox, tz=state.settings.tz, **kw)
    }


async def test_imports_the_newest_delivery_once(payments, tmp_path, unique):
    old, new, card = unique("OLD"), [unique("T"), unique("T"), unique("T")], [unique("W"), unique("W")]
    write_payments(tmp_path, "T24", date(2026, 11, 27), [row(old)])
    write_payments(
        tmp_path, "T24", date(2026, 11, 28), [row(r, amount=f"{i + 1}00000.50") for i, r in enumerate(new)]
    )
    write_payments(
        tmp_path,
        "W4",
        date(2026, 11, 28),
        [row(card[0], when="2026-11-28T10:00:00"), row(card[1], status="FAILED", statusReason="NSF")],
        gz=True,
    )

    first = await _sync(payments, tmp_path)
    assert first["OTHER"].state == "NO_FILE"
    t24, w4 = first["T24"], first["W4"]
    assert (t24.state, t24.business_date, t24.read, t24.imported, t24.unchanged) == (
        "IMPORTED",
        date(2026, 11, 28),
        3,
        3,
        0,
    )
    assert (w4.read, w4.imported, w4.conflicts, w4.rejects) == (2, 2, [], [])

    stored = await _stored(payments.app.state.db, old, *new, *card)
    assert old not in stored, "only the newest delivery of a source is imported"
    assert stored[new[1]].amount == Decimal("200000.50") and stored[new[1]].source_system == "T24"
    assert stored[card[0]].source_system == "W4" and stored[card[0]].payment_date.utcoffset() == timedelta(0)
    assert stored[card[0]].payment_date.isoformat() == "2026-11-28T03:00:00+00:00", "no offset = business tz"
    assert stored[card[1]].status == "FAILED" and stored[card[1]].status_reason == "NSF"
    assert not stored[new[0]].is_editable

    again = await _sync(payments, tmp_path)
    assert (again["T24"].read, again["T24"].imported, again["T24"].unchanged) == (3, 0, 3)
    assert (again["W4"].imported, again["W4"].unchanged) == (0, 2)


async def test_bad_rows_are_reported_with_their_line_numbers(payments, tmp_path, unique):
    good, bad = unique("G"), [unique("B") for _ in range(5)]
    rows = [
        row(good),  # line 2
        row(bad[0], amount="1,250,000"),  # line 3
        row(bad[1], paymentChannel="ATM"),  # line 4
        row("", amount="10.00"),  # line 5
        row(bad[2], amount="0"),  # line 6
        row(bad[3], when="28/11/2026"),  # line 7
        [bad[4], "LN1"],  # line 8: too few fields
    ]
    write_payments(tmp_path, "T24", date(2026, 11, 28), rows)
    result = (await _sync(payments, tmp_path, sources=["T24"]))["T24"]
    assert (result.state, result.read, result.imported) == ("IMPORTED", 7, 1)
    reasons = {r.line_number: r.reason for r in result.rejects}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert reasons[3].startswith("amount:")
    assert reasons[4].startswith("paymentChannel: must be one of") and "BANK_TRANSFER" in reasons[4]
    assert reasons[5].startswith("referenceNumber: Field required")
    assert reasons[6] == "amount: Input should be greater than 0"
    assert reasons[7].startswith("paymentDate:")
    assert reasons[8] == "2 fields, but the header has 9"
    assert [r.reference_number for r in result.rejects][:2] == bad[:2]
    assert set(await _stored(payments.app.state.db, good, *bad)) == {good}, "nothing of a bad row is written"


async def test_unknown_columns_are_ignored_with_a_warning(payments, tmp_path, unique):
    ref = unique("U")
    write_payments(
        tmp_path,
        "OTHER",
        date(2026, 11, 28),
        [[*row(ref), "HN01", "T24"]],
        header=[*HEADER, "branchCode", "sourceSystem"],
    )
    result = (await _sync(payments, tmp_path, sources=["OTHER"]))["OTHER"]
    assert result.imported == 1 and len(result.warnings) == 2 and "branchCode" in result.warnings[0]
    assert (await _stored(payments.app.state.db, ref))[ref].source_system == "OTHER", "the folder decides"


async def test_a_conflicting_row_is_reported_and_the_import_goes_on(payments, tmp_path, unique):
    clash, fine = unique("C"), unique("F")
    state = payments.app.state
    async with state.db.transaction() as session:
        await record_payment(
            session,
            state.outbox,
            PaymentCreate.model_validate(
                {**dict(zip(HEADER, row(clash), strict=True)), "statusReason": None}
            ),
            actor="test",
        )
    write_payments(tmp_path, "T24", date(2026, 11, 28), [row(clash, amount="999.00"), row(fine)])
    result = (await _sync(payments, tmp_path, sources=["T24"]))["T24"]
    assert (result.state, result.imported, result.unchanged, len(result.conflicts)) == ("IMPORTED", 1, 0, 1)
    conflict = result.conflicts[0]
    assert (conflict.line_number, conflict.reference_number) == (2, clash)
    assert "amount 1250000.00 stored, 999.00 in the file" in conflict.reason
    assert "source_system CRM stored, T24 in the file" in conflict.reason
    stored = await _stored(state.db, clash, fine)
    assert stored[clash].amount == Decimal("1250000.00") and fine in stored


@pytest.mark.parametrize("problem", ["rows", "sha256"])
async def test_a_file_that_disagrees_with_its_manifest_is_not_imported(payments, tmp_path, unique, problem):
    refs = [unique("M"), unique("M")]
    write_payments(
        tmp_path,
        "T24",
        date(2026, 11, 28),
        [row(r) for r in refs],
        manifest_rows=3 if problem == "rows" else None,
        sha256="0" * 64 if problem == "sha256" else None,
    )
    result = (await _sync(payments, tmp_path, sources=["T24"]))["T24"]
    assert result.state == "FAILED" and result.read == 0 and "manifest" in (result.error or "")
    assert await _stored(payments.app.state.db, *refs) == {}


async def test_the_schedule_imports_at_its_times(payments, tmp_path, unique, monkeypatch):
    ref = unique("S")
    write_payments(tmp_path, "W4", date(2026, 11, 28), [row(ref)])
    settings = PaymentsSettings(
        **{
            **payments.app.state.settings.model_dump(),
            "inbox_dir": tmp_path,
            "payment_sync_schedule": "*/5 * * * *",
        }
    )
    app = types.SimpleNamespace(
        state=types.SimpleNamespace(
            settings=settings, db=payments.app.state.db, outbox=payments.app.state.outbox
        )
    )
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) > 1:
            raise asyncio.CancelledError

    monkeypatch.setattr(payment_sync, "_sleep", fake_sleep)
    with pytest.raises(asyncio.CancelledError):
        await payment_sync.run_payment_sync_schedule(app)  # type: ignore[arg-type]
    assert 0 <= waits[0] <= 300, "sleeps until the next */5 minute"
    assert ref in await _stored(payments.app.state.db, ref)


def test_schedule_setting_is_checked():
    assert PaymentsSettings(payment_sync_schedule="").payment_sync_schedule is None
    with pytest.raises(ValueError, match="cron"):
        PaymentsSettings(payment_sync_schedule="every morning")


def test_cli_sync_then_reconcile(settings: PlatformSettings, tmp_path, monkeypatch):
    from crm.cli import app

    day = date(2001, 1, 1) + timedelta(days=random.randrange(7000))
    refs = [f"CLI{random.randrange(10**12):012d}" for _ in range(2)]
    when = f"{day.isoformat()}T08:00:00+07:00"
    write_payments(tmp_path, "T24", day, [row(refs[0], when=when), row(refs[1], when=when), ["bad"]])
    for name, value in {
        "DATABASE_URL": settings.database_url,
        "NATS_URL": settings.nats_url,
        "CRM_DATA_DIR": str(settings.data_dir),
        "CRM_INBOX_DIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, str(value))
    runner = CliRunner()
    synced = runner.invoke(app, ["payments", "sync", "--source", "T24"])
    assert synced.exit_code == 0, synced.output
    assert f"T24 {day}: read 3, imported 2, unchanged 0, conflicts 0, rejected 1" in synced.output
    assert "rejected line 4 (-): 1 fields, but the header has 9" in synced.output
    report = runner.invoke(app, ["payments", "reconcile", "--date", day.isoformat()])
    assert report.exit_code == 0, report.output
    assert "2 core payments, 2 CRM payments, 2 matched, 1 core rows rejected" in report.output
    none = runner.invoke(app, ["payments", "reconcile", "--date", (day + timedelta(days=1)).isoformat()])
    assert none.exit_code == 1 and "No core system delivered payments.csv" in none.output
    bad = runner.invoke(app, ["payments", "sync", "--date", "28/11/2026"])
    assert bad.exit_code == 2

"""Reconciling a business date: each planted discrepancy found, the missing imported, re-runs stable."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date

import httpx
import pytest
from sqlalchemy import text

from crm.payments.app import spec
from crm.payments.ledger.schemas import PaymentCreate
from crm.payments.ledger.service import record_payment
from crm.payments.reconciliation.service import CSV_HEADER
from crm.payments.settings import PaymentsSettings
from crm.platform.auth import Role
from crm.platform.service import create_service_app
from tests.payments.test_payment_sync import row, write_payments

DAY = date(2026, 11, 28)


@pytest.fixture
async def api(settings, isolated_database, tmp_path):
    """payments on a database of its own (a date's CRM payments are this test's only), inbox in tmp_path."""
    local = PaymentsSettings(**settings.model_dump(), inbox_dir=tmp_path)
    local.database_url = await isolated_database("payments")
    app = create_service_app(
        dataclasses.replace(spec(), consumers=(), on_startup=(), on_shutdown=(), background=()),
        local,
        standalone=False,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def crm_payment(api, ref: str, *, amount="1000.00", when="2026-11-28T09:00:00+07:00", **kw) -> None:
    body = {
        "referenceNumber": ref,
        "loanAccountNumber": "LN0001",
        "cif": "CIF0001",
        "amount": amount,
        "paymentDate": when,
        "paymentChannel": "BANK_TRANSFER",
        **kw,
    }
    state = api.app.state
    async with state.db.transaction() as session:
        await record_payment(session, state.outbox, PaymentCreate.model_validate(body), actor="test")


async def events_of(api, ref: str) -> list[str]:
    async with api.app.state.db.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT subject FROM payments.outbox_event "
                "WHERE payload::jsonb->>'paymentReferenceNumber' = :ref"
            ),
            {"ref": ref},
        )
        return [r[0] for r in rows]


async def plant(api, inbox) -> None:
    """CRM and core payments of DAY with one discrepancy of each kind, and what must not be reported."""
    await crm_payment(api, "MATCH-1", sourceSystem="T24")
    await crm_payment(api, "MATCH-2", when="2026-11-28T00:10:00+07:00")  # by hand (CRM), just after midnight
    await crm_payment(api, "MATCH-3", when="2026-11-27T23:50:00+07:00")  # the core dates it after midnight
    await crm_payment(api, "AMT-1", sourceSystem="T24")
    await crm_payment(api, "STS-1", sourceSystem="T24")
    await crm_payment(api, "CORE-1")  # recorded by hand, unknown to the core
    await crm_payment(api, "OLD-1", when="2026-11-27T10:00:00+07:00")  # another date: not compared
    write_payments(
        inbox,
        "T24",
        DAY,
        [
            row("MATCH-1", amount="1000.00", when="2026-11-28T09:00:00+07:00"),
            row("MATCH-2", amount="1000", when="2026-11-27T17:10:00Z"),
            row("MATCH-3", amount="1000.00", when="2026-11-28T00:05:00"),
            row("AMT-1", amount="1200.00", when="2026-11-28T09:00:00+07:00"),
            row(
                "STS-1",
                amount="1000.00",
                when="2026-11-28T09:00:00+07:00",
                status="FAILED",
                statusReason="NSF",
            ),
            row("PREV-1", amount="5.00", when="2026-11-27T10:00:00+07:00"),  # yesterday's, late: not today's
            row("BAD-1", amount="abc"),  # line 8
        ],
    )
    write_payments(
        inbox, "W4", DAY, [row("CRM-1", amount="777.70", when="2026-11-28T15:00:00+07:00", loan="CC9")]
    )


def _stable(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("runs", "lastRunAt")}


async def test_reconciliation_reports_each_discrepancy_and_imports_the_missing(api, tmp_path, token_for):
    await plant(api, tmp_path)
    admin = token_for(Role.ADMIN, subject="recon.admin")
    run = await api.post("/api/payments/reconciliation", json={"date": "2026-11-28"}, headers=admin)
    assert run.status_code == 200, run.text
    report = run.json()
    trail = await api.get(
        "/api/payments/audit",
        params={"entityType": "ReconciliationReport", "entityKey": "2026-11-28"},
        headers=admin,
    )
    [audited] = trail.json()["items"]  # who ran it and what it found
    assert (audited["actor"], audited["action"], audited["before"]) == ("recon.admin", "CREATE", None)
    assert audited["after"]["matched"] == 3 and "rejects" not in audited["after"]
    assert report["businessDate"] == "2026-11-28" and report["sources"] == ["T24", "W4"]
    assert (report["coreRows"], report["crmRows"], report["matched"], report["runs"]) == (6, 5, 3, 1)
    assert report["counts"] == {
        "MISSING_IN_CRM": 1,
        "MISSING_IN_CORE": 1,
        "AMOUNT_MISMATCH": 1,
        "STATUS_MISMATCH": 1,
    }
    assert report["rejected"] == 1 and report["rejects"][0]["lineNumber"] == 8
    assert report["rejects"][0]["referenceNumber"] == "BAD-1" and report["rejects"][0]["reason"].startswith(
        "amount:"
    )

    found = {(d["kind"], d["referenceNumber"]): d for d in report["discrepancies"]}
    assert list(found) == [
        ("MISSING_IN_CRM", "CRM-1"),
        ("MISSING_IN_CORE", "CORE-1"),
        ("AMOUNT_MISMATCH", "AMT-1"),
        ("STATUS_MISMATCH", "STS-1"),
    ], "each planted discrepancy, and nothing else"
    missing_crm = found["MISSING_IN_CRM", "CRM-1"]
    assert missing_crm["resolution"] == "IMPORTED" and missing_crm["crm"] is None
    assert missing_crm["core"]["amount"] == "777.70" and missing_crm["core"]["sourceSystem"] == "W4"
    assert missing_crm["core"]["lineNumber"] == 2 and missing_crm["core"]["loanAccountNumber"] == "CC9"
    missing_core = found["MISSING_IN_CORE", "CORE-1"]
    assert missing_core["resolution"] == "FLAGGED" and missing_core["core"] is None
    assert missing_core["crm"]["sourceSystem"] == "CRM" and missing_core["crm"]["amount"] == "1000.00"
    amount = found["AMOUNT_MISMATCH", "AMT-1"]
    assert (amount["resolution"], amount["core"]["amount"], amount["crm"]["amount"]) == (
        "FLAGGED",
        "1200.00",
        "1000.00",
    )
    status = found["STATUS_MISMATCH", "STS-1"]
    assert (status["resolution"], status["core"]["status"], status["crm"]["status"]) == (
        "FLAGGED",
        "FAILED",
        "COMPLETED",
    )
    assert (
        status["core"]["statusReason"] == "NSF"
        and status["crm"]["paymentDate"] == "2026-11-28T09:00:00+07:00"
    )

    imported = await api.get("/api/payments/CRM-1", headers=token_for(Role.AGENT))
    assert imported.status_code == 200
    assert (imported.json()["sourceSystem"], imported.json()["amount"]) == ("W4", "777.70")
    assert await events_of(api, "CRM-1") == ["crm.payment.payment_received"]
    assert (await api.get("/api/payments/PREV-1", headers=admin)).status_code == 404, "another date's row"


async def test_a_rerun_gives_the_same_report(api, tmp_path, token_for):
    """The documented rule: an earlier run's imports stay listed (IMPORTED, first time), once imported."""
    await plant(api, tmp_path)
    admin = token_for(Role.SYSTEM)
    first = (
        await api.post("/api/payments/reconciliation", json={"date": "2026-11-28"}, headers=admin)
    ).json()
    second = (
        await api.post("/api/payments/reconciliation", json={"date": "2026-11-28"}, headers=admin)
    ).json()
    assert second["runs"] == 2 and second["firstRunAt"] == first["firstRunAt"]
    assert second["lastRunAt"] > first["lastRunAt"]
    assert _stable(second) == _stable(first)
    assert await events_of(api, "CRM-1") == ["crm.payment.payment_received"], "imported once"

    # something new between runs: only it is new in the report; what was found before keeps its time
    await crm_payment(api, "CORE-2", when="2026-11-28T20:00:00+07:00")
    third = (
        await api.post("/api/payments/reconciliation", json={"date": "2026-11-28"}, headers=admin)
    ).json()
    assert third["counts"]["MISSING_IN_CORE"] == 2 and third["crmRows"] == 6 and third["matched"] == 3
    before = {(d["kind"], d["referenceNumber"]): d for d in second["discrepancies"]}
    after = {(d["kind"], d["referenceNumber"]): d for d in third["discrepancies"]}
    assert set(after) - set(before) == {("MISSING_IN_CORE", "CORE-2")}
    assert all(after[key] == before[key] for key in before)
    assert after["MISSING_IN_CORE", "CORE-2"]["resolvedAt"] > before["MISSING_IN_CRM", "CRM-1"]["resolvedAt"]

    stored = await api.get("/api/payments/reconciliation/2026-11-28", headers=token_for(Role.AGENT))
    assert stored.status_code == 200 and stored.json() == third


async def test_the_report_downloads_as_csv(api, tmp_path, token_for):
    await plant(api, tmp_path)
    admin = token_for(Role.ADMIN)
    report = (
        await api.post("/api/payments/reconciliation", json={"date": "2026-11-28"}, headers=admin)
    ).json()
    download = await api.get(
        "/api/payments/reconciliation/2026-11-28", headers={**admin, "Accept": "text/csv"}
    )
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "reconciliation-2026-11-28.csv" in download.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(download.text)))
    assert list(lines[0]) == CSV_HEADER
    assert len(lines) == len(report["discrepancies"]) == 4
    assert [(r["kind"], r["referenceNumber"]) for r in lines] == [
        (d["kind"], d["referenceNumber"]) for d in report["discrepancies"]
    ]
    amount = next(r for r in lines if r["kind"] == "AMOUNT_MISMATCH")
    assert (amount["coreAmount"], amount["crmAmount"], amount["coreLineNumber"]) == (
        "1200.00",
        "1000.00",
        "5",
    )
    missing = next(r for r in lines if r["kind"] == "MISSING_IN_CRM")
    assert missing["crmAmount"] == "" and missing["coreSourceSystem"] == "W4"


async def test_reconciliation_refuses_what_it_cannot_compare(api, tmp_path, token_for):
    admin = token_for(Role.ADMIN)
    assert (await api.get("/api/payments/reconciliation/2026-11-28", headers=admin)).status_code == 404
    for role in (Role.AGENT, Role.SUPERVISOR, Role.PAYMENT_PROCESSOR):
        refused = await api.post(
            "/api/payments/reconciliation", json={"date": "2026-11-28"}, headers=token_for(role)
        )
        assert refused.status_code == 403
    bad = await api.post("/api/payments/reconciliation", json={"date": "28/11/2026"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "date"

    nothing = await api.post("/api/payments/reconciliation", json={"date": "2026-11-28"}, headers=admin)
    assert nothing.status_code == 422 and "No core system delivered payments.csv" in nothing.json()["detail"]

    write_payments(tmp_path, "T24", DAY, [row("TAMPERED-1")], sha256="0" * 64)
    tampered = await api.post("/api/payments/reconciliation", json={"date": "2026-11-28"}, headers=admin)
    assert tampered.status_code == 422 and "sha256" in tampered.json()["detail"]
    assert (await api.get("/api/payments/TAMPERED-1", headers=admin)).status_code == 404
    assert (await api.get("/api/payments/reconciliation/2026-11-28", headers=admin)).status_code == 404

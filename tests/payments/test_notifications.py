"""Signed payment notifications: refused unless signed, stored once however often they arrive,
announced through the outbox, and never refused just because bank-sync is away."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager
from types import SimpleNamespace

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, text

from crm.payments.ledger.models import Payment
from crm.payments.models import platform_tables
from crm.payments.notifications import router as notifications_router
from crm.payments.notifications.loans import LoanDirectory
from crm.payments.notifications.service import confirm_pending
from crm.payments.notifications.signature import sign
from crm.platform.auth import Role
from crm.platform.http import ServiceClient
from tests.bank_sync.test_customers_loans import add_customer_with_loan

SECRET, ROTATED = "processor-secret-1", "processor-secret-2"


@asynccontextmanager
async def signed_service(payments, bank_sync, tokens, *, bank_sync_reachable: bool = True):
    """The session's payments app with webhook secrets set and bank-sync reached over HTTP."""
    app = payments.app
    saved = app.state.settings, app.state.loan_directory
    app.state.settings = app.state.settings.model_copy(
        update={"payment_webhook_secret": SecretStr(f"{SECRET},{ROTATED}")}
    )
    if bank_sync_reachable:
        client = ServiceClient(
            "http://bank-sync", tokens, caller="payments", transport=httpx.ASGITransport(app=bank_sync.app)
        )
    else:
        client = ServiceClient("http://127.0.0.1:9", tokens, caller="payments", timeout=0.5)
    app.state.loan_directory = LoanDirectory(client, ttl_seconds=60)
    try:
        yield app
    finally:
        await app.state.loan_directory.close()
        app.state.settings, app.state.loan_directory = saved


def notification(ref: str, loan: str, cif: str, **overrides) -> bytes:
    body = {
        "referenceNumber": ref,
        "loanAccountNumber": loan,
        "cif": cif,
        "amount": "1250000.00",
        "currency": "VND",
        "paymentDate": "2026-11-28T09:30:00+07:00",
        "paymentChannel": "MOBILE_APP",
        "sourceSystem": "OTHER",
        **overrides,
    }
    return json.dumps(body).encode()


def headers(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    return {"X-Signature": sign(body, secret, at or int(time.time())), "Content-Type": "application/json"}


async def stored(payments, ref: str) -> tuple[int, int]:
    """(payment rows, outbox events) for a reference number."""
    async with payments.app.state.db.transaction() as session:
        rows = await session.scalar(select(func.count()).where(Payment.reference_number == ref))
        events = await session.scalar(
            select(func.count())
            .select_from(platform_tables.outbox)
            .where(platform_tables.outbox.c.payload.contains(f'"paymentReferenceNumber":"{ref}"'))
        )
    return int(rows or 0), int(events or 0)


@pytest.fixture
async def loan(bank_sync, unique):
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(bank_sync.app, cif, account)
    return cif, account


def _set_clock(monkeypatch, now: int) -> None:
    """The webhook's clock (what it compares a signature's ``t`` with), set by the test."""
    monkeypatch.setattr(notifications_router, "time", SimpleNamespace(time=lambda: float(now)))


async def test_bad_signatures_are_401_and_store_nothing(
    payments, bank_sync, tokens, loan, unique, monkeypatch
):
    cif, account = loan
    now = int(time.time())
    _set_clock(monkeypatch, now)
    async with signed_service(payments, bank_sync, tokens):
        ref = unique("NTF")
        body = notification(ref, account, cif)
        tampered = body.replace(b"1250000.00", b"9250000.00")
        cases = {
            "missing": {"Content-Type": "application/json"},
            "malformed": {"X-Signature": "sha256=abc", "Content-Type": "application/json"},
            "wrong secret": headers(body, secret="not-the-secret"),
            "stale": headers(body, at=now - 301),
            "from the future": headers(body, at=now + 301),
        }
        for case, h in cases.items():
            r = await payments.post("/api/payments/notification", content=body, headers=h)
            assert r.status_code == 401, case
            assert r.headers["content-type"].startswith("application/problem+json"), case
        r = await payments.post("/api/payments/notification", content=tampered, headers=headers(body, at=now))
        assert r.status_code == 401, "a body changed after signing"
        assert await stored(payments, ref) == (0, 0)
        # An unsigned body that is not even JSON still gets 401, not a hint about the body.
        r = await payments.post(
            "/api/payments/notification", content=b"{", headers={"X-Signature": "t=1,v1=00"}
        )
        assert r.status_code == 401


@pytest.mark.parametrize("offset", [-300, 300])
async def test_a_signature_exactly_at_the_tolerance_is_accepted(
    payments, bank_sync, tokens, loan, unique, monkeypatch, offset
):
    cif, account = loan
    now = int(time.time())
    _set_clock(monkeypatch, now)
    async with signed_service(payments, bank_sync, tokens):
        ref = unique("EDGE")
        body = notification(ref, account, cif)
        r = await payments.post(
            "/api/payments/notification", content=body, headers=headers(body, at=now + offset)
        )
        assert r.status_code == 201, r.text
        assert await stored(payments, ref) == (1, 1)


async def test_signed_notification_is_stored_and_announced_and_rotated_secret_works(
    payments, bank_sync, tokens, token_for, loan, unique
):
    cif, account = loan
    async with signed_service(payments, bank_sync, tokens):
        ref = unique("NTF")
        body = notification(ref, account, cif, requiresReceipt=True)
        r = await payments.post("/api/payments/notification", content=body, headers=headers(body, ROTATED))
        assert r.status_code == 201, r.text
        answer = r.json()
        assert answer["status"] == "COMPLETED" and answer["amount"] == "1250000.00"
        assert answer["receiptUrl"] == f"/api/payments/receipt/{ref}"
        again = await payments.post("/api/payments/notification", content=body, headers=headers(body))
        assert again.status_code == 200 and again.json()["id"] == answer["id"]
        assert await stored(payments, ref) == (1, 1), "one row, one PAYMENT_RECEIVED"
        seen = await payments.get(f"/api/payments/{ref}", headers=token_for(Role.AGENT))
        assert seen.json()["sourceSystem"] == "OTHER"


async def test_fifty_concurrent_deliveries_have_one_effect(payments, bank_sync, tokens, loan, unique):
    cif, account = loan
    async with signed_service(payments, bank_sync, tokens):
        ref = unique("NTF")
        body = notification(ref, account, cif)
        answers = await asyncio.gather(
            *(
                payments.post("/api/payments/notification", content=body, headers=headers(body))
                for _ in range(50)
            )
        )
        codes = sorted(a.status_code for a in answers)
        assert codes.count(201) == 1 and codes.count(200) == 49, codes
        assert len({a.json()["id"] for a in answers}) == 1
        assert await stored(payments, ref) == (1, 1)


async def test_business_rules_name_the_field(payments, bank_sync, tokens, loan, unique):
    cif, account = loan
    async with signed_service(payments, bank_sync, tokens):
        cases = {
            "currency": notification(unique("NTF"), account, cif, currency="XYZ"),
            "paymentDate": notification(unique("NTF"), account, cif, paymentDate="2099-01-01T00:00:00+07:00"),
            "loanAccountNumber": notification(unique("NTF"), unique("NO-LOAN"), cif),
            "cif": notification(unique("NTF"), account, unique("OTHER")),
            "amount": notification(unique("NTF"), account, cif, amount="-5.00"),
        }
        for field, body in cases.items():
            r = await payments.post("/api/payments/notification", content=body, headers=headers(body))
            assert r.status_code == 422, (field, r.text)
            assert field in {e["field"] for e in r.json()["errors"]}, (field, r.json())
            assert await stored(payments, json.loads(body)["referenceNumber"]) == (0, 0)
        other = notification(unique("NTF"), account, cif)
        first = await payments.post("/api/payments/notification", content=other, headers=headers(other))
        assert first.status_code == 201
        changed = other.replace(b"1250000.00", b"1.00")
        r = await payments.post("/api/payments/notification", content=changed, headers=headers(changed))
        assert r.status_code == 409, "a reference number is used once"


async def test_failed_and_reversed_are_announced(payments, bank_sync, tokens, loan, unique):
    cif, account = loan
    async with signed_service(payments, bank_sync, tokens):
        ref = unique("NTF")
        received = notification(ref, account, cif)
        assert (
            await payments.post("/api/payments/notification", content=received, headers=headers(received))
        ).status_code == 201
        reversed_ = notification(ref, account, cif, status="REVERSED", statusReason="chargeback")
        r = await payments.post("/api/payments/notification", content=reversed_, headers=headers(reversed_))
        assert r.status_code == 200 and r.json()["status"] == "REVERSED"
        failed_ref = unique("NTF")
        failed = notification(failed_ref, account, cif, status="FAILED", statusReason="insufficient funds")
        assert (
            await payments.post("/api/payments/notification", content=failed, headers=headers(failed))
        ).status_code == 201
        async with payments.app.state.db.transaction() as session:
            payloads = [
                json.loads(p)
                for p in (await session.scalars(select(platform_tables.outbox.c.payload))).all()
                if ref in p or failed_ref in p
            ]
    kinds = sorted((p["paymentReferenceNumber"] == ref, p["type"]) for p in payloads)
    assert kinds == [(False, "PAYMENT_FAILED"), (True, "PAYMENT_RECEIVED"), (True, "PAYMENT_REVERSED")]


async def test_bank_sync_away_stores_pending_and_confirms_later(payments, bank_sync, tokens, loan, unique):
    cif, account = loan
    ref = unique("NTF")
    body = notification(ref, account, cif)
    async with signed_service(payments, bank_sync, tokens, bank_sync_reachable=False):
        r = await payments.post("/api/payments/notification", content=body, headers=headers(body))
        assert r.status_code == 201 and r.json()["status"] == "PENDING", "the money is not refused"
        assert await stored(payments, ref) == (1, 0), "no PAYMENT_RECEIVED before the loan is confirmed"
        again = await payments.post("/api/payments/notification", content=body, headers=headers(body))
        assert again.status_code == 200 and again.json()["status"] == "PENDING"
        assert (
            await confirm_pending(
                payments.app.state.db, payments.app.state.outbox, payments.app.state.loan_directory
            )
            == 0
        )
    async with signed_service(payments, bank_sync, tokens) as app:
        settled = await confirm_pending(app.state.db, app.state.outbox, app.state.loan_directory)
        assert settled >= 1
        async with app.state.db.transaction() as session:
            payment = await session.scalar(select(Payment).where(Payment.reference_number == ref))
            assert payment.status == "COMPLETED" and not payment.loan_check_pending
    assert await stored(payments, ref) == (1, 1)


def test_demo_mode_generates_a_webhook_secret_once(tmp_path):
    from crm.payments.settings import PaymentsSettings

    demo = PaymentsSettings(data_dir=tmp_path, demo=True, payment_webhook_secret=None)
    first = demo.webhook_secrets()
    assert len(first) == 1 and len(first[0]) >= 32
    again = PaymentsSettings(data_dir=tmp_path, demo=True, payment_webhook_secret=None)
    assert again.webhook_secrets() == first, "kept, not redrawn"
    assert (tmp_path / "secrets" / "payment-webhook-secret").stat().st_mode & 0o077 == 0
    assert (
        PaymentsSettings(data_dir=tmp_path, demo=False, payment_webhook_secret=None).webhook_secrets() == []
    )
    rotated = PaymentsSettings(data_dir=tmp_path, demo=True, payment_webhook_secret=SecretStr("a, b"))
    assert rotated.webhook_secrets() == ["a", "b"], "configured secrets win, several at once"


async def test_notifications_arriving_while_nats_is_down_are_stored_answered_and_announced_later(
    settings, tmp_path, isolated_database, bank_sync, tokens, loan, unique
):
    from crm.platform.embedded import EmbeddedNats
    from crm.services import SERVICES

    # Its own database and NATS, so that no other relay publishes this outbox meanwhile.
    nats = EmbeddedNats(tmp_path)
    nats.start()
    local = settings.model_copy(
        update={
            "nats_url": nats.url(),
            "database_url": await isolated_database("payments"),
        }
    )
    app = SERVICES["payments"].create_app(local)
    cif, account = loan
    refs = [unique("NATS-DOWN") for _ in range(20)]
    outbox = platform_tables.outbox

    async def unpublished() -> int:
        async with app.state.db.transaction() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                )
                or 0
            )

    try:
        async with app.router.lifespan_context(app):
            app.state.settings = app.state.settings.model_copy(
                update={"payment_webhook_secret": SecretStr(SECRET)}
            )
            await app.state.loan_directory.close()
            app.state.loan_directory = LoanDirectory(
                ServiceClient(
                    "http://bank-sync",
                    tokens,
                    caller="payments",
                    transport=httpx.ASGITransport(app=bank_sync.app),
                ),
                ttl_seconds=60,
            )
            await app.state.bus.wait_connected(within=20)
            nats.stop()
            deadline = asyncio.get_running_loop().time() + 15
            while app.state.bus.is_connected:
                assert asyncio.get_running_loop().time() < deadline, "the bus did not notice NATS stop"
                await asyncio.sleep(0.05)

            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:

                async def send(ref: str) -> int:
                    body = notification(ref, account, cif)
                    r = await c.post("/api/payments/notification", content=body, headers=headers(body))
                    return r.status_code

                assert await asyncio.gather(*(send(ref) for ref in refs)) == [201] * len(refs)
            assert await unpublished() == len(refs), "stored with their events, waiting for NATS"

            nats.start()  # same port, same store
            deadline = asyncio.get_running_loop().time() + 30
            while await unpublished():
                assert asyncio.get_running_loop().time() < deadline, (
                    "events not published after NATS came back"
                )
                await asyncio.sleep(0.1)
            async with app.state.db.transaction() as session:
                rows = await session.scalar(select(func.count()).where(Payment.reference_number.in_(refs)))
            assert rows == len(refs)
    finally:
        nats.stop()


async def test_hostile_signature_headers_are_401_with_one_log_line(
    payments, bank_sync, tokens, loan, unique, caplog
):
    """Headers that once crashed the route (a 400-digit timestamp, a superscript digit) are refused
    like any bad signature: 401 problem+json, nothing stored, one warning and no traceback."""
    cif, account = loan
    async with signed_service(payments, bank_sync, tokens):
        ref = unique("NTF")
        body = notification(ref, account, cif)
        for text in ("t=" + "9" * 400 + ",v1=00", "t=\u00b2,v1=00", "t=1,v1=" + "0" * 5000):
            header = text.encode("latin-1")  # as it arrives: one byte 0xB2 for the superscript two
            caplog.clear()
            with caplog.at_level("INFO"):
                r = await payments.post(
                    "/api/payments/notification",
                    content=body,
                    headers={"X-Signature": header, "Content-Type": "application/json"},
                )
            assert r.status_code == 401, text[:20]
            assert r.headers["content-type"].startswith("application/problem+json")
            lines = [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith("crm")]
            assert len(lines) == 1 and "notification_refused" in lines[0].getMessage(), lines
            assert lines[0].exc_info is None and "Traceback" not in caplog.text
        assert await stored(payments, ref) == (0, 0)


class CountingTransport(httpx.AsyncBaseTransport):
    """bank-sync reached over HTTP, each request counted."""

    def __init__(self, app) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)


async def test_a_loan_is_asked_of_bank_sync_once_within_its_cache_time_and_again_after(
    bank_sync, tokens, unique
):
    """``CRM_LOAN_CACHE_SECONDS``: a month-end burst for one loan asks bank-sync once; after the cache
    time the loan is asked again and a change made meanwhile (here its currency) is seen."""
    cif, account = unique("CIF-C"), unique("LN-C")
    await add_customer_with_loan(bank_sync.app, cif, account)
    transport = CountingTransport(bank_sync.app)
    clock = [1_000.0]
    directory = LoanDirectory(
        ServiceClient("http://bank-sync", tokens, caller="payments", transport=transport),
        ttl_seconds=60,
        timer=lambda: clock[0],
    )
    try:
        first = await directory.get(account)
        assert (first.cif, first.currency) == (cif, "VND") and transport.requests == 1
        async with bank_sync.app.state.db.transaction() as session:
            await session.execute(
                text("UPDATE bank_sync.loan SET currency = 'USD' WHERE account_number = :a"), {"a": account}
            )
        clock[0] += 59
        for _ in range(20):
            assert (await directory.get(account)).currency == "VND", "within its time: the cached loan"
        assert transport.requests == 1
        clock[0] += 2
        assert (await directory.get(account)).currency == "USD", "after its time: asked again"
        assert transport.requests == 2
    finally:
        await directory.close()


async def test_a_notified_and_a_recorded_payment_are_stored_the_same_way(
    payments, bank_sync, tokens, token_for, loan, unique
):
    """One insert for every new payment (ledger.insert): the webhook's and POST /api/payments's rows,
    events and audit rows have the same shape; only who acted differs."""
    cif, account = loan
    notified, recorded = unique("NTF"), unique("PAY")
    async with signed_service(payments, bank_sync, tokens):
        body = notification(notified, account, cif)
        sent = await payments.post(
            "/api/payments/notification",
            content=body,
            headers={**headers(body), "X-Request-ID": f"req-{notified}"},
        )
        assert sent.status_code == 201, sent.text
    posted = await payments.post(
        "/api/payments",
        json=json.loads(notification(recorded, account, cif, paymentChannel="CASH")),
        headers={**token_for(Role.PAYMENT_PROCESSOR), "X-Request-ID": f"req-{recorded}"},
    )
    assert posted.status_code == 201, posted.text
    assert set(sent.json()) - {"receiptUrl"} == set(posted.json())
    audit, outbox = platform_tables.audit_log, platform_tables.outbox
    rows = {}
    async with payments.app.state.db.transaction() as session:
        for ref in (notified, recorded):
            trail = (
                await session.execute(
                    select(audit).where(audit.c.entity_type == "Payment", audit.c.entity_key == ref)
                )
            ).all()
            events = (
                await session.scalars(
                    select(outbox.c.payload).where(
                        outbox.c.payload.contains(f'"paymentReferenceNumber":"{ref}"')
                    )
                )
            ).all()
            assert len(trail) == 1 and len(events) == 1, (ref, trail, events)
            rows[ref] = trail[0]._mapping, json.loads(events[0])
    (notified_audit, notified_event), (recorded_audit, recorded_event) = rows[notified], rows[recorded]
    for row, ref in ((notified_audit, notified), (recorded_audit, recorded)):
        assert row["action"] == "CREATE" and row["before"] is None and row["request_id"] == f"req-{ref}"
        assert row["after"]["reference_number"] == ref and row["after"]["amount"] == "1250000.00"
    assert set(notified_audit["after"]) == set(recorded_audit["after"])
    assert notified_audit["actor"] == "payment-processor" and notified_audit["actor_roles"] == []
    assert recorded_audit["actor_roles"] == [Role.PAYMENT_PROCESSOR.value]
    assert recorded_audit["after"]["created_by"] == recorded_audit["actor"]
    assert set(notified_event) == set(recorded_event)
    assert notified_event["type"] == recorded_event["type"] == "PAYMENT_RECEIVED"

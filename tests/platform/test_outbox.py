"""The outbox is the record: events commit with their change, survive a NATS outage, and are
published once NATS is back; a rolled-back change leaves no event behind."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from crm.payments.ledger import service as ledger
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentChannel, PaymentCreate
from crm.payments.models import platform_tables
from crm.platform.auth import Role
from crm.platform.embedded import EmbeddedNats
from crm.platform.outbox import OutboxRelay
from crm.services import SERVICES


async def _wait_for(predicate, within: float = 15.0):
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await predicate()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_failed_transaction_stores_neither_change_nor_event(payments, unique):
    app = payments.app
    ref = unique("ROLLBACK")
    data = PaymentCreate(
        reference_number=ref,
        loan_account_number="LN1",
        cif="C1",
        amount=Decimal("5.00"),
        payment_date=datetime.now(UTC),
        payment_channel=PaymentChannel.CASH,
    )
    try:
        async with app.state.db.transaction() as session:
            await ledger.record_payment(session, app.state.outbox, data, actor="test")
            raise RuntimeError("the request failed after the change was staged")
    except RuntimeError:
        pass
    async with app.state.db.transaction() as session:
        assert await session.scalar(select(Payment).where(Payment.reference_number == ref)) is None
        outbox = platform_tables.outbox
        staged = await session.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.payload.contains(ref))
        )
        assert staged == 0
        audit = platform_tables.audit_log
        assert (
            await session.scalar(select(func.count()).select_from(audit).where(audit.c.entity_key == ref))
            == 0
        )


async def test_event_written_while_nats_is_down_is_published_when_it_is_back(
    settings, tmp_path, token_for, unique, isolated_database
):
    # Its own database and NATS: no other relay may publish this service's outbox meanwhile.
    nats = EmbeddedNats(tmp_path)
    nats.start()
    local = settings.model_copy(
        update={"nats_url": nats.url(), "database_url": await isolated_database("payments")}
    )
    app = SERVICES["payments"].create_app(local)
    ref = unique("OUTAGE")
    try:
        async with app.router.lifespan_context(app):
            await app.state.bus.wait_connected(within=20)
            nats.stop()
            await _wait_for(lambda: _false_when(app.state.bus.is_connected))
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as client:
                r = await client.post(
                    "/api/payments",
                    json={
                        "referenceNumber": ref,
                        "loanAccountNumber": "LN-OUT",
                        "cif": "C-OUT",
                        "amount": "42.00",
                        "paymentDate": "2026-11-28T10:00:00+07:00",
                        "paymentChannel": "CASH",
                    },
                    headers=token_for(Role.PAYMENT_PROCESSOR),
                )
                assert r.status_code == 201, "writes succeed while NATS is down"
                ready = await client.get("/health/ready")
                assert ready.status_code == 503 and "nats" in ready.json()["detail"]

                async def pending_in_metrics() -> float | None:
                    text = (await client.get("/metrics")).text
                    found = re.search(r'^crm_outbox_pending\{service="payments"\} (\S+)$', text, re.M)
                    return float(found.group(1)) if found and float(found.group(1)) >= 1 else None

                # the operator sees the relay's backlog while the bus is gone
                assert await _wait_for(pending_in_metrics, within=15) >= 1
            outbox = platform_tables.outbox
            async with app.state.db.transaction() as session:
                row = (await session.execute(select(outbox).where(outbox.c.payload.contains(ref)))).one()
            assert row.published_at is None

            nats.start()  # same port, same store

            async def published():
                async with app.state.db.transaction() as session:
                    return await session.scalar(select(outbox.c.published_at).where(outbox.c.id == row.id))

            await _wait_for(published, within=30)

            async def in_stream():
                try:
                    msg = await app.state.bus.js.get_last_msg("CRM_PAYMENT", "crm.payment.payment_received")
                except Exception:
                    return None
                return json.loads(msg.data)

            event = await _wait_for(in_stream, within=10)
            assert event["paymentReferenceNumber"] == ref
            assert event["amount"] == "42.00" and event["eventId"] == str(row.id)
    finally:
        nats.stop()


async def _false_when(value: bool) -> bool:
    return not value


async def _true_when(value: bool) -> bool:
    return value


async def test_a_relay_told_to_stop_finishes_the_round_in_hand_and_an_idle_one_stops_at_once(payments):
    """Cancelled in the middle of a round, a stopping replica's relay had its transaction torn down
    mid-flight: SQLAlchemy logged "Exception closing connection" with a traceback at a rolling restart."""
    app = payments.app
    relay = OutboxRelay(app.state.db, app.state.bus, app.state.outbox, service="payments", poll_interval=30)
    started, release, rounds = asyncio.Event(), asyncio.Event(), []

    async def held_round() -> int:
        started.set()
        await release.wait()
        rounds.append("done")
        return 0

    relay.relay_once = held_round  # type: ignore[method-assign]
    relay.start()
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(relay.stop())
    for _ in range(5):  # the stop under way while the round is in hand
        await asyncio.sleep(0)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert rounds == ["done"], "the round in hand was finished, not cancelled"

    idle = OutboxRelay(app.state.db, app.state.bus, app.state.outbox, service="payments", poll_interval=30)
    idle.relay_once = held_round  # type: ignore[method-assign]
    idle.start()
    await _wait_for(lambda: _true_when(len(rounds) >= 2))  # its first round done, now waiting 30 s
    began = asyncio.get_running_loop().time()
    await asyncio.wait_for(idle.stop(), 10)
    assert asyncio.get_running_loop().time() - began < 2, "an idle relay does not wait out its poll"
    idle.start()  # a relay stopped may be started again
    await _wait_for(lambda: _true_when(len(rounds) >= 3))
    await idle.stop()

"""The payment queue's depth (what the payments deployment scales on) counts what waits to be applied."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from crm.payments.queue_depth import measure
from crm.platform.events import PaymentEvent
from crm.platform.metrics import metrics_response

WITHIN = 30.0


async def _until(predicate, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WITHIN
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.1)


async def test_the_depth_counts_payments_a_consumer_has_not_applied_and_falls_back_after(
    payments, bank_sync, workflow, unique
):
    db, bus = payments.app.state.db, payments.app.state.bus
    runner = next(r for r in bank_sync.app.state.consumers if r.consumer.name == "loan-balance")
    await runner.ready.wait()

    async def quiet() -> bool:  # what earlier tests sent is applied everywhere: nothing waits
        return await measure(db, bus) == 0

    await _until(quiet, "payment events of earlier tests still wait to be applied")
    await runner.stop()  # bank-sync's balances stop following: its backlog grows
    try:
        for n in range(7):
            event = PaymentEvent(
                type="PAYMENT_RECEIVED",
                payment_reference_number=unique(f"QD{n}"),
                loan_account_number=unique("LN"),
                cif=unique("CIF"),
                amount=Decimal("10.00"),
                status="COMPLETED",
            )
            await bus.publish(event.subject, event.to_json(), msg_id=str(event.event_id))

        async def grown() -> bool:
            return await measure(db, bus) >= 7

        await _until(grown, "the depth did not count the payments waiting for bank-sync")
        exported = metrics_response().body.decode()
        assert "crm_payment_queue_depth" in exported
    finally:
        runner.start()

    async def drained() -> bool:
        return await measure(db, bus) == 0

    await _until(drained, "the depth did not fall back once bank-sync caught up")

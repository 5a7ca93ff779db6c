"""Payment events move a loan's balance exactly once; a reversal puts back what the payment took."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from crm.bank_sync.loans import service
from crm.bank_sync.loans.models import Loan, LoanPaymentApplied
from crm.bank_sync.models import platform_tables
from crm.platform.auth import Role
from crm.platform.events import PaymentEvent
from tests.bank_sync.test_customers_loans import add_customer_with_loan

WITHIN = 10.0
BUSINESS_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _event(kind: str, ref: str, account: str, cif: str, amount: str) -> PaymentEvent:
    return PaymentEvent(
        type=kind,
        payment_reference_number=ref,
        loan_account_number=account,
        cif=cif,
        amount=Decimal(amount),
        status="COMPLETED" if kind == "PAYMENT_RECEIVED" else "REVERSED",
    )


async def _publish(app, event: PaymentEvent, msg_id: str | None = None) -> None:
    await app.state.bus.publish(event.subject, event.to_json(), msg_id=msg_id or str(event.event_id))


async def _processed(app, event: PaymentEvent) -> bool:
    processed = platform_tables.processed_event
    async with app.state.db.transaction() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(processed)
            .where(processed.c.consumer == "loan-balance", processed.c.event_id == event.event_id)
        )
    return bool(found)


async def _until_processed(app, *events: PaymentEvent) -> None:
    """Wait (bounded) until the consumer has committed every one of these events."""
    deadline = asyncio.get_running_loop().time() + WITHIN
    for event in events:
        while not await _processed(app, event):
            assert asyncio.get_running_loop().time() < deadline, f"event {event.type} not consumed in time"
            await asyncio.sleep(0.05)


async def _deliver(app, *events: PaymentEvent) -> None:
    """Publish the events (in this order), then wait until the consumer has committed every one."""
    for event in events:
        await _publish(app, event)
    await _until_processed(app, *events)


async def _balance(client, headers, account: str) -> tuple[str, str, str]:
    r = await client.get(f"/api/loans/{account}", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["outstanding"], body["dueAmount"], body["remainingAmount"]


async def test_a_payment_reduces_the_balance_once_however_often_it_arrives(bank_sync, token_for, unique):
    app, headers = bank_sync.app, token_for(Role.AGENT)
    cif, account, ref = unique("CIF"), unique("LN"), unique("PAY")
    await add_customer_with_loan(app, cif, account)
    received = _event("PAYMENT_RECEIVED", ref, account, cif, "500000.00")
    await _deliver(app, received)
    assert await _balance(bank_sync, headers, account) == ("9500000.00", "1500000.00", "8000000.00")

    # The same event again (once de-duplicated by JetStream, once under another message id so that
    # only the consumer can tell), and a second event for the same payment reference.
    again = _event("PAYMENT_RECEIVED", ref, account, cif, "500000.00")
    await _publish(app, received)
    await _publish(app, received, msg_id=f"{received.event_id}-redelivered")
    await _deliver(app, again)
    assert await _balance(bank_sync, headers, account) == ("9500000.00", "1500000.00", "8000000.00")

    another = _event("PAYMENT_RECEIVED", unique("PAY"), account, cif, "250000.00")
    await _deliver(app, another)
    assert await _balance(bank_sync, headers, account) == ("9250000.00", "1250000.00", "8000000.00")


SCENARIOS = [
    pytest.param(
        {},
        [
            # More than is due: due goes to zero, outstanding takes the whole amount.
            ([("PAYMENT_RECEIVED", "paid", "3000000.00")], ("7000000.00", "0.00", "7000000.00")),
            ([("PAYMENT_REVERSED", "paid", "3000000.00")], ("10000000.00", "2000000.00", "8000000.00")),
            # A second reversal of the same payment, and a repeat of the payment itself, change nothing.
            (
                [("PAYMENT_REVERSED", "paid", "3000000.00"), ("PAYMENT_RECEIVED", "paid", "3000000.00")],
                ("10000000.00", "2000000.00", "8000000.00"),
            ),
        ],
        id="a_reversal_puts_back_exactly_what_the_payment_took",
    ),
    pytest.param(
        {
            "outstanding": Decimal("1000.00"),
            "due_amount": Decimal("400.00"),
            "remaining_amount": Decimal("600.00"),
        },
        [
            ([("PAYMENT_RECEIVED", "paid", "5000.00")], ("0.00", "0.00", "0.00")),
            ([("PAYMENT_RECEIVED", "second", "10.00")], ("0.00", "0.00", "0.00")),
            ([("PAYMENT_REVERSED", "paid", "5000.00")], ("1000.00", "400.00", "600.00")),
        ],
        id="balances_never_go_below_zero",
    ),
]
"""The loan's balances ({}: those add_customer_with_loan stores), then steps: the events delivered
together, each (type, which payment, amount), and the loan's (outstanding, due, remaining) after them."""


@pytest.mark.parametrize(("balances", "steps"), SCENARIOS)
async def test_payments_and_reversals_move_the_balance(bank_sync, token_for, unique, balances, steps):
    app, headers = bank_sync.app, token_for(Role.AGENT)
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(app, cif, account, **balances)
    references: dict[str, str] = {}  # the payment's name in the scenario -> its reference number
    for events, balance in steps:
        await _deliver(
            app,
            *(
                _event(kind, references.setdefault(payment, unique("PAY")), account, cif, amount)
                for kind, payment, amount in events
            ),
        )
        assert await _balance(bank_sync, headers, account) == balance


async def test_payments_for_unknown_loans_or_reversals_of_unknown_payments_change_nothing(
    bank_sync, token_for, unique
):
    app, headers = bank_sync.app, token_for(Role.AGENT)
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(app, cif, account)
    stray_ref = unique("PAY")
    for_unknown_loan = _event("PAYMENT_RECEIVED", stray_ref, unique("LN"), cif, "100.00")
    unknown_reversal = _event("PAYMENT_REVERSED", unique("PAY"), account, cif, "100.00")
    await _deliver(app, for_unknown_loan, unknown_reversal)
    assert await _balance(bank_sync, headers, account) == ("10000000.00", "2000000.00", "8000000.00")
    async with app.state.db.transaction() as session:
        assert await session.get(LoanPaymentApplied, stray_ref) is None, "nothing is remembered as applied"


async def test_a_balance_change_is_audited(bank_sync, token_for, unique):
    app = bank_sync.app
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(app, cif, account)
    received = _event("PAYMENT_RECEIVED", unique("PAY"), account, cif, "100.00")
    await _deliver(app, received)
    audit = platform_tables.audit_log
    async with app.state.db.transaction() as session:
        row = (
            await session.execute(
                select(audit).where(
                    audit.c.entity_type == "Loan", audit.c.entity_key == account, audit.c.action == "UPDATE"
                )
            )
        ).one()
    assert row.actor == "system:bank-sync"
    assert row.before["outstanding"] == "10000000.00" and row.after["outstanding"] == "9999900.00"


async def test_concurrent_handlers_of_the_same_payment_apply_it_once(bank_sync, token_for, unique):
    app = bank_sync.app
    cif, account, ref = unique("CIF"), unique("LN"), unique("PAY")
    await add_customer_with_loan(app, cif, account)

    async def apply() -> bool:
        async with app.state.db.transaction() as session:
            return await service.apply_payment(
                session,
                reference_number=ref,
                loan_account_number=account,
                amount=Decimal("100.00"),
                currency="VND",
                paid_at=datetime.now(UTC),
                tz=BUSINESS_TZ,
            )

    results = await asyncio.gather(*(apply() for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert await _balance(bank_sync, token_for(Role.AGENT), account) == (
        "9999900.00",
        "1999900.00",
        "8000000.00",
    )


async def test_a_payment_the_loans_last_snapshot_already_includes_moves_nothing(bank_sync, token_for, unique):
    """The core's payments of yesterday, imported after tonight's loans, are in their balances already."""
    app, headers = bank_sync.app, token_for(Role.AGENT)
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(app, cif, account)
    midnight = datetime.combine(datetime.now(BUSINESS_TZ).date(), time.min, tzinfo=BUSINESS_TZ)
    async with app.state.db.transaction() as session:  # tonight's load read the loan at 01:30
        read_at = midnight + timedelta(minutes=90)
        loan = update(Loan).where(Loan.account_number == account)
        await session.execute(loan.values(last_synced_at=read_at))
    ref = unique("PAY")
    yesterday = _event("PAYMENT_RECEIVED", ref, account, cif, "500000.00").model_copy(
        update={"payment_date": midnight - timedelta(hours=8)}
    )
    await _deliver(app, yesterday)
    assert await _balance(bank_sync, headers, account) == ("10000000.00", "2000000.00", "8000000.00")
    # Its reversal puts back what it took: nothing (the core's next snapshot has the reversal).
    reversal = _event("PAYMENT_REVERSED", ref, account, cif, "500000.00")
    await _deliver(app, reversal)
    assert await _balance(bank_sync, headers, account) == ("10000000.00", "2000000.00", "8000000.00")

    today = _event("PAYMENT_RECEIVED", unique("PAY"), account, cif, "500000.00")  # paid now
    await _deliver(app, today)
    assert await _balance(bank_sync, headers, account) == ("9500000.00", "1500000.00", "8000000.00")

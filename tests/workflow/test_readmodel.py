"""The read model follows bank-sync and payments through their events: loans refreshed from
bank-sync's API when a SyncEvent names them, balances moved by payments and restored by reversals."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from crm.bank_sync.loans.models import Loan
from crm.bank_sync.models import platform_tables
from crm.bank_sync.sync.announce import announce
from crm.platform.events import Event, PaymentEvent, SyncEvent
from crm.workflow.readmodel.models import CustomerView, LoanView, PaymentView
from tests.bank_sync.test_customers_loans import add_customer_with_loan

T = TypeVar("T")


async def publish(workflow, event: Event, msg_id: str | None = None) -> None:
    """Put an event on the bus as its producer would (``Nats-Msg-Id`` = eventId unless told)."""
    await workflow.app.state.bus.publish(event.subject, event.to_json(), msg_id=msg_id or str(event.event_id))


async def eventually(probe: Callable[[], Awaitable[T | None]], *, within: float = 15.0) -> T:
    """Poll until ``probe`` answers something truthy (the consumers run in the background)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        answer = await probe()
        if answer:
            return answer
        assert asyncio.get_running_loop().time() < deadline, "the expected effect never showed"
        await asyncio.sleep(0.05)


async def row(workflow, model: Any, key: str) -> Any:
    async with workflow.app.state.db.transaction() as session:
        return await session.get(model, key, populate_existing=True)


def payment(
    event_type: str, reference: str, cif: str, account: str, amount: str, paid_at: datetime | None = None
) -> PaymentEvent:
    return PaymentEvent(
        type=event_type,  # type: ignore[arg-type]
        payment_reference_number=reference,
        loan_account_number=account,
        cif=cif,
        amount=Decimal(amount),
        currency="VND",
        status="REVERSED" if event_type == "PAYMENT_REVERSED" else "RECEIVED",
        payment_date=paid_at or datetime.now(UTC),
    )


async def pay(workflow, reference: str, cif: str, account: str, amount: str, paid_at=None) -> PaymentEvent:
    """Publish a PAYMENT_RECEIVED and wait until workflow has stored it."""
    event = payment("PAYMENT_RECEIVED", reference, cif, account, amount, paid_at)
    await publish(workflow, event)
    await eventually(lambda: row(workflow, PaymentView, reference))
    return event


async def reverse(workflow, received: PaymentEvent) -> None:
    """Publish the reversal of a received payment and wait until workflow has applied it."""
    event = received.model_copy(
        update={"type": "PAYMENT_REVERSED", "status": "REVERSED", "event_id": uuid.uuid4()}
    )
    await publish(workflow, event)

    async def reversed_() -> bool:
        stored = await row(workflow, PaymentView, received.payment_reference_number)
        return stored is not None and stored.status == "REVERSED"

    await eventually(reversed_)


def loans_updated(*accounts: str) -> SyncEvent:
    return SyncEvent(
        type="ENTITY_UPDATED",
        entity_type="loans",
        source_system="T24",
        affected_records=list(accounts),
        run_id="r1",
    )


async def loan_in_view(workflow, bank_sync, unique, **loan: Any) -> tuple[str, str]:
    """A bank-sync customer with one loan, announced by a SyncEvent and now in loan_view."""
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(bank_sync.app, cif, account, **loan)
    await publish(workflow, loans_updated(account))
    await eventually(lambda: row(workflow, LoanView, account))
    return cif, account


async def test_a_sync_event_for_a_changed_loan_refreshes_loan_view_from_bank_sync(
    workflow, bank_sync, unique
):
    cif, account = await loan_in_view(
        workflow,
        bank_sync,
        unique,
        outstanding=Decimal("10000000.00"),
        due_amount=Decimal("2000000.00"),
        dpd=35,
    )
    stored = await row(workflow, LoanView, account)
    assert (stored.cif, stored.product_type, stored.currency, stored.status) == (
        cif,
        "PERSONAL",
        "VND",
        "OPEN",
    )
    assert (stored.outstanding, stored.due_amount, stored.dpd) == (
        Decimal("10000000.00"),
        Decimal("2000000.00"),
        35,
    )

    # The nightly sync changes the loan in bank-sync and names it in an event.
    async with bank_sync.app.state.db.transaction() as session:
        await session.execute(
            update(Loan)
            .where(Loan.account_number == account)
            .values(dpd=66, due_amount=Decimal("3500000.00"))
        )
    await workflow.app.state.bank_data.loan(account)  # a cached answer must not hide the change
    await publish(workflow, loans_updated(account))

    async def refreshed() -> LoanView | None:
        current = await row(workflow, LoanView, account)
        return current if current.dpd == 66 else None

    current = await eventually(refreshed)
    assert current.due_amount == Decimal("3500000.00") and current.outstanding == Decimal("10000000.00")


async def test_a_loan_bank_sync_no_longer_knows_leaves_the_view(workflow, bank_sync, unique):
    _, account = await loan_in_view(workflow, bank_sync, unique)
    async with bank_sync.app.state.db.transaction() as session:
        loan = await session.scalar(select(Loan).where(Loan.account_number == account))
        await session.delete(loan)
    await publish(workflow, loans_updated(account))

    async def gone() -> bool:
        return await row(workflow, LoanView, account) is None

    assert await eventually(gone)


async def test_a_sync_event_for_customers_refreshes_customer_view(workflow, bank_sync, unique):
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(bank_sync.app, cif, account)
    await publish(
        workflow,
        SyncEvent(
            type="ENTITY_UPDATED",
            entity_type="customers",
            source_system="T24",
            affected_records=[cif],
            run_id="r",
        ),
    )
    customer = await eventually(lambda: row(workflow, CustomerView, cif))
    assert (customer.name, customer.segment, customer.status) == ("Nguyen Van An", "RETAIL", "ACTIVE")


async def test_a_payment_lowers_loan_view_and_its_reversal_restores_it(workflow, bank_sync, unique):
    cif, account = await loan_in_view(
        workflow, bank_sync, unique, outstanding=Decimal("10000000.00"), due_amount=Decimal("2000000.00")
    )
    received = await pay(workflow, unique("PAY"), cif, account, "500000.00")
    lowered = await row(workflow, LoanView, account)
    assert (lowered.outstanding, lowered.due_amount) == (Decimal("9500000.00"), Decimal("1500000.00"))

    await reverse(workflow, received)
    restored = await row(workflow, LoanView, account)
    assert (restored.outstanding, restored.due_amount) == (Decimal("10000000.00"), Decimal("2000000.00"))


async def test_a_payment_larger_than_the_due_amount_leaves_it_at_zero(workflow, bank_sync, unique):
    cif, account = await loan_in_view(
        workflow, bank_sync, unique, outstanding=Decimal("10000000.00"), due_amount=Decimal("2000000.00")
    )
    await pay(workflow, unique("PAY"), cif, account, "2500000.00")
    stored = await row(workflow, LoanView, account)
    assert (stored.outstanding, stored.due_amount) == (Decimal("7500000.00"), Decimal("0.00"))


async def test_the_same_payment_delivered_twice_lowers_the_balance_once(workflow, bank_sync, unique):
    cif, account = await loan_in_view(workflow, bank_sync, unique, outstanding=Decimal("10000000.00"))
    reference = unique("PAY")
    received = await pay(workflow, reference, cif, account, "1000000.00")
    # The same event again (a redelivery past the bus's de-duplication), and the same payment
    # announced again under a new event id (a producer that resent it).
    await publish(workflow, received, msg_id=f"{received.event_id}-again")
    await publish(workflow, payment("PAYMENT_RECEIVED", reference, cif, account, "1000000.00"))
    await pay(workflow, unique("PAY"), cif, account, "1.00")  # applied after the two above

    stored = await row(workflow, LoanView, account)
    assert stored.outstanding == Decimal("8999999.00")


async def test_a_reversal_that_comes_first_makes_the_payment_count_for_nothing(workflow, bank_sync, unique):
    cif, account = await loan_in_view(workflow, bank_sync, unique, outstanding=Decimal("10000000.00"))
    reference = unique("PAY")
    late = payment("PAYMENT_RECEIVED", reference, cif, account, "1000000.00")
    await reverse(workflow, late)
    await publish(workflow, late)
    await pay(workflow, unique("PAY"), cif, account, "1.00")  # applied after the two above

    assert (await row(workflow, PaymentView, reference)).status == "REVERSED"
    assert (await row(workflow, LoanView, account)).outstanding == Decimal("9999999.00")


async def test_one_sync_event_refreshes_several_loans_and_drops_those_bank_sync_no_longer_knows(
    workflow, bank_sync, unique
):
    accounts = [unique("LN") for _ in range(3)]
    for account in accounts:
        await add_customer_with_loan(bank_sync.app, unique("CIF"), account, dpd=10)
    await publish(workflow, loans_updated(*accounts))

    async def all_in_view() -> bool:
        return all([await row(workflow, LoanView, account) for account in accounts])

    await eventually(all_in_view)

    kept, dropped = accounts[:2], accounts[2]
    async with bank_sync.app.state.db.transaction() as session:
        await session.execute(
            update(Loan).where(Loan.account_number.in_(kept)).values(dpd=95, due_amount=Decimal("4000000.00"))
        )
        await session.delete(await session.scalar(select(Loan).where(Loan.account_number == dropped)))
    # One event names them all, among more keys than one lookup takes (bank-sync knows none of those).
    unknown = [unique("NOLN") for _ in range(1200)]
    await publish(workflow, loans_updated(*unknown[:700], *accounts, *unknown[700:]))

    async def refreshed() -> bool:
        return await row(workflow, LoanView, dropped) is None

    await eventually(refreshed)
    for account in kept:
        current = await row(workflow, LoanView, account)
        assert (current.dpd, current.due_amount) == (95, Decimal("4000000.00"))
    assert await row(workflow, LoanView, unknown[0]) is None


async def test_a_reversal_puts_back_exactly_what_a_payment_larger_than_the_due_amount_took(
    workflow, bank_sync, unique
):
    cif, account = await loan_in_view(
        workflow, bank_sync, unique, outstanding=Decimal("10000000.00"), due_amount=Decimal("2000000.00")
    )
    received = await pay(workflow, unique("PAY"), cif, account, "2500000.00")
    stored = await row(workflow, PaymentView, received.payment_reference_number)
    assert (stored.applied_outstanding, stored.applied_due) == (Decimal("2500000.00"), Decimal("2000000.00"))

    await reverse(workflow, received)
    restored = await row(workflow, LoanView, account)
    assert (restored.outstanding, restored.due_amount) == (Decimal("10000000.00"), Decimal("2000000.00"))


async def test_a_payment_stored_before_applied_amounts_were_kept_puts_back_its_full_amount(
    workflow, bank_sync, unique
):
    cif, account = await loan_in_view(
        workflow, bank_sync, unique, outstanding=Decimal("10000000.00"), due_amount=Decimal("2000000.00")
    )
    received = await pay(workflow, unique("PAY"), cif, account, "500000.00")
    async with workflow.app.state.db.transaction() as session:  # as a row written before migration 0004
        await session.execute(
            update(PaymentView)
            .where(PaymentView.reference_number == received.payment_reference_number)
            .values(applied_outstanding=None, applied_due=None)
        )
    await reverse(workflow, received)
    restored = await row(workflow, LoanView, account)
    assert (restored.outstanding, restored.due_amount) == (Decimal("10000000.00"), Decimal("2000000.00"))


async def test_a_payment_in_another_currency_takes_nothing_and_its_reversal_puts_nothing_back(
    workflow, bank_sync, unique
):
    cif, account = await loan_in_view(
        workflow, bank_sync, unique, outstanding=Decimal("10000000.00"), due_amount=Decimal("2000000.00")
    )
    received = payment("PAYMENT_RECEIVED", unique("PAY"), cif, account, "100.00").model_copy(
        update={"currency": "USD"}
    )
    await publish(workflow, received)
    stored = await eventually(lambda: row(workflow, PaymentView, received.payment_reference_number))
    assert (stored.applied_outstanding, stored.applied_due) == (Decimal("0.00"), Decimal("0.00"))
    await reverse(workflow, received)
    loan = await row(workflow, LoanView, account)
    assert (loan.outstanding, loan.due_amount) == (Decimal("10000000.00"), Decimal("2000000.00"))


async def test_announcing_what_bank_sync_holds_fills_a_view_that_never_heard_of_it(
    workflow, bank_sync, unique
):
    """Workflow deployed after bank-sync already held data: no load will name records that do not
    change, so ``crm sync-announce`` names them all, in chunks, and the view fills itself."""
    keys = [(unique("CIF"), unique("LN")) for _ in range(5)]
    for cif, account in keys:  # stored without events, as if loaded before workflow followed them
        await add_customer_with_loan(bank_sync.app, cif, account, source_system="OTHER", dpd=40)
    assert await row(workflow, LoanView, keys[0][1]) is None

    announced = await announce(bank_sync.app.state.db, bank_sync.app.state.outbox, sources=["OTHER"], chunk=2)

    async with bank_sync.app.state.db.transaction() as session:
        payloads = (
            await session.execute(
                select(platform_tables.outbox.c.payload).where(
                    platform_tables.outbox.c.payload.like(f'%"runId":"{announced.run_id}"%')
                )
            )
        ).scalars()
        events = [SyncEvent.model_validate_json(p) for p in payloads]
    named: dict[str, list[str]] = {"customers": [], "loans": []}
    for event in events:
        assert event.source_system == "OTHER" and len(event.affected_records or []) <= 2
        named[event.entity_type].extend(event.affected_records or [])
    for entity, expected in (("customers", [c for c, _ in keys]), ("loans", [a for _, a in keys])):
        assert announced.records[entity] == len(named[entity]) == len(set(named[entity]))  # once each
        assert set(expected) <= set(named[entity])

    for cif, account in keys:
        loan = await eventually(lambda account=account: row(workflow, LoanView, account))
        assert (loan.cif, loan.dpd) == (cif, 40)
        assert (await eventually(lambda cif=cif: row(workflow, CustomerView, cif))).name == "Nguyen Van An"


# The snapshot's cut: a nightly load on business day S includes the payments made before S.

BUSINESS_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def business_day_start(days_ago: int) -> datetime:
    """Midnight, business time, ``days_ago`` days before today's business date."""
    day = datetime.now(BUSINESS_TZ).date() - timedelta(days=days_ago)
    return datetime.combine(day, time.min, tzinfo=BUSINESS_TZ)


async def core_snapshot(
    workflow, bank_sync, account: str, synced_at: datetime, **balances: Decimal
) -> LoanView:
    """The core's next snapshot of the loan, read by a sync run at ``synced_at``, now in loan_view."""
    async with bank_sync.app.state.db.transaction() as session:
        await session.execute(
            update(Loan).where(Loan.account_number == account).values(last_synced_at=synced_at, **balances)
        )
    await publish(workflow, loans_updated(account))

    async def stored() -> LoanView | None:
        loan = await row(workflow, LoanView, account)
        return loan if loan is not None and loan.synced_at == synced_at else None

    return await eventually(stored)


async def test_a_core_payment_the_nights_snapshot_already_includes_is_not_taken_off_twice(
    workflow, bank_sync, unique
):
    cif, account = await loan_in_view(workflow, bank_sync, unique)
    # Tonight's load: yesterday's payment of 500,000 is in the core's balances.
    await core_snapshot(
        workflow,
        bank_sync,
        account,
        business_day_start(0) + timedelta(minutes=90),
        outstanding=Decimal("9500000.00"),
        due_amount=Decimal("1500000.00"),
    )
    # Then the core's payments of yesterday are imported: the same payment, workflow's first word of it.
    yesterday = await pay(
        workflow,
        unique("PAY"),
        cif,
        account,
        "500000.00",
        paid_at=business_day_start(1) + timedelta(hours=15),
    )
    stored = await row(workflow, PaymentView, yesterday.payment_reference_number)
    assert (stored.status, stored.applied_outstanding, stored.applied_due) == (
        "RECEIVED",
        Decimal("0.00"),
        Decimal("0.00"),
    )
    loan = await row(workflow, LoanView, account)
    assert (loan.outstanding, loan.due_amount) == (Decimal("9500000.00"), Decimal("1500000.00"))

    # A payment made today is not in that snapshot: it is taken off.
    await pay(workflow, unique("PAY"), cif, account, "200000.00")
    loan = await row(workflow, LoanView, account)
    assert (loan.outstanding, loan.due_amount) == (Decimal("9300000.00"), Decimal("1300000.00"))

    # Its reversal puts back what it took here (nothing): the core's next snapshot has the reversal.
    await reverse(workflow, yesterday)
    loan = await row(workflow, LoanView, account)
    assert (loan.outstanding, loan.due_amount) == (Decimal("9300000.00"), Decimal("1300000.00"))

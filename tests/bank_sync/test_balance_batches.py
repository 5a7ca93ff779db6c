"""A batch of payment events moves the balances exactly as the same events applied one by one.

The loan-balance consumer applies a fetched batch with a few set-based statements
(``crm.bank_sync.loans.balances``). Random batches (hypothesis) of payments and reversals over three
loans of small balances, so that the never-below-zero clamps, repeats, reversals before their payment,
another currency, payments the snapshot already includes and unknown loans all occur, are applied
twice on identical loans: as one batch in one transaction, and one event per transaction. Balances,
what each payment took, which were reversed and each event's answer must be equal.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from crm.bank_sync.loans.balances import RECEIVED, REVERSED, Move, move_balances
from crm.bank_sync.loans.models import Loan, LoanPaymentApplied
from crm.bank_sync.models import platform_tables
from crm.platform.events import PaymentEvent
from tests.bank_sync.test_customers_loans import add_customer_with_loan

BUSINESS_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# add_customer_with_loan's loans were read on 2026-11-28 (business day): payments before its start
# (2026-11-27T17:00Z) are in the snapshot.
IN_SNAPSHOT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SINCE_SNAPSHOT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LOANS = [  # (outstanding, due, currency); the fourth loan index is a loan nobody knows
    (Decimal("1000.00"), Decimal("400.00"), "VND"),
    (Decimal("250.00"), Decimal("250.00"), "VND"),
    (Decimal("90.00"), Decimal("0.00"), "USD"),
]

moves = st.lists(
    st.tuples(
        st.sampled_from([RECEIVED, RECEIVED, RECEIVED, REVERSED]),
        st.integers(0, 5),  # which payment (a reference number)
        st.integers(0, 3),  # which loan (3: unknown)
        st.sampled_from(["0.01", "50.00", "150.00", "333.33", "600.00", "1500.00", "0.00"]),
        st.sampled_from(["VND", "VND", "USD"]),
        st.booleans(),  # paid before the snapshot's cut
    ),
    min_size=1,
    max_size=25,
)


async def _loans(app, unique, copy: str) -> list[str]:
    cif = unique(f"CIF{copy}")
    accounts = []
    for n, (outstanding, due, currency) in enumerate(LOANS):
        account = unique(f"LN{copy}{n}")
        values = {"outstanding": outstanding, "due_amount": due, "remaining_amount": outstanding - due}
        await add_customer_with_loan(app, f"{cif}-{n}", account, currency=currency, **values)
        accounts.append(account)
    return [*accounts, unique(f"LN{copy}-unknown")]


def _moves(drawn: list[tuple[Any, ...]], accounts: list[str], prefix: str) -> list[Move]:
    made = []
    for kind, payment, loan, amount, currency, early in drawn:
        made.append(
            Move(
                kind,
                f"{prefix}-{payment}",
                accounts[loan],
                Decimal(amount),
                currency,
                IN_SNAPSHOT if early else SINCE_SNAPSHOT,
            )
        )
    # The consumer's lock order: by loan, a stable sort.
    return sorted(made, key=lambda m: m.account)


async def _state(app, accounts: list[str], prefix: str) -> tuple[list[Any], list[Any]]:
    async with app.state.db.transaction() as session:
        balances = (
            await session.execute(
                select(Loan.outstanding, Loan.due_amount, Loan.remaining_amount, Loan.sync_hash.is_(None))
                .where(Loan.account_number.in_(accounts))
                .order_by(Loan.account_number)
            )
        ).all()
        applied = (
            await session.execute(
                select(
                    func.replace(LoanPaymentApplied.payment_reference_number, prefix, ""),
                    LoanPaymentApplied.applied_outstanding,
                    LoanPaymentApplied.applied_due,
                    LoanPaymentApplied.reversed_at.is_not(None),
                )
                .where(LoanPaymentApplied.payment_reference_number.like(f"{prefix}-%"))
                .order_by(LoanPaymentApplied.payment_reference_number)
            )
        ).all()
    return [tuple(b) for b in balances], [tuple(a) for a in applied]


async def _compare(app, unique, drawn: list[tuple[Any, ...]]) -> None:
    together_loans, alone_loans = await _loans(app, unique, "B"), await _loans(app, unique, "S")
    together_ref, alone_ref = unique("PB"), unique("PS")
    together = _moves(drawn, together_loans, together_ref)
    alone = _moves(drawn, alone_loans, alone_ref)
    async with app.state.db.transaction() as session:
        answers = await move_balances(session, together, tz=BUSINESS_TZ)
    one_by_one = []
    for move in alone:
        async with app.state.db.transaction() as session:
            one_by_one.extend(await move_balances(session, [move], tz=BUSINESS_TZ))
    assert answers == one_by_one
    balances_b, applied_b = await _state(app, together_loans, together_ref)
    balances_s, applied_s = await _state(app, alone_loans, alone_ref)
    assert balances_b == balances_s
    assert applied_b == applied_s


async def test_a_random_batch_moves_balances_as_its_events_one_by_one(bank_sync, unique):
    app = bank_sync.app
    loop = asyncio.get_running_loop()

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(moves)
    def check(drawn: list[tuple[Any, ...]]) -> None:
        # hypothesis drives a plain function: each example runs on the test's event loop.
        asyncio.run_coroutine_threadsafe(_compare(app, unique, drawn), loop).result(timeout=60)

    await asyncio.to_thread(check)


async def test_a_batch_writes_one_audit_row_per_balance_moved(bank_sync, unique):
    app = bank_sync.app
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(app, cif, account)
    first, second = unique("PAY"), unique("PAY")
    batch = [
        Move(RECEIVED, first, account, Decimal("100.00"), "VND", SINCE_SNAPSHOT),
        Move(RECEIVED, second, account, Decimal("50.00"), "VND", SINCE_SNAPSHOT),
        Move(REVERSED, first, account, Decimal("100.00"), "VND", SINCE_SNAPSHOT),
    ]
    async with app.state.db.transaction() as session:
        assert await move_balances(session, batch, tz=BUSINESS_TZ) == [True, True, True]
    audit = platform_tables.audit_log
    async with app.state.db.transaction() as session:
        rows = (
            await session.execute(
                select(audit.c.before, audit.c.after)
                .where(
                    audit.c.entity_type == "Loan", audit.c.entity_key == account, audit.c.action == "UPDATE"
                )
                .order_by(audit.c.id)
            )
        ).all()
    steps = [(row.before["outstanding"], row.after["outstanding"]) for row in rows]
    assert steps == [
        ("10000000.00", "9999900.00"),
        ("9999900.00", "9999850.00"),
        ("9999850.00", "9999950.00"),
    ]
    assert rows[-1].after["due_amount"] == "1999950.00" and rows[-1].after["updated_by"] == "SYSTEM"


async def test_a_poison_payment_in_a_batch_is_dead_lettered_alone_and_the_others_applied_once(
    bank_sync, unique
):
    """A payment the database refuses (here a trigger refuses its reference) fails its batch; the
    batch is applied again event by event: the others move their loans once, the poison one goes to
    the dead letters."""
    app = bank_sync.app
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(app, cif, account)
    poison = unique("POISON")
    good = [unique("PAY") for _ in range(6)]
    async with app.state.db.transaction() as session:
        await session.execute(
            text(
                "CREATE OR REPLACE FUNCTION bank_sync.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF NEW.payment_reference_number LIKE 'POISON%' THEN "
                "RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$"
            )
        )
        await session.execute(
            text(
                "CREATE OR REPLACE TRIGGER refuse_poison BEFORE INSERT ON bank_sync.loan_payment_applied "
                "FOR EACH ROW EXECUTE FUNCTION bank_sync.refuse_poison()"
            )
        )
    runner = next(r for r in app.state.consumers if r.consumer.name == "loan-balance")
    dead_letters = await app.state.bus.nc.subscribe("crm.dead_letter.bank-sync.loan-balance")
    await runner.stop()  # the durable keeps its position: the restarted runner fetches all as one batch
    try:
        events = [
            PaymentEvent(
                type="PAYMENT_RECEIVED",
                payment_reference_number=ref,
                loan_account_number=account,
                cif=cif,
                amount=Decimal("1000.00"),
                status="COMPLETED",
                payment_date=SINCE_SNAPSHOT,
            )
            for ref in [*good[:3], poison, *good[3:]]
        ]
        for event in [*events, events[1]]:  # and a repeat of one of them in the same batch
            await app.state.bus.publish(
                event.subject, event.to_json(), msg_id=f"{event.event_id}-{unique('m')}"
            )
        runner.start()
        letter = await dead_letters.next_msg(timeout=30)
        assert json.loads(letter.data)["paymentReferenceNumber"] == poison
        async with app.state.db.transaction() as session:
            outstanding = await session.scalar(select(Loan.outstanding).where(Loan.account_number == account))
            applied = await session.scalar(
                select(func.count()).where(LoanPaymentApplied.loan_account_number == account)
            )
        assert outstanding == Decimal("10000000.00") - 6 * Decimal("1000.00"), "each good payment once"
        assert applied == 6
    finally:
        await dead_letters.unsubscribe()
        async with app.state.db.transaction() as session:
            await session.execute(
                text("DROP TRIGGER IF EXISTS refuse_poison ON bank_sync.loan_payment_applied")
            )
            await session.execute(text("DROP FUNCTION IF EXISTS bank_sync.refuse_poison()"))
        if runner._task is None or runner._task.done():
            runner.start()

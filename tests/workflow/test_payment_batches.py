"""A batch of payment events leaves workflow's read model and promises as its events one by one.

Workflow's payments consumer records a fetched batch with a few set-based statements
(``crm.workflow.readmodel.payments``) and settles the promises it counts for once
(``promises.service.reevaluate_for_payments``). Random batches (hypothesis) of payments and reversals
of one customer's two loans in the view (small balances, so the clamps bite), a loan not in the view,
another currency and payments the snapshot includes, with three promises (one per loan, one for the
customer, one whose date has passed), are applied on identical copies: as one batch, and one event per
transaction. Balances, payments (status, what each took) and every promise's status must be equal.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crm.platform.events import PaymentEvent
from crm.workflow.actions.models import ActionRecord
from crm.workflow.promises.service import reevaluate_for_payments
from crm.workflow.readmodel.models import LoanView, PaymentView
from crm.workflow.readmodel.payments import record_payments
from tests.workflow.test_promises import events_about, new_agent, promise

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # the business day 2026-12-04, set for the promises
SYNCED = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # the loans' snapshot: cut at 2026-11-27T17:00Z
IN_SNAPSHOT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SINCE_SNAPSHOT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
MADE = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
LOANS = [(Decimal("1000.00"), Decimal("400.00"), "VND"), (Decimal("120.00"), Decimal("120.00"), "VND")]
PROMISES = [  # (loan index or None, amount, promise date)
    (0, "300.00", date(2030, 1, 1)),
    (None, "500.00", date(2030, 1, 1)),
    (1, "100.00", date(2026, 12, 1)),  # passed: a reversal breaks it rather than reopening it
]

events = st.lists(
    st.tuples(
        st.sampled_from(["PAYMENT_RECEIVED", "PAYMENT_RECEIVED", "PAYMENT_REVERSED"]),
        st.integers(0, 5),  # which payment
        st.integers(0, 2),  # which loan (2: not in the view)
        st.sampled_from(["0.01", "40.00", "100.00", "260.00", "700.00"]),
        st.sampled_from(["VND", "VND", "VND", "USD"]),
        st.booleans(),  # made before the snapshot's cut
    ),
    min_size=1,
    max_size=20,
)


async def _copy(workflow, agent_id: uuid.UUID, unique, name: str) -> tuple[str, list[str], list[uuid.UUID]]:
    cif = unique(f"CIF{name}")
    accounts = [unique(f"LN{name}{n}") for n in range(len(LOANS))]
    async with workflow.app.state.db.transaction() as session:
        for account, (outstanding, due, currency) in zip(accounts, LOANS, strict=True):
            session.add(
                LoanView(
                    account_number=account,
                    cif=cif,
                    product_type="PERSONAL",
                    currency=currency,
                    outstanding=outstanding,
                    due_amount=due,
                    dpd=20,
                    status="OPEN",
                    synced_at=SYNCED,
                )
            )
    promises = [
        await promise(
            workflow, agent_id, cif, amount, day, MADE, loan=None if loan is None else accounts[loan]
        )
        for loan, amount, day in PROMISES
    ]
    return cif, [*accounts, unique(f"LN{name}-away")], promises


def _events(drawn: list[tuple[Any, ...]], cif: str, accounts: list[str], prefix: str) -> list[PaymentEvent]:
    made = [
        PaymentEvent(
            type=kind,
            payment_reference_number=f"{prefix}-{n}",
            loan_account_number=accounts[loan],
            cif=cif,
            amount=Decimal(amount),
            currency=currency,
            status="REVERSED" if kind == "PAYMENT_REVERSED" else "RECEIVED",
            payment_date=IN_SNAPSHOT if early else SINCE_SNAPSHOT,
        )
        for kind, n, loan, amount, currency, early in drawn
    ]
    return sorted(made, key=lambda e: e.loan_account_number)  # the consumer's lock order: customer, loan


async def _apply(workflow, events: list[PaymentEvent]) -> None:
    async with workflow.app.state.db.transaction() as session:
        changed = await record_payments(session, events, tz=TZ)
        await reevaluate_for_payments(session, workflow.app.state.outbox, changed, tz=TZ, now=NOW)


async def _state(workflow, accounts: list[str], prefix: str, promises: list[uuid.UUID]) -> tuple[Any, ...]:
    async with workflow.app.state.db.transaction() as session:
        balances = (
            await session.execute(
                select(LoanView.outstanding, LoanView.due_amount)
                .where(LoanView.account_number.in_(accounts))
                .order_by(LoanView.account_number)
            )
        ).all()
        payments = (
            await session.execute(
                select(
                    func.replace(PaymentView.reference_number, prefix, ""),
                    PaymentView.status,
                    PaymentView.applied_outstanding,
                    PaymentView.applied_due,
                )
                .where(PaymentView.reference_number.like(f"{prefix}-%"))
                .order_by(PaymentView.reference_number)
            )
        ).all()
        statuses = [
            await session.scalar(select(ActionRecord.promise_status).where(ActionRecord.id == p))
            for p in promises
        ]
    return [tuple(b) for b in balances], [tuple(p) for p in payments], statuses


async def _compare(workflow, agent_id: uuid.UUID, unique, drawn: list[tuple[Any, ...]]) -> None:
    cif_b, loans_b, promises_b = await _copy(workflow, agent_id, unique, "B")
    cif_s, loans_s, promises_s = await _copy(workflow, agent_id, unique, "S")
    ref_b, ref_s = unique("PB"), unique("PS")
    await _apply(workflow, _events(drawn, cif_b, loans_b, ref_b))
    for event in _events(drawn, cif_s, loans_s, ref_s):
        await _apply(workflow, [event])
    assert await _state(workflow, loans_b, ref_b, promises_b) == await _state(
        workflow, loans_s, ref_s, promises_s
    )


async def test_a_random_batch_leaves_balances_payments_and_promises_as_its_events_one_by_one(
    workflow, token_for, unique
):
    agent_id = await new_agent(workflow, token_for, unique)
    loop = asyncio.get_running_loop()

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(events)
    def check(drawn: list[tuple[Any, ...]]) -> None:
        asyncio.run_coroutine_threadsafe(_compare(workflow, agent_id, unique, drawn), loop).result(timeout=60)

    await asyncio.to_thread(check)


async def test_a_batch_settles_a_promise_once_with_every_payment_counted(workflow, token_for, unique):
    """Two partial payments in one batch keep a promise: one PROMISE_KEPT, with both paid."""
    agent_id = await new_agent(workflow, token_for, unique)
    cif, accounts, (first, for_customer, _) = await _copy(workflow, agent_id, unique, "K")
    batch = [
        PaymentEvent(
            type="PAYMENT_RECEIVED",
            payment_reference_number=unique("P"),
            loan_account_number=accounts[0],
            cif=cif,
            amount=Decimal(amount),
            currency="VND",
            status="RECEIVED",
            payment_date=SINCE_SNAPSHOT,
        )
        for amount in ("200.00", "150.00")
    ]
    await _apply(workflow, batch)
    kept = await events_about(workflow, first)
    assert [e["type"] for e in kept] == ["PROMISE_KEPT"]
    assert kept[0]["details"]["paidAmount"] == "350.00"
    assert await events_about(workflow, for_customer) == [], "500.00 promised, 350.00 paid: still open"

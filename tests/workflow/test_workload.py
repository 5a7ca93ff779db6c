"""An agent's workload, performance and call queue, read from workflow's own tables.

The data is written straight through the models (the routes that write it are built elsewhere);
the clock of the routes is fixed so that "today" is a known business day.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from crm.platform.auth import Role
from crm.workflow.actions.models import ActionRecord
from crm.workflow.assignments.models import CustomerAgent
from crm.workflow.readmodel.models import CustomerView, LoanView, PaymentView
from crm.workflow.workload.router import clock
from tests.workflow.test_agents import agent

TODAY = date(2026, 3, 16)


@pytest.fixture
def tz(workflow):
    return workflow.app.state.settings.tz


@pytest.fixture
def now(workflow, tz) -> Iterator[datetime]:
    """The routes' clock, fixed at 10:00 business time on TODAY."""
    fixed = datetime.combine(TODAY, time(10, 0), tzinfo=tz)
    workflow.app.dependency_overrides[clock] = lambda: fixed
    yield fixed
    workflow.app.dependency_overrides.pop(clock, None)


def at(tz, day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A business-time instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


async def new_agent(workflow, token_for, unique) -> str:
    r = await workflow.post("/api/agents", json=agent(unique("EMP")), headers=token_for(Role.ADMIN))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def store(workflow, *rows: Any) -> None:
    async with workflow.app.state.db.transaction() as session:
        session.add_all(rows)


def assigned(
    cif: str,
    *,
    call: str | None = None,
    field: str | None = None,
    start: datetime,
    end: datetime | None = None,
) -> CustomerAgent:
    return CustomerAgent(
        cif=cif,
        assigned_call_agent_id=uuid.UUID(call) if call else None,
        assigned_field_agent_id=uuid.UUID(field) if field else None,
        start_date=start,
        end_date=end,
        is_current=end is None,
        created_by="test",
    )


def loan(cif: str, account: str, *, dpd: int, due: str, outstanding: str, currency: str = "VND") -> LoanView:
    return LoanView(
        account_number=account,
        cif=cif,
        product_type="PERSONAL",
        currency=currency,
        outstanding=Decimal(outstanding),
        due_amount=Decimal(due),
        dpd=dpd,
        status="ACTIVE",
    )


def action(
    cif: str,
    agent_id: str,
    when: datetime,
    *,
    type: str = "CALL",
    result: str = "NO_ANSWER",
    promise: tuple[str, date] | None = None,
    status: str | None = None,
    settled_at: datetime | None = None,
    follow_up: date | None = None,
    loan_account: str | None = None,
) -> ActionRecord:
    return ActionRecord(
        cif=cif,
        loan_account_number=loan_account,
        agent_id=uuid.UUID(agent_id),
        type=type,
        action_result=result,
        action_date=when,
        promise_amount=Decimal(promise[0]) if promise else None,
        promise_date=promise[1] if promise else None,
        promise_status=(status or "OPEN") if promise else None,
        promise_settled_at=settled_at,
        follow_up_date=follow_up,
        created_by="test",
        updated_by="test",
    )


def payment(cif: str, account: str, amount: str, when: datetime, status: str = "RECEIVED") -> PaymentView:
    return PaymentView(
        reference_number=f"REF-{uuid.uuid4().hex}",
        cif=cif,
        loan_account_number=account,
        amount=Decimal(amount),
        currency="VND",
        payment_date=when,
        status=status,
    )


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


async def test_workload_counts_current_customers_and_todays_actions(workflow, token_for, unique, tz, now):
    a = await new_agent(workflow, token_for, unique)
    b = await new_agent(workflow, token_for, unique)
    called, visited, moved_away, other = (unique("CIF") for _ in range(4))
    long_ago = at(tz, date(2026, 1, 5), 9)
    yesterday = TODAY - timedelta(days=1)
    await store(
        workflow,
        assigned(called, call=a, start=long_ago),
        assigned(visited, call=b, field=a, start=long_ago),
        assigned(moved_away, call=a, start=long_ago, end=at(tz, date(2026, 3, 1), 8)),
        assigned(moved_away, call=b, start=at(tz, date(2026, 3, 1), 8)),
        assigned(other, call=b, start=long_ago),
        loan(called, unique("LN"), dpd=12, due="1000000.00", outstanding="10000000.00"),
        loan(called, unique("LN"), dpd=40, due="500000.50", outstanding="5000000.25"),
        loan(visited, unique("LN"), dpd=5, due="100.25", outstanding="1000.50", currency="USD"),
        loan(visited, unique("LN"), dpd=5, due="200000.00", outstanding="3000000.00"),
        loan(moved_away, unique("LN"), dpd=90, due="9000000.00", outstanding="90000000.00"),
        loan(other, unique("LN"), dpd=90, due="7000000.00", outstanding="70000000.00"),
        # Actions by A: the first instant of today counts, the last minute of yesterday does not;
        # an action today on a customer that is no longer A's still is A's action.
        action(called, a, at(tz, TODAY, 0, 0)),
        action(moved_away, a, at(tz, TODAY, 9, 30)),
        action(called, a, at(tz, yesterday, 23, 59)),
        action(called, b, at(tz, TODAY, 8)),
        # Promises: OPEN ones on A's current customers, whoever recorded them.
        action(called, a, long_ago, result="PROMISE_TO_PAY", promise=("300000", TODAY)),
        action(visited, b, long_ago, result="PROMISE_TO_PAY", promise=("50", TODAY + timedelta(days=3))),
        action(moved_away, a, long_ago, result="PROMISE_TO_PAY", promise=("100000", TODAY)),
        action(
            called,
            a,
            long_ago,
            result="PROMISE_TO_PAY",
            promise=("200000", date(2026, 1, 10)),
            status="KEPT",
            settled_at=at(tz, date(2026, 1, 10), 12),
        ),
    )

    r = await workflow.get(f"/api/agents/{a}/workload", headers=token_for(Role.SUPERVISOR))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "agentId": a,
        "businessDate": "2026-03-16",
        "assignedCustomers": 2,
        "totals": [
            {"currency": "USD", "outstanding": "1000.50", "due": "100.25"},
            {"currency": "VND", "outstanding": "18000000.25", "due": "1700000.50"},
        ],
        "actionsToday": 2,
        "openPromises": 2,
        "promisesDueToday": 1,
    }

    own = await workflow.get(f"/api/agents/{a}/workload", headers=token_for(Role.AGENT, agent_id=a))
    assert own.status_code == 200 and own.json()["assignedCustomers"] == 2
    b_view = await workflow.get(f"/api/agents/{b}/workload", headers=token_for(Role.ADMIN))
    assert b_view.json()["assignedCustomers"] == 3 and b_view.json()["actionsToday"] == 1


async def test_amount_collected_follows_the_assignment_history(workflow, token_for, unique, tz, now):
    a = await new_agent(workflow, token_for, unique)
    b = await new_agent(workflow, token_for, unique)
    cif, account = unique("CIF"), unique("LN")
    moved = at(tz, date(2026, 3, 10), 10)
    await store(
        workflow,
        assigned(cif, call=a, start=at(tz, date(2026, 2, 20), 9), end=moved),
        assigned(cif, field=b, start=moved),
        payment(cif, account, "50000.00", at(tz, date(2026, 2, 25), 9)),  # A's, but before the range
        payment(cif, account, "1000000.00", at(tz, date(2026, 3, 5), 9)),  # A
        payment(cif, account, "200000.00", at(tz, date(2026, 3, 10), 9, 59)),  # A, just before the move
        payment(cif, account, "300000.00", moved),  # B, from the instant of the move
        payment(cif, account, "400000.00", at(tz, date(2026, 3, 20), 15)),  # B
        payment(cif, account, "900000.00", at(tz, date(2026, 3, 6), 15), status="REVERSED"),  # nobody
        payment(cif, account, "800000.00", at(tz, date(2026, 3, 21), 15), status="REVERSED"),  # nobody
        payment(cif, account, "700000.00", at(tz, date(2026, 4, 1), 0)),  # B, after the range
    )
    supervisor = token_for(Role.SUPERVISOR)

    async def collected(agent_id: str) -> list[dict]:
        r = await workflow.get(
            f"/api/agents/{agent_id}/performance?from=2026-03-01&to=2026-03-31", headers=supervisor
        )
        assert r.status_code == 200, r.text
        assert r.json()["from"] == "2026-03-01" and r.json()["to"] == "2026-03-31"
        return r.json()["amountCollected"]

    assert await collected(a) == [{"currency": "VND", "amount": "1200000.00"}]
    assert await collected(b) == [{"currency": "VND", "amount": "700000.00"}]


async def test_performance_counts_actions_contacts_and_kept_promises(workflow, token_for, unique, tz, now):
    a = await new_agent(workflow, token_for, unique)
    other = await new_agent(workflow, token_for, unique)
    cif, dollar_cif, dollar_loan = unique("CIF"), unique("CIF"), unique("LN")
    feb = at(tz, date(2026, 2, 25), 10)

    def settled(status: str, day: date) -> ActionRecord:
        return action(
            cif,
            a,
            feb,
            result="PROMISE_TO_PAY",
            promise=("100000", day),
            status=status,
            settled_at=at(tz, day, 0, 5),
        )

    await store(
        workflow,
        action(cif, a, at(tz, date(2026, 2, 28), 23, 59), result="CONTACTED"),  # before the range
        action(cif, a, at(tz, date(2026, 3, 1), 0, 0), result="CONTACTED"),
        action(cif, a, at(tz, date(2026, 3, 2), 11), result="NO_ANSWER"),
        action(
            cif,
            a,
            at(tz, date(2026, 3, 5), 14),
            result="PROMISE_TO_PAY",
            promise=("250000", date(2026, 3, 8)),
            status="KEPT",
            settled_at=at(tz, date(2026, 3, 9), 0, 5),
        ),
        action(cif, a, at(tz, date(2026, 3, 31), 23, 59), type="VISIT", result="NOT_HOME"),
        action(cif, a, at(tz, date(2026, 4, 1), 0, 0), result="CONTACTED"),  # after the range
        action(cif, other, at(tz, date(2026, 3, 3), 9), result="CONTACTED"),  # someone else's
        # Made in February, settled in March: they count for March's kept rate.
        settled("KEPT", date(2026, 3, 2)),
        settled("KEPT", date(2026, 3, 3)),
        settled("BROKEN", date(2026, 3, 4)),
        settled("KEPT", date(2026, 2, 27)),  # settled before the range
        action(cif, a, feb, result="PROMISE_TO_PAY", promise=("100000", date(2026, 3, 20))),  # still OPEN
        loan(dollar_cif, dollar_loan, dpd=10, due="40.00", outstanding="900.00", currency="USD"),
        action(
            dollar_cif,
            a,
            at(tz, date(2026, 3, 6), 9),
            result="PROMISE_TO_PAY",
            promise=("40.50", date(2026, 3, 9)),
            loan_account=dollar_loan,
        ),
    )

    r = await workflow.get(
        f"/api/agents/{a}/performance?from=2026-03-01&to=2026-03-31",
        headers=token_for(Role.AGENT, agent_id=a),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["actionsTotal"] == 5
    assert body["actionsByType"] == {"CALL": 4, "VISIT": 1}
    assert body["actionsByResult"] == {"CONTACTED": 1, "NOT_HOME": 1, "NO_ANSWER": 1, "PROMISE_TO_PAY": 2}
    assert body["contacts"] == 3 and body["contactRate"] == "0.6000"
    assert body["promisesMade"] == 2
    assert body["amountPromised"] == [
        {"currency": "USD", "amount": "40.50"},
        {"currency": "VND", "amount": "250000.00"},
    ]
    assert body["promisesKept"] == 3 and body["promisesBroken"] == 1 and body["keptRate"] == "0.7500"
    assert body["amountCollected"] == []

    quiet = await workflow.get(
        f"/api/agents/{a}/performance?from=2025-01-01&to=2025-01-31", headers=token_for(Role.ADMIN)
    )
    assert quiet.status_code == 200
    assert quiet.json()["actionsTotal"] == 0
    assert quiet.json()["contactRate"] is None and quiet.json()["keptRate"] is None


async def test_bad_performance_range_is_422_naming_the_field(workflow, token_for, unique, now):
    a = await new_agent(workflow, token_for, unique)
    headers = token_for(Role.SUPERVISOR)
    cases = {
        "from=2026-03-10&to=2026-03-09": "from",
        "from=2025-01-01&to=2026-01-02": "to",
        "from=yesterday&to=2026-03-09": "from",
        "from=2026-03-01&to=2026-02-30": "to",
    }
    for query, field in cases.items():
        r = await workflow.get(f"/api/agents/{a}/performance?{query}", headers=headers)
        problem = _problem(r, 422)
        assert [e["field"] for e in problem["errors"]] == [field], query

    leap_year = await workflow.get(
        f"/api/agents/{a}/performance?from=2024-01-01&to=2024-12-31", headers=headers
    )
    assert leap_year.status_code == 200, leap_year.text


async def test_queue_orders_by_reason_then_dpd_then_due(workflow, token_for, unique, tz, now):
    q = await new_agent(workflow, token_for, unique)
    someone = await new_agent(workflow, token_for, unique)
    names = [
        "promise_due",
        "broken",
        "broken_old",
        "broken_renewed",
        "follow_up",
        "dpd60",
        "dpd30_small",
        "dpd30_big",
        "dpd30_small_twin",
        "contacted_today",
        "tried_today",
        "current",
        "moved_away",
    ]
    # cif order goes against the expected order where due decides (dpd30_small sorts before dpd30_big)
    base = unique("Q")
    cif = {n: f"{base}-{i:02d}" for i, n in enumerate(names)}
    start = at(tz, date(2026, 1, 2), 9)
    rows: list[Any] = []
    for n in names:
        if n == "moved_away":
            rows.append(assigned(cif[n], call=q, start=start, end=at(tz, date(2026, 3, 1), 9)))
            rows.append(assigned(cif[n], call=someone, start=at(tz, date(2026, 3, 1), 9)))
        else:
            rows.append(assigned(cif[n], call=q, start=start))
    dpd_due = {
        "promise_due": (5, "100.00"),
        "broken": (10, "200.00"),
        "broken_old": (3, "300.00"),
        "broken_renewed": (1, "400.00"),
        "follow_up": (0, "0.00"),
        "dpd60": (60, "1000.00"),
        "dpd30_small": (30, "500.00"),
        "dpd30_big": (30, "800.00"),
        "dpd30_small_twin": (30, "500.00"),
        "contacted_today": (90, "9000.00"),
        "tried_today": (45, "450.00"),
        "current": (0, "0.00"),
        "moved_away": (100, "10000.00"),
    }
    for n, (dpd, due) in dpd_due.items():
        rows.append(loan(cif[n], unique("LN"), dpd=dpd, due=due, outstanding="100000.00"))
    rows.append(loan(cif["dpd60"], unique("LN"), dpd=2, due="1.00", outstanding="50.00"))
    rows.append(CustomerView(cif=cif["dpd60"], name="Trần Thị Bình"))
    two_days_ago = TODAY - timedelta(days=2)
    week_ago = at(tz, date(2026, 2, 20), 9)
    rows += [
        action(cif["promise_due"], someone, week_ago, result="PROMISE_TO_PAY", promise=("75000", TODAY)),
        action(
            cif["broken"],
            q,
            week_ago,
            result="PROMISE_TO_PAY",
            promise=("60000", two_days_ago),
            status="BROKEN",
            settled_at=at(tz, TODAY - timedelta(days=1), 0, 5),
        ),
        action(
            cif["broken_old"],
            q,
            week_ago,
            result="PROMISE_TO_PAY",
            promise=("60000", date(2026, 3, 5)),
            status="BROKEN",
            settled_at=at(tz, date(2026, 3, 6), 0, 5),
        ),
        action(
            cif["broken_renewed"],
            q,
            week_ago,
            result="PROMISE_TO_PAY",
            promise=("60000", two_days_ago),
            status="BROKEN",
            settled_at=at(tz, TODAY - timedelta(days=1), 0, 5),
        ),
        action(
            cif["broken_renewed"],
            q,
            at(tz, TODAY - timedelta(days=1), 10),
            result="PROMISE_TO_PAY",
            promise=("60000", TODAY + timedelta(days=5)),
        ),
        action(
            cif["follow_up"],
            q,
            at(tz, date(2026, 3, 12), 15),
            result="CONTACTED",
            follow_up=date(2026, 3, 15),
        ),
        action(
            cif["dpd30_big"],
            q,
            at(tz, date(2026, 3, 10), 15),
            result="CONTACTED",
            follow_up=TODAY + timedelta(1),
        ),
        action(cif["contacted_today"], someone, at(tz, TODAY, 8), result="CONTACTED"),
        action(cif["tried_today"], q, at(tz, TODAY, 8, 30), result="NO_ANSWER"),
    ]
    await store(workflow, *rows)

    expected = [
        ("promise_due", "PROMISE_DUE_TODAY"),
        ("broken", "PROMISE_BROKEN"),
        ("follow_up", "FOLLOW_UP_DUE"),
        ("dpd60", "DELINQUENT"),
        ("tried_today", "DELINQUENT"),
        ("dpd30_big", "DELINQUENT"),
        ("dpd30_small", "DELINQUENT"),
        ("dpd30_small_twin", "DELINQUENT"),
        ("broken_old", "DELINQUENT"),
        ("broken_renewed", "DELINQUENT"),
    ]
    headers = token_for(Role.AGENT, agent_id=q)
    r = await workflow.get(f"/api/agents/{q}/queue", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(expected) and body["page"] == 1 and body["pageSize"] == 50
    assert [(i["cif"], i["reason"]) for i in body["items"]] == [(cif[n], reason) for n, reason in expected]

    items = {i["cif"]: i for i in body["items"]}
    assert items[cif["promise_due"]]["promiseAmount"] == "75000.00"
    assert items[cif["promise_due"]]["promiseDate"] == "2026-03-16"
    assert items[cif["broken"]]["promiseAmount"] == "60000.00"
    assert items[cif["broken"]]["promiseDate"] == two_days_ago.isoformat()
    assert items[cif["follow_up"]]["promiseAmount"] is None
    top = items[cif["dpd60"]]
    assert top["name"] == "Trần Thị Bình" and top["maxDpd"] == 60
    assert top["totalDue"] == "1001.00" and top["totalOutstanding"] == "100050.00"
    assert top["lastActionDate"] is None and items[cif["dpd30_small"]]["name"] is None
    tried = datetime.fromisoformat(items[cif["tried_today"]]["lastActionDate"])
    assert tried == at(tz, TODAY, 8, 30)

    page2 = await workflow.get(f"/api/agents/{q}/queue?page=2&pageSize=4", headers=headers)
    assert page2.status_code == 200
    assert [i["cif"] for i in page2.json()["items"]] == [cif[n] for n, _ in expected[4:8]]
    assert page2.json()["total"] == len(expected)
    past_the_end = await workflow.get(f"/api/agents/{q}/queue?page=4&pageSize=4", headers=headers)
    assert past_the_end.json()["items"] == [] and past_the_end.json()["total"] == len(expected)


async def test_an_agent_reads_only_its_own_figures(workflow, token_for, unique, now):
    mine = await new_agent(workflow, token_for, unique)
    theirs = await new_agent(workflow, token_for, unique)
    as_agent = token_for(Role.AGENT, agent_id=mine)
    for path in ("queue", "workload", "performance"):
        refused = await workflow.get(f"/api/agents/{theirs}/{path}", headers=as_agent)
        _problem(refused, 403)
        own = await workflow.get(f"/api/agents/{mine}/{path}", headers=as_agent)
        assert own.status_code == 200, own.text
    no_agent_id = await workflow.get(f"/api/agents/{mine}/queue", headers=token_for(Role.AGENT))
    _problem(no_agent_id, 403)
    system = await workflow.get(f"/api/agents/{theirs}/queue", headers=token_for(Role.SYSTEM))
    assert system.status_code == 200 and system.json() == {"items": [], "page": 1, "pageSize": 50, "total": 0}
    unknown = await workflow.get(f"/api/agents/{uuid.uuid4()}/workload", headers=token_for(Role.SUPERVISOR))
    _problem(unknown, 404)
    anonymous = await workflow.get(f"/api/agents/{mine}/queue")
    _problem(anonymous, 401)


async def _queue(workflow, token_for, agent_id: str) -> dict[str, dict]:
    r = await workflow.get(f"/api/agents/{agent_id}/queue", headers=token_for(Role.AGENT, agent_id=agent_id))
    assert r.status_code == 200, r.text
    return {i["cif"]: i for i in r.json()["items"]}


async def test_queue_follows_later_changes_to_loans_and_actions(workflow, token_for, unique, tz, now):
    """The queue's per-customer facts are kept by the writes to loans and actions, whatever writes them."""
    q = await new_agent(workflow, token_for, unique)
    late, promised = unique("CIF"), unique("CIF")
    start = at(tz, date(2026, 1, 2), 9)
    late_loan, second_loan = unique("LN"), unique("LN")
    promise = action(
        promised, q, at(tz, date(2026, 3, 10), 9), result="PROMISE_TO_PAY", promise=("900", TODAY)
    )
    await store(
        workflow,
        assigned(late, call=q, start=start),
        assigned(promised, call=q, start=start),
        loan(late, late_loan, dpd=10, due="100.00", outstanding="1000.00"),
        loan(promised, unique("LN"), dpd=1, due="10.00", outstanding="100.00"),
        promise,
    )
    queue = await _queue(workflow, token_for, q)
    assert queue[late]["maxDpd"] == 10 and queue[promised]["reason"] == "PROMISE_DUE_TODAY"

    async with workflow.app.state.db.transaction() as session:  # the nightly sync: worse, and a new loan
        row = await session.get(LoanView, late_loan)
        row.dpd, row.due_amount = 95, Decimal("250.00")
        session.add(loan(late, second_loan, dpd=3, due="50.00", outstanding="500.00"))
    queue = await _queue(workflow, token_for, q)
    assert (queue[late]["maxDpd"], queue[late]["totalDue"], queue[late]["totalOutstanding"]) == (
        95,
        "300.00",
        "1500.00",
    )

    async with workflow.app.state.db.transaction() as session:  # the worse loan is closed in the core
        await session.delete(await session.get(LoanView, late_loan))
        kept = await session.get(ActionRecord, promise.id)
        kept.promise_status, kept.promise_settled_at = "KEPT", at(tz, TODAY, 9)
    queue = await _queue(workflow, token_for, q)
    assert queue[late]["maxDpd"] == 3 and queue[late]["totalDue"] == "50.00"
    assert queue[promised]["reason"] == "DELINQUENT" and queue[promised]["promiseAmount"] is None

    await store(workflow, action(late, q, at(tz, TODAY, 9, 30), result="CONTACTED"))  # reached today
    assert late not in await _queue(workflow, token_for, q)

    other = await new_agent(workflow, token_for, unique)  # the promised customer moves to another agent
    async with workflow.app.state.db.transaction() as session:
        current = await session.scalar(
            select(CustomerAgent).where(CustomerAgent.cif == promised, CustomerAgent.is_current)
        )
        current.is_current, current.end_date = False, at(tz, TODAY, 8)
        await session.flush()
        session.add(assigned(promised, call=other, start=at(tz, TODAY, 8)))
    assert promised not in await _queue(workflow, token_for, q)
    assert (await _queue(workflow, token_for, other))[promised]["maxDpd"] == 1


async def test_concurrent_writes_on_one_customer_all_reach_its_queue_facts(
    workflow, token_for, unique, tz, now
):
    """Ten transactions add a loan to the same customer at once; none of them is lost from its totals."""
    q = await new_agent(workflow, token_for, unique)
    cif = unique("CIF")
    await store(  # the customer's facts row exists before the writers race
        workflow,
        assigned(cif, call=q, start=at(tz, date(2026, 1, 2), 9)),
        loan(cif, unique("LN"), dpd=0, due="0.00", outstanding="1.00"),
    )
    all_begun = asyncio.Barrier(10)

    async def add_loan(k: int) -> None:
        async with workflow.app.state.db.transaction() as session:
            await session.execute(select(1))  # each transaction has begun before any of them writes
            await all_begun.wait()
            session.add(loan(cif, unique("LN"), dpd=k, due=f"{k}.00", outstanding="1.00"))

    await asyncio.gather(*(add_loan(k) for k in range(1, 11)))
    queue = await _queue(workflow, token_for, q)
    assert (queue[cif]["maxDpd"], queue[cif]["totalDue"], queue[cif]["totalOutstanding"]) == (
        10,
        "55.00",
        "11.00",
    )


async def test_a_result_that_becomes_a_contact_takes_customers_reached_today_off_the_queue(
    workflow, token_for, unique
):
    """The queue skips customers contacted today; an ADMIN changing whether a result is a contact
    changes who that is, for the actions already recorded today (real clock)."""
    admin = token_for(Role.ADMIN)
    code = unique("RES_")
    created = await workflow.post(
        "/api/vocabularies",
        json={"kind": "ACTION_RESULT", "code": code, "label": "Left a voicemail", "parentType": "CALL"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    q, cif = await new_agent(workflow, token_for, unique), unique("CIF")
    now = datetime.now(UTC)
    await store(
        workflow,
        assigned(cif, call=q, start=now - timedelta(days=30)),
        loan(cif, unique("LN"), dpd=20, due="100.00", outstanding="1000.00"),
        action(cif, q, now, result=code),
    )
    assert cif in await _queue(workflow, token_for, q), "a voicemail is not a contact: still to call"

    for is_contact, expected in ((True, False), (False, True)):
        r = await workflow.put(
            f"/api/vocabularies/ACTION_RESULT/{code}", json={"isContact": is_contact}, headers=admin
        )
        assert r.status_code == 200, r.text
        assert (cif in await _queue(workflow, token_for, q)) is expected, f"isContact={is_contact}"

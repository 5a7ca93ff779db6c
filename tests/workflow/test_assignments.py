"""Customer assignments: SCD Type 2 history, capacity, races between real requests, bulk by list and rule."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from crm.platform.auth import Role
from crm.workflow.models import platform_tables
from crm.workflow.readmodel.models import LoanView
from tests.bank_sync.test_customers_loans import add_customer_with_loan


async def _agent(
    workflow,
    token_for,
    unique,
    *,
    max_customers: int = 50,
    team: str = "EARLY_STAGE_CALL",
    name: str = "Agent",
):
    employee_id = unique("EMP")
    body = {
        "employeeId": employee_id,
        "name": f"{name} {employee_id}",
        "email": f"{employee_id.lower()}@bank.example",
        "type": "AGENT",
        "team": team,
        "maxCustomers": max_customers,
    }
    r = await workflow.post("/api/agents", json=body, headers=token_for(Role.ADMIN))
    assert r.status_code == 201, r.text
    return r.json()


async def _customer(bank_sync, unique) -> str:
    cif = unique("CIF")
    await add_customer_with_loan(bank_sync.app, cif, unique("LN"))
    return cif


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


async def _history(workflow, token_for, cif: str) -> list[dict]:
    r = await workflow.get(
        f"/api/assignments/customer/{cif}/history", params={"pageSize": 500}, headers=token_for(Role.AGENT)
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _assert_gapless(history: list[dict]) -> None:
    """Exactly one current row (the last) and each row ends exactly when the next one starts."""
    rows = sorted(history, key=lambda r: (datetime.fromisoformat(r["startDate"]), r["endDate"] is None))
    assert [r["isCurrent"] for r in rows] == [False] * (len(rows) - 1) + [True]
    assert rows[-1]["endDate"] is None
    for earlier, later in itertools.pairwise(rows):
        assert datetime.fromisoformat(earlier["endDate"]) == datetime.fromisoformat(later["startDate"])


async def _outbox_events(workflow, cif: str) -> list[dict]:
    outbox = platform_tables.outbox
    async with workflow.app.state.db.transaction() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.subject == "crm.workflow.customer_assigned", outbox.c.payload.contains(cif))
            .order_by(outbox.c.created_at)
        )
        return [json.loads(p) for p in payloads]


async def test_assign_then_reassign_keeps_the_history_without_gaps(workflow, bank_sync, token_for, unique):
    a = await _agent(workflow, token_for, unique)
    b = await _agent(workflow, token_for, unique, team="EARLY_STAGE_FIELD")
    cif = await _customer(bank_sync, unique)
    sup = token_for(Role.SUPERVISOR, subject="sup-sara")

    r1 = await workflow.post(
        "/api/assignments",
        json={"cif": cif, "assignedCallAgentId": a["id"], "reason": "new case"},
        headers=sup,
    )
    assert r1.status_code == 201, r1.text
    one = r1.json()
    assert one["cif"] == cif and one["assignedCallAgentId"] == a["id"] and one["assignedFieldAgentId"] is None
    assert one["isCurrent"] is True and one["endDate"] is None and one["createdBy"] == "sup-sara"

    r2 = await workflow.post(
        "/api/assignments",
        json={"cif": cif, "assignedCallAgentId": a["id"], "assignedFieldAgentId": b["id"]},
        headers=sup,
    )
    assert r2.status_code == 201, r2.text
    two = r2.json()

    history = await _history(workflow, token_for, cif)
    assert [h["id"] for h in history] == [two["id"], one["id"]]
    assert history[1]["isCurrent"] is False and history[1]["endDate"] == two["startDate"]
    assert history[1]["assignedCallAgentId"] == a["id"] and history[1]["reason"] == "new case"
    _assert_gapless(history)

    same = await workflow.post(
        "/api/assignments",
        json={"cif": cif, "assignedCallAgentId": a["id"], "assignedFieldAgentId": b["id"]},
        headers=sup,
    )
    assert same.status_code == 200 and same.json() == two
    assert len(await _history(workflow, token_for, cif)) == 2

    as_b = token_for(Role.AGENT, agent_id=b["id"])
    mine = await workflow.get(f"/api/assignments/agent/{b['id']}", headers=as_b)
    assert mine.status_code == 200 and [i["cif"] for i in mine.json()["items"]] == [cif]
    as_a = token_for(Role.AGENT, agent_id=a["id"])
    whole = await workflow.get(f"/api/assignments/agent/{a['id']}", params={"current": "false"}, headers=as_a)
    assert whole.json()["total"] == 2
    current = await workflow.get(f"/api/assignments/agent/{a['id']}", headers=as_a)
    assert [i["id"] for i in current.json()["items"]] == [two["id"]]
    others = await workflow.get(f"/api/assignments/agent/{a['id']}", headers=as_b)
    assert others.status_code == 403 and others.json()["code"] == "scope.other_agent"


async def test_customer_assigned_event_goes_through_the_outbox(workflow, bank_sync, token_for, unique):
    a = await _agent(workflow, token_for, unique)
    b = await _agent(workflow, token_for, unique)
    cif = await _customer(bank_sync, unique)
    sup = token_for(Role.SUPERVISOR)
    one = (
        await workflow.post(
            "/api/assignments", json={"cif": cif, "assignedCallAgentId": a["id"]}, headers=sup
        )
    ).json()
    body = {"cif": cif, "assignedCallAgentId": b["id"], "reason": "rebalance"}
    two = (await workflow.post("/api/assignments", json=body, headers=sup)).json()

    events = await _outbox_events(workflow, cif)
    assert [e["entityId"] for e in events] == [one["id"], two["id"]]
    last = events[-1]
    assert last["type"] == "CUSTOMER_ASSIGNED" and last["cif"] == cif and last["agentId"] == b["id"]
    assert last["details"] == {
        "assignedCallAgentId": b["id"],
        "assignedFieldAgentId": None,
        "previousCallAgentId": a["id"],
        "previousFieldAgentId": None,
        "reason": "rebalance",
        "override": False,
    }


async def test_twenty_concurrent_reassignments_leave_one_current_row_and_no_gaps(
    workflow, bank_sync, token_for, unique
):
    agents = [await _agent(workflow, token_for, unique) for _ in range(21)]
    cif = await _customer(bank_sync, unique)
    sup = token_for(Role.SUPERVISOR)
    first = await workflow.post(
        "/api/assignments", json={"cif": cif, "assignedCallAgentId": agents[0]["id"]}, headers=sup
    )
    assert first.status_code == 201, first.text

    answers = await asyncio.gather(
        *(
            workflow.post("/api/assignments", json={"cif": cif, "assignedCallAgentId": a["id"]}, headers=sup)
            for a in agents[1:]
        )
    )
    assert [r.status_code for r in answers] == [201] * 20, [r.text for r in answers if r.status_code != 201]
    history = await _history(workflow, token_for, cif)
    assert len(history) == 21
    _assert_gapless(history)
    assert len(await _outbox_events(workflow, cif)) == 21


async def test_twenty_concurrent_first_assignments_make_one_current_row(
    workflow, bank_sync, token_for, unique
):
    agents = [await _agent(workflow, token_for, unique) for _ in range(20)]
    cif = await _customer(bank_sync, unique)
    sup = token_for(Role.ADMIN)
    answers = await asyncio.gather(
        *(
            workflow.post("/api/assignments", json={"cif": cif, "assignedFieldAgentId": a["id"]}, headers=sup)
            for a in agents
        )
    )
    assert [r.status_code for r in answers] == [201] * 20, [r.text for r in answers if r.status_code != 201]
    history = await _history(workflow, token_for, cif)
    assert len(history) == 20 and sum(h["isCurrent"] for h in history) == 1
    _assert_gapless(history)


async def test_the_database_itself_refuses_a_second_current_assignment(
    workflow, bank_sync, token_for, unique
):
    """Not only the API: a second current row, or a current row with an end, written straight in SQL
    (a script, a hand fix, a future code path) is refused by PostgreSQL."""
    agent = await _agent(workflow, token_for, unique)
    cif = await _customer(bank_sync, unique)
    r = await workflow.post(
        "/api/assignments",
        json={"cif": cif, "assignedCallAgentId": agent["id"]},
        headers=token_for(Role.ADMIN),
    )
    assert r.status_code == 201, r.text
    insert = text(
        "INSERT INTO workflow.customer_agent (id, cif, assigned_call_agent_id, start_date, end_date,"
        " is_current, created_by)"
        " VALUES (gen_random_uuid(), :cif, CAST(:agent AS uuid), now(), :end, true, 'sql')"
    )
    for end in (None, datetime(2026, 12, 1, tzinfo=UTC)):
        with pytest.raises(IntegrityError):
            async with workflow.app.state.db.transaction() as session:
                await session.execute(insert, {"cif": cif, "agent": agent["id"], "end": end})
    history = await _history(workflow, token_for, cif)
    assert len(history) == 1 and history[0]["isCurrent"], "nothing was written"


async def test_an_agent_at_capacity_is_409_unless_override(workflow, bank_sync, token_for, unique):
    a = await _agent(workflow, token_for, unique, max_customers=1)
    first, second = await _customer(bank_sync, unique), await _customer(bank_sync, unique)
    sup = token_for(Role.SUPERVISOR)
    ok = await workflow.post(
        "/api/assignments", json={"cif": first, "assignedCallAgentId": a["id"]}, headers=sup
    )
    assert ok.status_code == 201, ok.text

    refused = _problem(
        await workflow.post(
            "/api/assignments", json={"cif": second, "assignedCallAgentId": a["id"]}, headers=sup
        ),
        409,
    )
    assert a["employeeId"] in refused["detail"] and "1 of 1" in refused["detail"]
    assert [e["field"] for e in refused["errors"]] == ["assignedCallAgentId"]
    assert refused["code"] == "assignment.over_capacity"  # what clients act on, not the wording
    assert refused["errors"][0]["code"] == "assignment.over_capacity"
    assert await _history(workflow, token_for, second) == []

    # Re-assigning a customer the agent already works (adding a field agent) needs no extra slot.
    b = await _agent(workflow, token_for, unique)
    more = await workflow.post(
        "/api/assignments",
        json={"cif": first, "assignedCallAgentId": a["id"], "assignedFieldAgentId": b["id"]},
        headers=sup,
    )
    assert more.status_code == 201, more.text

    body = {"cif": second, "assignedCallAgentId": a["id"], "reason": "VIP", "override": True}
    forced = await workflow.post("/api/assignments", json=body, headers=sup)
    assert forced.status_code == 201, forced.text
    assert forced.json()["reason"] == "VIP [capacity override]"
    [event] = await _outbox_events(workflow, second)
    assert event["details"]["override"] is True

    audit = platform_tables.audit_log
    async with workflow.app.state.db.transaction() as session:
        [row] = (
            await session.execute(
                select(audit).where(audit.c.entity_type == "CustomerAgent", audit.c.entity_key == second)
            )
        ).all()
    assert row.action == "CREATE" and row.after["reason"] == "VIP [capacity override]"


async def test_two_requests_cannot_both_take_the_last_slot(workflow, bank_sync, token_for, unique):
    a = await _agent(workflow, token_for, unique, max_customers=1)
    cifs = [await _customer(bank_sync, unique) for _ in range(6)]
    sup = token_for(Role.SUPERVISOR)
    answers = await asyncio.gather(
        *(
            workflow.post("/api/assignments", json={"cif": c, "assignedCallAgentId": a["id"]}, headers=sup)
            for c in cifs
        )
    )
    assert sorted(r.status_code for r in answers) == [201] + [409] * 5
    current = await workflow.get(f"/api/assignments/agent/{a['id']}", headers=token_for(Role.SUPERVISOR))
    assert current.json()["total"] == 1


async def test_only_supervisors_and_admins_assign(workflow, bank_sync, token_for, unique):
    a = await _agent(workflow, token_for, unique)
    cif = await _customer(bank_sync, unique)
    agent = token_for(Role.AGENT, agent_id=a["id"])
    body = {"cif": cif, "assignedCallAgentId": a["id"]}
    assert (await workflow.post("/api/assignments", json=body, headers=agent)).status_code == 403
    bulk = {"cifs": [cif], "assignedCallAgentId": a["id"]}
    assert (await workflow.post("/api/assignments/bulk", json=bulk, headers=agent)).status_code == 403
    created = await workflow.post("/api/assignments", json=body, headers=token_for(Role.ADMIN))
    assert created.status_code == 201
    put = await workflow.put(
        f"/api/assignments/{created.json()['id']}", json={"assignedCallAgentId": a["id"]}, headers=agent
    )
    assert put.status_code == 403
    assert (
        await workflow.post("/api/assignments", json=body, headers=token_for(Role.SYSTEM))
    ).status_code == 403
    assert (await workflow.post("/api/assignments", json=body)).status_code == 401
    assert len(await _history(workflow, token_for, cif)) == 1


async def test_unknown_or_inactive_agent_and_unknown_customer_are_422_naming_the_field(
    workflow, bank_sync, token_for, unique
):
    a = await _agent(workflow, token_for, unique)
    idle = await _agent(workflow, token_for, unique)
    r = await workflow.put(
        f"/api/agents/{idle['id']}", json={"isActive": False}, headers=token_for(Role.ADMIN)
    )
    assert r.status_code == 200, r.text
    cif = await _customer(bank_sync, unique)
    sup = token_for(Role.SUPERVISOR)

    missing = "00000000-0000-4000-8000-000000000000"
    p = _problem(
        await workflow.post(
            "/api/assignments", json={"cif": cif, "assignedCallAgentId": missing}, headers=sup
        ),
        422,
    )
    assert [e["field"] for e in p["errors"]] == ["assignedCallAgentId"]
    body = {"cif": cif, "assignedCallAgentId": a["id"], "assignedFieldAgentId": idle["id"]}
    p = _problem(await workflow.post("/api/assignments", json=body, headers=sup), 422)
    assert [e["field"] for e in p["errors"]] == ["assignedFieldAgentId"] and "not active" in p["errors"][0][
        "message"
    ]
    p = _problem(
        await workflow.post(
            "/api/assignments", json={"cif": unique("NOCIF"), "assignedCallAgentId": a["id"]}, headers=sup
        ),
        422,
    )
    assert [e["field"] for e in p["errors"]] == ["cif"]
    p = _problem(await workflow.post("/api/assignments", json={"cif": cif}, headers=sup), 422)
    assert "assignedCallAgentId" in p["errors"][0]["message"]
    assert await _history(workflow, token_for, cif) == []


async def test_put_changes_the_current_assignment_only(workflow, bank_sync, token_for, unique):
    a = await _agent(workflow, token_for, unique)
    b = await _agent(workflow, token_for, unique)
    cif = await _customer(bank_sync, unique)
    sup = token_for(Role.SUPERVISOR)
    one = (
        await workflow.post(
            "/api/assignments", json={"cif": cif, "assignedCallAgentId": a["id"]}, headers=sup
        )
    ).json()

    changed = await workflow.put(
        f"/api/assignments/{one['id']}", json={"assignedCallAgentId": b["id"]}, headers=sup
    )
    assert changed.status_code == 200, changed.text
    two = changed.json()
    assert two["id"] != one["id"] and two["isCurrent"] and two["assignedCallAgentId"] == b["id"]
    _assert_gapless(await _history(workflow, token_for, cif))

    stale = await workflow.put(
        f"/api/assignments/{one['id']}", json={"assignedCallAgentId": a["id"]}, headers=sup
    )
    assert _problem(stale, 409)["errors"][0]["field"] == "id"
    unknown = await workflow.put(
        "/api/assignments/00000000-0000-4000-8000-000000000000",
        json={"assignedCallAgentId": a["id"]},
        headers=sup,
    )
    _problem(unknown, 404)
    assert len(await _history(workflow, token_for, cif)) == 2


async def test_bulk_by_list_reports_each_customer_and_counts_capacity_across_the_batch(
    workflow, bank_sync, token_for, unique
):
    a = await _agent(workflow, token_for, unique, max_customers=2)
    had = await _customer(bank_sync, unique)
    new = await _customer(bank_sync, unique)
    over = await _customer(bank_sync, unique)
    ghost = unique("NOCIF")
    sup = token_for(Role.SUPERVISOR)
    r = await workflow.post(
        "/api/assignments", json={"cif": had, "assignedCallAgentId": a["id"]}, headers=sup
    )
    assert r.status_code == 201

    body = {"cifs": [had, new, ghost, over], "assignedCallAgentId": a["id"], "reason": "campaign"}
    r = await workflow.post("/api/assignments/bulk", json=body, headers=sup)
    assert r.status_code == 200, r.text
    result = r.json()
    assert [(i["cif"], i["status"]) for i in result["items"]] == [
        (had, "UNCHANGED"),
        (new, "ASSIGNED"),
        (ghost, "REFUSED"),
        (over, "REFUSED"),
    ]
    assert result["items"][2]["error"] == "unknown customer"
    assert a["employeeId"] in result["items"][3]["error"] and "2 of 2" in result["items"][3]["error"]
    assert (result["assigned"], result["unchanged"], result["refused"]) == (1, 1, 2)
    assert (await _history(workflow, token_for, new))[0]["reason"] == "campaign"
    assert await _history(workflow, token_for, over) == []
    assert len(await _outbox_events(workflow, new)) == 1

    forced = await workflow.post(
        "/api/assignments/bulk",
        json={"cifs": [over], "assignedCallAgentId": a["id"], "override": True},
        headers=sup,
    )
    assert [i["status"] for i in forced.json()["items"]] == ["ASSIGNED"]

    too_many = {"cifs": [f"C{i}" for i in range(5001)], "assignedCallAgentId": a["id"]}
    p = _problem(await workflow.post("/api/assignments/bulk", json=too_many, headers=sup), 422)
    assert [e["field"] for e in p["errors"]] == ["cifs"]


async def test_bulk_by_rule_spreads_unassigned_customers_by_free_capacity(workflow, token_for, unique):
    # Capacities far above any other test's agents of the team: the most-free-first choice picks ours.
    big = await _agent(workflow, token_for, unique, max_customers=100_000, team="SPECIAL_ASSETS", name="A")
    small = await _agent(workflow, token_for, unique, max_customers=99_997, team="SPECIAL_ASSETS", name="B")
    cifs = [unique("RULE") for _ in range(8)]
    # DPD values nobody else uses, so the rule takes exactly these customers; the last is out of range.
    dpds = [4101, 4102, 4103, 4104, 4105, 4106, 4107, 4150]
    async with workflow.app.state.db.transaction() as session:
        for cif, dpd in zip(cifs, dpds, strict=True):
            for n, loan_dpd in enumerate((dpd, 3)):
                session.add(
                    LoanView(
                        account_number=f"{cif}-{n}",
                        cif=cif,
                        currency="VND",
                        outstanding=Decimal("1000000.00"),
                        due_amount=Decimal("100000.00"),
                        dpd=loan_dpd,
                        status="OPEN",
                    )
                )
    rule = {"bucket": "B5", "team": "SPECIAL_ASSETS", "minDpd": 4100, "maxDpd": 4120, "onlyUnassigned": True}
    sup = token_for(Role.SUPERVISOR)
    r = await workflow.post("/api/assignments/bulk", json={"rule": rule, "limit": 7}, headers=sup)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    # Most overdue first; most free capacity first: big until it ties with small, then in turn.
    assert [i["cif"] for i in items] == list(reversed(cifs[:7]))
    assert all(i["status"] == "ASSIGNED" and i["assignedFieldAgentId"] is None for i in items)
    got = [i["assignedCallAgentId"] for i in items]
    assert got == [big["id"]] * 4 + [small["id"], big["id"], small["id"]]
    assert (await _history(workflow, token_for, cifs[0]))[0]["reason"].startswith("rule: team SPECIAL_ASSETS")
    assert await _history(workflow, token_for, cifs[7]) == []

    again = await workflow.post("/api/assignments/bulk", json={"rule": rule, "limit": 7}, headers=sup)
    assert again.status_code == 200 and again.json()["items"] == []

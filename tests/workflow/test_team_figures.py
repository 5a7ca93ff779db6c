"""A team's figures in one answer: the same as each agent's own workload and performance.

The data is written straight through the models, as in test_workload; the routes' clock is fixed
at 10:00 business time on TODAY.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time

import pytest
from sqlalchemy import event

from crm.platform.auth import Role
from crm.workflow.workload.router import clock
from tests.workflow.test_agents import agent
from tests.workflow.test_workload import action, assigned, at, loan, payment, store

TODAY = date(2026, 3, 16)
TEAM = "RESTRUCTURING"
MONTH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def tz(workflow):
    return workflow.app.state.settings.tz


@pytest.fixture
def now(workflow, tz) -> Iterator[datetime]:
    fixed = datetime.combine(TODAY, time(10, 0), tzinfo=tz)
    workflow.app.dependency_overrides[clock] = lambda: fixed
    yield fixed
    workflow.app.dependency_overrides.pop(clock, None)


async def new_agent(workflow, token_for, unique, team: str = TEAM, **fields) -> str:
    body = agent(unique("EMP"), team=team, **fields)
    r = await workflow.post("/api/agents", json=body, headers=token_for(Role.ADMIN))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def team_figures(workflow, token_for, query: str) -> dict:
    r = await workflow.get(f"/api/workflow/teams/figures?{query}", headers=token_for(Role.SUPERVISOR))
    assert r.status_code == 200, r.text
    return r.json()


async def test_each_agent_of_the_team_has_the_figures_of_its_own_workload_and_performance(
    workflow, token_for, unique, tz, now
):
    a = await new_agent(workflow, token_for, unique, name="AAA team An")
    b = await new_agent(workflow, token_for, unique, name="AAA team Bình")
    idle = await new_agent(workflow, token_for, unique, name="AAA team Chi")
    elsewhere = await new_agent(workflow, token_for, unique, team="LEGAL", name="AAA elsewhere")
    retired = await new_agent(workflow, token_for, unique)
    r = await workflow.put(f"/api/agents/{retired}", json={"isActive": False}, headers=token_for(Role.ADMIN))
    assert r.status_code == 200, r.text

    one, two, three, gone = (unique("CIF") for _ in range(4))
    loan_one, loan_two = unique("LN"), unique("LN")
    long_ago = at(tz, date(2026, 1, 5), 9)
    moved = at(tz, date(2026, 3, 10), 12)
    await store(
        workflow,
        # A: call agent of ONE, field agent of TWO (whose call agent is B); THREE went from A to B.
        assigned(one, call=a, start=long_ago),
        assigned(two, call=b, field=a, start=long_ago),
        assigned(three, call=a, start=long_ago, end=moved),
        assigned(three, call=b, start=moved),
        assigned(gone, call=elsewhere, start=long_ago),
        loan(one, loan_one, dpd=30, due="1000000.00", outstanding="20000000.00"),
        loan(two, loan_two, dpd=5, due="200000.00", outstanding="3000000.00"),
        loan(two, unique("LN"), dpd=5, due="10.50", outstanding="100.25", currency="USD"),
        loan(three, unique("LN"), dpd=60, due="500000.00", outstanding="5000000.00"),
        loan(gone, unique("LN"), dpd=90, due="9000000.00", outstanding="90000000.00"),
        # Today: A twice (one a promise due today... made last month), B once.
        action(one, a, at(tz, TODAY, 8), result="CONTACTED"),
        action(two, a, at(tz, TODAY, 9), type="VISIT", result="NOT_HOME"),
        action(three, b, at(tz, TODAY, 9, 30), result="NO_ANSWER"),
        action(one, a, long_ago, result="PROMISE_TO_PAY", promise=("300000", TODAY)),
        # March: A made a promise kept on the 9th; B made one that broke on the 12th.
        action(
            one,
            a,
            at(tz, date(2026, 3, 3), 10),
            result="PROMISE_TO_PAY",
            promise=("400000", date(2026, 3, 8)),
            status="KEPT",
            settled_at=at(tz, date(2026, 3, 9), 0, 5),
        ),
        action(
            three,
            b,
            at(tz, date(2026, 3, 11), 10),
            result="PROMISE_TO_PAY",
            promise=("250000", date(2026, 3, 11)),
            status="BROKEN",
            settled_at=at(tz, date(2026, 3, 12), 0, 5),
        ),
        action(gone, elsewhere, at(tz, date(2026, 3, 4), 10), result="CONTACTED"),
        # Payments on THREE: before the move A's, after it B's.
        payment(three, loan_one, "700000.00", at(tz, date(2026, 3, 5), 10)),
        payment(three, loan_one, "150000.00", at(tz, date(2026, 3, 14), 10)),
        payment(one, loan_one, "400000.00", at(tz, date(2026, 3, 9), 8)),
    )

    figures = await team_figures(workflow, token_for, f"team={TEAM}&{MONTH}")
    assert figures["team"] == TEAM and figures["businessDate"] == "2026-03-16"
    assert (figures["from"], figures["to"]) == ("2026-03-01", "2026-03-31")
    rows = {row["id"]: row for row in figures["agents"]}
    assert {a, b, idle} <= set(rows)
    assert elsewhere not in rows and retired not in rows, "another team's agent, an inactive agent"
    assert figures["agentsTotal"] == len(figures["agents"])
    assert all(row["team"] == TEAM for row in figures["agents"])

    supervisor = token_for(Role.SUPERVISOR)
    for agent_id in (a, b, idle):
        own_load = await workflow.get(f"/api/agents/{agent_id}/workload", headers=supervisor)
        own_perf = await workflow.get(f"/api/agents/{agent_id}/performance?{MONTH}", headers=supervisor)
        assert rows[agent_id]["workload"] == own_load.json()
        assert rows[agent_id]["performance"] == own_perf.json()

    # By hand: A has ONE and TWO now; B has TWO and THREE.
    load_a, perf_a = rows[a]["workload"], rows[a]["performance"]
    assert load_a["assignedCustomers"] == 2
    assert load_a["totals"] == [
        {"currency": "USD", "outstanding": "100.25", "due": "10.50"},
        {"currency": "VND", "outstanding": "23000000.00", "due": "1200000.00"},
    ]
    assert (load_a["actionsToday"], load_a["openPromises"], load_a["promisesDueToday"]) == (2, 1, 1)
    assert perf_a["actionsTotal"] == 3 and perf_a["actionsByType"] == {"CALL": 2, "VISIT": 1}
    assert perf_a["contacts"] == 2 and perf_a["contactRate"] == "0.6667"
    assert (perf_a["promisesMade"], perf_a["promisesKept"], perf_a["promisesBroken"]) == (1, 1, 0)
    assert perf_a["amountCollected"] == [{"currency": "VND", "amount": "1100000.00"}]

    load_b, perf_b = rows[b]["workload"], rows[b]["performance"]
    assert (load_b["assignedCustomers"], load_b["actionsToday"], load_b["openPromises"]) == (2, 1, 0)
    assert (perf_b["promisesMade"], perf_b["promisesKept"], perf_b["promisesBroken"]) == (1, 0, 1)
    assert perf_b["keptRate"] == "0.0000"
    assert perf_b["amountCollected"] == [{"currency": "VND", "amount": "150000.00"}]

    idle_row = rows[idle]
    assert idle_row["workload"]["assignedCustomers"] == 0 and idle_row["workload"]["totals"] == []
    assert idle_row["performance"]["actionsTotal"] == 0 and idle_row["performance"]["contactRate"] is None

    every_team = await team_figures(workflow, token_for, MONTH)
    assert every_team["team"] is None
    assert {a, b, idle, elsewhere} <= {row["id"] for row in every_team["agents"]}


async def test_the_trend_counts_the_teams_promises_on_the_day_they_were_made_and_settled(
    workflow, token_for, unique, tz, now
):
    trend_team = "SPECIAL_ASSETS"
    a = await new_agent(workflow, token_for, unique, team=trend_team)
    b = await new_agent(workflow, token_for, unique, team=trend_team)
    other = await new_agent(workflow, token_for, unique, team="LEGAL")
    cif = unique("CIF")
    r = await workflow.get(f"/api/workflow/teams/trend?team={trend_team}", headers=token_for(Role.SUPERVISOR))
    before = {d["date"]: d for d in r.json()["days"]}
    await store(
        workflow,
        # The 10th at 23:59 business time is still the 10th (16:59 UTC).
        action(cif, a, at(tz, date(2026, 3, 10), 23, 59), result="PROMISE_TO_PAY", promise=("1", TODAY)),
        action(
            cif,
            b,
            at(tz, date(2026, 3, 10), 8),
            result="PROMISE_TO_PAY",
            promise=("1", date(2026, 3, 12)),
            status="KEPT",
            settled_at=at(tz, date(2026, 3, 13), 0, 5),
        ),
        action(
            cif,
            a,
            at(tz, date(2026, 2, 1), 8),
            result="PROMISE_TO_PAY",
            promise=("1", date(2026, 2, 20)),
            status="BROKEN",
            settled_at=at(tz, date(2026, 3, 13), 0, 6),
        ),
        action(cif, other, at(tz, date(2026, 3, 10), 9), result="PROMISE_TO_PAY", promise=("1", TODAY)),
        action(cif, a, at(tz, date(2026, 3, 11), 9), result="CONTACTED"),
    )

    r = await workflow.get(f"/api/workflow/teams/trend?team={trend_team}", headers=token_for(Role.SUPERVISOR))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"]) == ("2026-02-15", "2026-03-16")
    assert len(body["days"]) == 30 and body["days"][0]["date"] == "2026-02-15"
    days = {d["date"]: d for d in body["days"]}

    def added(day: str) -> tuple[int, int, int]:
        fields = ("promisesMade", "promisesKept", "promisesBroken")
        return tuple(days[day][f] - before[day][f] for f in fields)  # type: ignore[return-value]

    assert added("2026-03-10") == (2, 0, 0)
    assert added("2026-03-11") == (0, 0, 0)
    assert added("2026-03-13") == (0, 1, 1)
    assert added("2026-02-15") == (0, 0, 0)


async def test_bad_parameters_are_422_naming_the_field_and_agents_are_refused(
    workflow, token_for, unique, now
):
    supervisor = token_for(Role.SUPERVISOR)
    cases = {
        "team=NOPE": "team",
        "from=yesterday": "from",
        "from=2026-03-10&to=2026-03-09": "from",
        "from=2025-01-01&to=2026-01-02": "to",
        "to=2026-02-30": "to",
    }
    for route in ("figures", "trend"):
        for query, field in cases.items():
            r = await workflow.get(f"/api/workflow/teams/{route}?{query}", headers=supervisor)
            assert r.status_code == 422, (route, query, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in r.json()["errors"]] == [field], (route, query)
        own = await new_agent(workflow, token_for, unique)
        r = await workflow.get(f"/api/workflow/teams/{route}", headers=token_for(Role.AGENT, agent_id=own))
        assert r.status_code == 403, r.text
    r = await workflow.get("/api/workflow/teams/figures", headers=token_for(Role.ADMIN))
    assert r.status_code == 200, r.text
    assert r.json()["from"] == "2026-03-01" and r.json()["to"] == "2026-03-16"


async def test_a_larger_team_costs_the_same_number_of_statements(workflow, token_for, unique, tz, now):
    """The figures are set-based: the statements sent do not grow with the team's agents."""
    small, large = "EARLY_STAGE_FIELD", "MID_STAGE_FIELD"
    for team, size in ((small, 2), (large, 12)):
        for _ in range(size):
            agent_id = await new_agent(workflow, token_for, unique, team=team)
            cif = unique("CIF")
            await store(
                workflow,
                assigned(cif, call=agent_id, start=at(tz, date(2026, 1, 5), 9)),
                loan(cif, unique("LN"), dpd=10, due="100.00", outstanding="1000.00"),
                action(cif, agent_id, at(tz, TODAY, 8), result="CONTACTED"),
            )
    engine = workflow.app.state.db.engine.sync_engine
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if "outbox" not in statement:  # the outbox relay polls on the same engine meanwhile
            statements.append(statement)

    async def count(team: str) -> tuple[int, int]:
        statements.clear()
        figures = await team_figures(workflow, token_for, f"team={team}")
        return len(figures["agents"]), len(statements)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        (small_agents, small_statements), (large_agents, large_statements) = (
            await count(small),
            await count(large),
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # Other tests may have agents in these teams too: the large one is still the larger by far.
    assert small_agents >= 2 and large_agents >= 12 and large_agents > small_agents
    assert small_statements == large_statements, statements
    assert large_statements == 8, statements  # the agents, 3 for the workloads, 4 for the performances

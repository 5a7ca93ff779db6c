"""The customer list (``GET /api/workflow/customers``) and the facts of some customers
(``POST /api/workflow/customers/lookup``), from workflow's read model.

The data is written straight through the models, as in test_workload; the database keeps the facts
(triggers), so what a test reads is what the triggers made of its rows. The routes' clock is fixed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from crm.platform.auth import Role
from crm.workflow.readmodel.models import CustomerView
from crm.workflow.workload.router import clock
from tests.workflow.test_agents import agent
from tests.workflow.test_workload import TODAY, _problem, action, assigned, at, loan, new_agent, store


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


async def _book(workflow, token_for, unique, tz):
    """An agent with three customers: a late one with an open promise, one with a follow-up due
    (contacted, then not reached), one current with a car loan."""
    a = await new_agent(workflow, token_for, unique)
    late, follow, fine = unique("CIF"), unique("CIF"), unique("CIF")
    start = at(tz, TODAY - timedelta(days=30), 8)
    car = loan(fine, unique("LN"), dpd=0, due="0.00", outstanding="900.00")
    car.product_type = "AUTO"
    await store(
        workflow,
        CustomerView(cif=late, name="Nguyễn Văn Nhân", segment="RETAIL", status="ACTIVE"),
        CustomerView(cif=follow, name="Trần Thị Bích", segment="RETAIL", status="ACTIVE"),
        CustomerView(cif=fine, name="Lê Văn Cường", segment="SME", status="ACTIVE"),
        assigned(late, call=a, start=start),
        assigned(follow, call=a, start=start),
        assigned(fine, field=a, start=start),
        loan(late, unique("LN"), dpd=95, due="500.00", outstanding="5000.00"),
        loan(follow, unique("LN"), dpd=20, due="800.00", outstanding="3000.00"),
        car,
    )
    await store(
        workflow,
        action(
            late,
            a,
            at(tz, TODAY - timedelta(days=2), 9),
            result="PROMISE_TO_PAY",
            promise=("250.00", TODAY + timedelta(days=3)),
        ),
        action(follow, a, at(tz, TODAY - timedelta(days=3), 9), result="CONTACTED"),
    )
    await store(
        workflow,
        action(follow, a, at(tz, TODAY - timedelta(days=1), 9), result="NO_ANSWER", follow_up=TODAY),
    )
    return a, late, follow, fine


async def _cifs(workflow, headers, **params) -> list[str]:
    r = await workflow.get("/api/workflow/customers", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return [row["cif"] for row in r.json()["items"]]


async def test_a_supervisor_lists_an_agents_customers_worst_first_with_their_facts(
    workflow, token_for, unique, tz, now
):
    a, late, follow, fine = await _book(workflow, token_for, unique, tz)
    supervisor = token_for(Role.SUPERVISOR)
    r = await workflow.get("/api/workflow/customers", params={"agentId": a}, headers=supervisor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [row["cif"] for row in body["items"]] == [late, follow, fine]
    assert (body["total"], body["totalExact"]) == (3, True)
    first = body["items"][0]
    assert first["name"] == "Nguyễn Văn Nhân"
    assert (first["maxDpd"], first["bucket"], first["totalDue"]) == (95, "B4", "500.00")
    assert (first["openPromiseAmount"], first["openPromiseDate"]) == (
        "250.00",
        str(TODAY + timedelta(days=3)),
    )
    assert first["callAgentId"] == a and first["callAgentName"]
    assert first["lastResult"] == "PROMISE_TO_PAY"
    second = body["items"][1]
    assert (second["followUpDate"], second["lastResult"]) == (str(TODAY), "NO_ANSWER")
    assert second["lastContactResult"] == "CONTACTED"
    assert body["items"][2]["productTypes"] == ["AUTO"]
    assert body["items"][2]["fieldAgentId"] == a


async def test_the_filters_keep_the_matching_customers_and_sort_turns_the_order(
    workflow, token_for, unique, tz, now
):
    a, late, follow, fine = await _book(workflow, token_for, unique, tz)
    h = token_for(Role.SUPERVISOR)
    assert await _cifs(workflow, h, agentId=a, bucket="B4") == [late]
    assert await _cifs(workflow, h, agentId=a, bucket="CURRENT") == [fine]
    assert await _cifs(workflow, h, agentId=a, promiseStatus="OPEN") == [late]
    assert await _cifs(workflow, h, agentId=a, promiseStatus="NONE") == [follow, fine]
    assert await _cifs(workflow, h, agentId=a, followUpDue="true") == [follow]
    assert await _cifs(workflow, h, agentId=a, lastResult="NO_ANSWER") == [follow]
    assert await _cifs(workflow, h, agentId=a, productType="AUTO") == [fine]
    assert await _cifs(workflow, h, agentId=a, sort="-due") == [follow, late, fine]
    assert await _cifs(workflow, h, agentId=a, sort="dpd") == [fine, follow, late]
    assert await _cifs(workflow, h, agentId=a, q="nhan") == [late]
    assert await _cifs(workflow, h, agentId=a, q=follow) == [follow]
    page = await workflow.get(
        "/api/workflow/customers", params={"agentId": a, "pageSize": 2, "page": 2}, headers=h
    )
    assert [row["cif"] for row in page.json()["items"]] == [fine]
    assert page.json()["total"] == 3


async def test_a_team_filter_keeps_the_customers_of_that_teams_agents(workflow, token_for, unique, tz, now):
    r = await workflow.post(
        "/api/agents", json=agent(unique("EMP"), team="SPECIAL_ASSETS"), headers=token_for(Role.ADMIN)
    )
    special = str(r.json()["id"])
    cif = unique("CIF")
    await store(
        workflow,
        assigned(cif, call=special, start=at(tz, TODAY, 8)),
        loan(cif, unique("LN"), dpd=3000, due="1.00", outstanding="1.00"),
    )
    h = token_for(Role.SUPERVISOR)
    assert cif in await _cifs(workflow, h, team="SPECIAL_ASSETS", bucket="B5")
    assert cif not in await _cifs(workflow, h, team="LEGAL", bucket="B5", pageSize=500)


async def test_an_agent_reads_its_own_book_and_never_anothers(workflow, token_for, unique, tz, now):
    a, late, follow, fine = await _book(workflow, token_for, unique, tz)
    other = await new_agent(workflow, token_for, unique)
    me = token_for(Role.AGENT, agent_id=a)
    assert await _cifs(workflow, me) == [late, follow, fine]
    assert await _cifs(workflow, me, agentId=a, q="bich") == [follow]
    r = await workflow.get("/api/workflow/customers", params={"agentId": other}, headers=me)
    assert _problem(r, 403)["code"] == "scope.other_agent"
    assert await _cifs(workflow, token_for(Role.AGENT, agent_id=other)) == []


async def test_bad_filters_are_refused_naming_the_field(workflow, token_for, now):
    h = token_for(Role.SUPERVISOR)
    for params, field in (
        ({"bucket": "B9"}, "bucket"),
        ({"promiseStatus": "MAYBE"}, "promiseStatus"),
        ({"sort": "name"}, "sort"),
        ({"agentId": "not-a-uuid"}, "agentId"),
        ({"team": "NOPE"}, "team"),
        ({"followUpDue": "soon"}, "followUpDue"),
    ):
        r = await workflow.get("/api/workflow/customers", params=params, headers=h)
        problem = _problem(r, 422)
        assert [e["field"] for e in problem["errors"]] == [field], params
    r = await workflow.get("/api/workflow/customers", params={"q": "nguyen"}, headers=h)
    problem = _problem(r, 422)
    assert problem["code"] == "customers.text_needs_agent"
    assert [e["field"] for e in problem["errors"]] == ["q"]


async def test_the_lookup_answers_the_facts_of_the_customers_known(workflow, token_for, unique, tz, now):
    _agent, late, follow, _fine = await _book(workflow, token_for, unique, tz)
    r = await workflow.post(
        "/api/workflow/customers/lookup",
        json={"cifs": [follow, unique("NOPE"), late]},
        headers=token_for(Role.AGENT, agent_id=str(await new_agent(workflow, token_for, unique))),
    )
    assert r.status_code == 200, r.text
    items = {row["cif"]: row for row in r.json()["items"]}
    assert set(items) == {late, follow}
    assert items[late]["openPromiseAmount"] == "250.00"
    assert items[follow]["lastContactResult"] == "CONTACTED"
    r = await workflow.post(
        "/api/workflow/customers/lookup", json={"cifs": []}, headers=token_for(Role.AGENT)
    )
    assert [e["field"] for e in _problem(r, 422)["errors"]] == ["cifs"]


async def test_without_loans_a_customer_with_actions_is_listed_as_current(
    workflow, token_for, unique, tz, now
):
    a = await new_agent(workflow, token_for, unique)
    cif = unique("CIF")
    await store(workflow, assigned(cif, call=a, start=at(tz, TODAY, 8)))
    await store(workflow, action(cif, a, at(tz, TODAY, 9), result="CONTACTED"))
    r = await workflow.get(
        "/api/workflow/customers", params={"agentId": a}, headers=token_for(Role.SUPERVISOR)
    )
    (row,) = r.json()["items"]
    assert (row["cif"], row["bucket"], row["totalDue"], row["productTypes"]) == (cif, "CURRENT", "0.00", [])
    assert row["lastResult"] == "CONTACTED"


async def test_racing_actions_on_one_customer_leave_the_newest_result(workflow, token_for, unique, tz, now):
    """Ten transactions record an action on the same customer at once, each begun before any writes;
    the customer's last result is the newest action's, whichever transaction committed last."""
    a = await new_agent(workflow, token_for, unique)
    cif = unique("CIF")
    await store(workflow, assigned(cif, call=a, start=at(tz, TODAY - timedelta(days=5), 8)))
    await store(workflow, action(cif, a, at(tz, TODAY - timedelta(days=4), 9), result="OTHER"))
    all_begun = asyncio.Barrier(10)
    results = ["NO_ANSWER"] * 9 + ["REFUSED"]

    async def record(k: int) -> None:
        async with workflow.app.state.db.transaction() as session:
            await session.execute(select(1))
            await all_begun.wait()
            # the newest (k = 9, 09:09) is REFUSED; the others older and not answered
            session.add(action(cif, a, at(tz, TODAY, 9, k), result=results[k]))

    await asyncio.gather(*(record(k) for k in range(10)))
    r = await workflow.post(
        "/api/workflow/customers/lookup", json={"cifs": [cif]}, headers=token_for(Role.SUPERVISOR)
    )
    (row,) = r.json()["items"]
    assert (row["lastResult"], row["lastContactResult"]) == ("REFUSED", "REFUSED")

"""What an AGENT may write and read beyond its own: CRM_AGENT_WRITE_SCOPE, and the one rule for
another agent's data (its workload, queue, performance and customer list are 403)."""

from __future__ import annotations

import pytest

from crm.platform.auth import Role
from tests.workflow import test_actions
from tests.workflow.test_actions import _at, _call, _history, _new_agent, _problem, _yesterday

world = test_actions.world  # one agent with its token and a customer with a loan


@pytest.fixture
def assigned_only(workflow, monkeypatch):
    monkeypatch.setattr(workflow.app.state.settings, "agent_write_scope", "assigned")


async def test_by_default_an_agent_records_on_any_customer_an_inbound_call(workflow, world):
    when = _at(workflow, _yesterday(workflow), "11:00:00")
    r = await workflow.post("/api/actions", json=_call(world, actionDate=when), headers=world.agent)
    assert r.status_code == 201, r.text
    case = {"cif": world.cif, "customerStatus": "COOPERATIVE"}
    assert (await workflow.post("/api/cases", json=case, headers=world.agent)).status_code == 201


async def test_with_assigned_scope_an_agent_records_only_on_its_own_customers(
    workflow, token_for, world, assigned_only
):
    when = _at(workflow, _yesterday(workflow), "11:00:00")
    refused = _problem(
        await workflow.post("/api/actions", json=_call(world, actionDate=when), headers=world.agent), 403
    )
    assert refused["code"] == "scope.not_assigned" and refused["params"] == {"cif": world.cif}
    case = {"cif": world.cif, "customerStatus": "COOPERATIVE"}
    assert _problem(await workflow.post("/api/cases", json=case, headers=world.agent), 403)["code"] == (
        "scope.not_assigned"
    )
    supervisor = token_for(Role.SUPERVISOR)
    assert (await _history(workflow, supervisor, f"/api/actions/customer/{world.cif}"))["total"] == 0
    assert (await _history(workflow, supervisor, f"/api/cases/customer/{world.cif}"))["history"] == []
    assert (
        await workflow.post("/api/cases", json=case, headers=supervisor)
    ).status_code == 201  # not limited

    assigned = await workflow.post(
        "/api/assignments",
        json={"cif": world.cif, "assignedFieldAgentId": world.agent_id},
        headers=supervisor,
    )
    assert assigned.status_code == 201, assigned.text
    r = await workflow.post("/api/actions", json=_call(world, actionDate=when), headers=world.agent)
    assert r.status_code == 201, r.text
    assert (await workflow.post("/api/cases", json=case, headers=world.agent)).status_code == 201


async def test_an_agent_reads_only_its_own_agent_figures_and_customer_list(
    workflow, token_for, unique, world
):
    other = await _new_agent(workflow, token_for, unique)
    for path in (
        "/api/agents/{id}/workload",
        "/api/agents/{id}/queue",
        "/api/agents/{id}/performance",
        "/api/assignments/agent/{id}",
    ):
        mine = await workflow.get(path.format(id=world.agent_id), headers=world.agent)
        assert mine.status_code == 200, (path, mine.text)
        theirs = _problem(await workflow.get(path.format(id=other), headers=world.agent), 403)
        assert theirs["code"] == "scope.other_agent", path
        assert (
            await workflow.get(path.format(id=other), headers=token_for(Role.SUPERVISOR))
        ).status_code == 200
    # by customer, every agent reads: an inbound call can be anyone's customer
    assert (
        await workflow.get(f"/api/assignments/customer/{world.cif}/history", headers=world.agent)
    ).status_code == 200

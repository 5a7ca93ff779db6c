"""Agents: ADMIN creates and updates them, everyone in the workflow reads them, every change is audited."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from crm.platform.auth import Role
from crm.workflow.models import platform_tables


def agent(employee_id: str, **overrides):
    body = {
        "employeeId": employee_id,
        "name": "Nguyễn Văn An",
        "email": "an.nguyen@bank.example",
        "phone": "+84901234567",
        "type": "AGENT",
        "team": "EARLY_STAGE_CALL",
        "maxCustomers": 120,
    }
    return {**body, **overrides}


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


async def _audit_rows(workflow, entity_key: str):
    audit = platform_tables.audit_log
    async with workflow.app.state.db.transaction() as session:
        rows = await session.execute(
            select(audit)
            .where(audit.c.entity_type == "Agent", audit.c.entity_key == entity_key)
            .order_by(audit.c.id)
        )
        return rows.all()


async def test_admin_creates_an_agent_that_everyone_can_read(workflow, token_for, unique):
    employee_id = unique("EMP")
    admin = token_for(Role.ADMIN, subject="admin-alice")
    created = await workflow.post("/api/agents", json=agent(employee_id), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["employeeId"] == employee_id and body["team"] == "EARLY_STAGE_CALL"
    assert body["isActive"] is True and body["maxCustomers"] == 120 and body["userId"] is None
    uuid.UUID(body["id"])

    for role in (Role.AGENT, Role.SUPERVISOR, Role.SYSTEM):
        fetched = await workflow.get(f"/api/agents/{body['id']}", headers=token_for(role))
        assert fetched.status_code == 200 and fetched.json() == body

    [row] = await _audit_rows(workflow, employee_id)
    assert row.action == "CREATE" and row.actor == "admin-alice" and row.actor_roles == ["ADMIN"]
    assert row.before is None
    assert row.after["employee_id"] == employee_id and row.after["email"] == "an.nguyen@bank.example"
    assert row.after["id"] == body["id"]


async def test_duplicate_employee_id_is_409_and_changes_nothing(workflow, token_for, unique):
    employee_id = unique("EMP")
    admin = token_for(Role.ADMIN)
    assert (await workflow.post("/api/agents", json=agent(employee_id), headers=admin)).status_code == 201
    again = await workflow.post("/api/agents", json=agent(employee_id, name="Someone Else"), headers=admin)
    problem = _problem(again, 409)
    assert employee_id in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["employeeId"]
    assert len(await _audit_rows(workflow, employee_id)) == 1


async def test_concurrent_creates_with_one_employee_id_make_one_agent(workflow, token_for, unique):
    employee_id = unique("EMP")
    admin = token_for(Role.ADMIN)
    answers = await asyncio.gather(
        *(workflow.post("/api/agents", json=agent(employee_id), headers=admin) for _ in range(6))
    )
    assert sorted(r.status_code for r in answers) == [201] + [409] * 5
    for r in answers:
        if r.status_code == 409:
            assert r.headers["content-type"] == "application/problem+json"
    assert len(await _audit_rows(workflow, employee_id)) == 1


async def test_duplicate_login_is_409(workflow, token_for, unique):
    admin = token_for(Role.ADMIN)
    login = unique("user.").lower()
    first = await workflow.post("/api/agents", json=agent(unique("EMP"), userId=login), headers=admin)
    assert first.status_code == 201 and first.json()["userId"] == login
    second = await workflow.post("/api/agents", json=agent(unique("EMP"), userId=login), headers=admin)
    assert [e["field"] for e in _problem(second, 409)["errors"]] == ["userId"]


async def test_list_filters_by_team_type_and_active(workflow, token_for, unique):
    admin = token_for(Role.ADMIN)
    caller = token_for(Role.SUPERVISOR)
    legal = agent(unique("EMP"), team="LEGAL", type="SUPERVISOR")
    retired = agent(unique("EMP"), team="LEGAL", type="AGENT", isActive=False)
    field = agent(unique("EMP"), team="LATE_STAGE_FIELD")
    ids = {}
    for body in (legal, retired, field):
        r = await workflow.post("/api/agents", json=body, headers=admin)
        assert r.status_code == 201, r.text
        ids[body["employeeId"]] = r.json()["id"]

    async def listed(query: str) -> dict:
        r = await workflow.get(f"/api/agents?{query}&pageSize=500", headers=caller)
        assert r.status_code == 200, r.text
        return r.json()

    by_team = await listed("team=LEGAL")
    found = {a["employeeId"] for a in by_team["items"]}
    assert {legal["employeeId"], retired["employeeId"]} <= found and field["employeeId"] not in found
    assert all(a["team"] == "LEGAL" for a in by_team["items"])
    assert by_team["total"] == len(by_team["items"]) and by_team["page"] == 1 and by_team["pageSize"] == 500

    active_supervisors = await listed("team=LEGAL&type=SUPERVISOR&isActive=true")
    assert legal["employeeId"] in {a["employeeId"] for a in active_supervisors["items"]}
    assert all(a["type"] == "SUPERVISOR" and a["isActive"] for a in active_supervisors["items"])

    inactive = await listed("isActive=false")
    assert retired["employeeId"] in {a["employeeId"] for a in inactive["items"]}
    assert not any(a["isActive"] for a in inactive["items"])

    one = await workflow.get("/api/agents?team=LEGAL&page=2&pageSize=1", headers=caller)
    assert one.status_code == 200
    assert len(one.json()["items"]) == 1 and one.json()["total"] >= 2 and one.json()["page"] == 2


async def test_partial_update_changes_only_the_given_fields_and_is_audited(workflow, token_for, unique):
    employee_id = unique("EMP")
    admin = token_for(Role.ADMIN, subject="admin-bob")
    created = (await workflow.post("/api/agents", json=agent(employee_id), headers=admin)).json()

    r = await workflow.put(
        f"/api/agents/{created['id']}",
        json={"team": "MID_STAGE_FIELD", "maxCustomers": 80, "phone": None},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["team"] == "MID_STAGE_FIELD" and updated["maxCustomers"] == 80 and updated["phone"] is None
    assert updated["name"] == created["name"] and updated["email"] == created["email"]
    assert updated["employeeId"] == employee_id and updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] > created["updatedAt"]
    fetched = await workflow.get(f"/api/agents/{created['id']}", headers=token_for(Role.AGENT))
    assert fetched.json() == updated

    create_row, update_row = await _audit_rows(workflow, employee_id)
    assert create_row.action == "CREATE"
    assert update_row.action == "UPDATE" and update_row.actor == "admin-bob"
    assert update_row.before["team"] == "EARLY_STAGE_CALL" and update_row.after["team"] == "MID_STAGE_FIELD"
    assert update_row.before["max_customers"] == 120 and update_row.after["max_customers"] == 80
    assert update_row.before["phone"] == "+84901234567" and update_row.after["phone"] is None


async def test_update_refuses_null_for_required_fields_and_a_new_employee_id(workflow, token_for, unique):
    admin = token_for(Role.ADMIN)
    created = (await workflow.post("/api/agents", json=agent(unique("EMP")), headers=admin)).json()
    url = f"/api/agents/{created['id']}"
    for body, field in [
        ({"name": None}, "name"),
        ({"maxCustomers": -1}, "maxCustomers"),
        ({"employeeId": "OTHER"}, "employeeId"),
        ({"team": "NIGHT_SHIFT"}, "team"),
    ]:
        problem = _problem(await workflow.put(url, json=body, headers=admin), 422)
        assert [e["field"] for e in problem["errors"]] == [field]
    assert (await workflow.get(url, headers=admin)).json() == created


async def test_unknown_agent_is_404(workflow, token_for):
    missing = uuid.uuid4()
    _problem(await workflow.get(f"/api/agents/{missing}", headers=token_for(Role.AGENT)), 404)
    r = await workflow.put(f"/api/agents/{missing}", json={"name": "X"}, headers=token_for(Role.ADMIN))
    assert str(missing) in _problem(r, 404)["detail"]


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AGENT, Role.SYSTEM])
async def test_only_admin_creates_or_updates_agents(workflow, token_for, unique, role):
    employee_id = unique("EMP")
    headers = token_for(role)
    _problem(await workflow.post("/api/agents", json=agent(employee_id), headers=headers), 403)
    existing = (
        await workflow.post("/api/agents", json=agent(unique("EMP")), headers=token_for(Role.ADMIN))
    ).json()
    _problem(await workflow.put(f"/api/agents/{existing['id']}", json={"name": "X"}, headers=headers), 403)
    assert await _audit_rows(workflow, employee_id) == []
    assert (await workflow.get(f"/api/agents/{existing['id']}", headers=headers)).json()["name"] == existing[
        "name"
    ]


async def test_without_a_token_is_401(workflow, unique):
    _problem(await workflow.get("/api/agents"), 401)
    _problem(await workflow.post("/api/agents", json=agent(unique("EMP"))), 401)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"team": "NIGHT_SHIFT"}, "team"),
        ({"type": "BOSS"}, "type"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"phone": "call me"}, "phone"),
        ({"maxCustomers": -5}, "maxCustomers"),
        ({"employeeId": "has space"}, "employeeId"),
    ],
)
async def test_bad_values_are_422_naming_the_field(workflow, token_for, unique, override, field):
    employee_id = unique("EMP")
    admin = token_for(Role.ADMIN)
    r = await workflow.post("/api/agents", json=agent(employee_id, **override), headers=admin)
    problem = _problem(r, 422)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert all(e["message"] for e in problem["errors"])
    assert await _audit_rows(workflow, employee_id) == []


async def test_bad_filter_is_422_naming_the_parameter(workflow, token_for):
    r = await workflow.get("/api/agents?team=NIGHT_SHIFT", headers=token_for(Role.AGENT))
    problem = _problem(r, 422)
    assert [e["field"] for e in problem["errors"]] == ["team"]
    assert "EARLY_STAGE_CALL" in problem["errors"][0]["message"]

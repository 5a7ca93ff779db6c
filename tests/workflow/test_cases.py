"""Case status updates: the current status is the latest value of each field, every update is audited
and announced on the bus as STATUS_CHANGED."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from nats.js.api import DeliverPolicy
from sqlalchemy import select

from crm.platform.auth import Role
from crm.workflow.models import platform_tables

EMPTY = {
    "customerStatus": None,
    "collateralStatus": None,
    "processingStateStatus": None,
    "lendingViolationStatus": None,
    "recoveryAbilityStatus": None,
}


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


async def _case(workflow, cif: str, headers, query: str = "") -> dict:
    r = await workflow.get(f"/api/cases/customer/{cif}{query}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_current_status_is_the_latest_value_of_each_field(workflow, token_for, unique):
    cif = unique("CIF")
    agent = token_for(Role.AGENT, agent_id="agent-1", subject="agent.linh")
    first = await workflow.post(
        "/api/cases",
        json={
            "cif": cif,
            "customerStatus": "COOPERATIVE",
            "collateralStatus": "SECURED",
            "notes": "Customer agreed to meet at the branch.",
        },
        headers=agent,
    )
    assert first.status_code == 201, first.text
    assert first.json()["createdBy"] == "agent.linh" and first.json()["cif"] == cif
    second = await workflow.post(
        "/api/cases",
        json={"cif": cif, "customerStatus": "UNCOOPERATIVE", "recoveryAbilityStatus": "LOW"},
        headers=token_for(Role.SUPERVISOR, subject="sup.minh"),
    )
    assert second.status_code == 201, second.text
    assert second.json()["notes"] is None and second.json()["collateralStatus"] is None

    case = await _case(workflow, cif, token_for(Role.SYSTEM))
    assert case["cif"] == cif
    assert case["current"] == {
        **EMPTY,
        "customerStatus": "UNCOOPERATIVE",
        "collateralStatus": "SECURED",
        "recoveryAbilityStatus": "LOW",
    }
    assert [h["id"] for h in case["history"]] == [second.json()["id"], first.json()["id"]]
    assert [h["createdBy"] for h in case["history"]] == ["sup.minh", "agent.linh"]
    assert case["history"][1]["notes"] == "Customer agreed to meet at the branch."
    assert case["total"] == 2 and case["page"] == 1


async def test_a_back_dated_update_does_not_override_a_later_one(workflow, token_for, unique):
    cif = unique("CIF")
    headers = token_for(Role.AGENT)
    now = datetime.now(UTC)
    later = await workflow.post(
        "/api/cases",
        json={"cif": cif, "customerStatus": "DISPUTED", "actionDate": now.isoformat()},
        headers=headers,
    )
    earlier = await workflow.post(
        "/api/cases",
        json={
            "cif": cif,
            "customerStatus": "COOPERATIVE",
            "processingStateStatus": "NEW",
            "actionDate": (now - timedelta(days=3)).isoformat(),
        },
        headers=headers,
    )
    assert later.status_code == 201 and earlier.status_code == 201
    case = await _case(workflow, cif, headers)
    assert case["current"] == {**EMPTY, "customerStatus": "DISPUTED", "processingStateStatus": "NEW"}
    assert [h["id"] for h in case["history"]] == [later.json()["id"], earlier.json()["id"]]

    page_two = await _case(workflow, cif, headers, "?page=2&pageSize=1")
    assert [h["id"] for h in page_two["history"]] == [earlier.json()["id"]]
    assert page_two["total"] == 2 and page_two["current"] == case["current"]


async def test_a_customer_without_updates_has_an_empty_case(workflow, token_for, unique):
    case = await _case(workflow, unique("CIF"), token_for(Role.AGENT))
    assert case["current"] == EMPTY and case["history"] == [] and case["total"] == 0


async def test_an_update_is_audited_with_its_author(workflow, token_for, unique):
    cif = unique("CIF")
    r = await workflow.post(
        "/api/cases",
        json={"cif": cif, "lendingViolationStatus": "PAYMENT_DELAY", "notes": "Two instalments late."},
        headers=token_for(Role.AGENT, subject="agent.hoa"),
    )
    assert r.status_code == 201, r.text
    audit = platform_tables.audit_log
    async with workflow.app.state.db.transaction() as session:
        [row] = (
            await session.execute(
                select(audit).where(
                    audit.c.entity_type == "CustomerCaseAction", audit.c.entity_key == r.json()["id"]
                )
            )
        ).all()
    assert row.action == "CREATE" and row.actor == "agent.hoa" and row.actor_roles == ["AGENT"]
    assert row.before is None
    assert row.after["cif"] == cif and row.after["created_by"] == "agent.hoa"
    assert row.after["lending_violation_status"] == "PAYMENT_DELAY"
    assert row.after["notes"] == "Two instalments late." and row.after["customer_status"] is None


async def test_status_changed_event_reaches_nats(workflow, token_for, unique):
    cif = unique("CIF")
    sub = await workflow.app.state.bus.js.subscribe(
        "crm.workflow.status_changed", ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    try:
        r = await workflow.post(
            "/api/cases",
            json={"cif": cif, "customerStatus": "UNREACHABLE", "recoveryAbilityStatus": "VERY_LOW"},
            headers=token_for(Role.AGENT, agent_id="agent-42"),
        )
        assert r.status_code == 201, r.text
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, "no STATUS_CHANGED event for this customer within 10 s"
            try:
                msg = await sub.next_msg(timeout=remaining)
            except TimeoutError:
                continue
            event = json.loads(msg.data)
            if event.get("cif") == cif:
                break
    finally:
        await sub.unsubscribe()
    assert event["type"] == "STATUS_CHANGED" and event["entityId"] == r.json()["id"]
    assert event["agentId"] == "agent-42"
    assert event["details"] == {"customerStatus": "UNREACHABLE", "recoveryAbilityStatus": "VERY_LOW"}
    assert msg.headers["Nats-Msg-Id"] == event["eventId"]


async def test_notes_only_update_is_stored_without_a_status_event(workflow, token_for, unique):
    cif = unique("CIF")
    headers = token_for(Role.AGENT)
    r = await workflow.post("/api/cases", json={"cif": cif, "notes": "Left a voicemail."}, headers=headers)
    assert r.status_code == 201, r.text
    case = await _case(workflow, cif, headers)
    assert case["current"] == EMPTY and [h["notes"] for h in case["history"]] == ["Left a voicemail."]
    outbox = platform_tables.outbox
    async with workflow.app.state.db.transaction() as session:
        staged = (await session.execute(select(outbox.c.id).where(outbox.c.payload.contains(cif)))).all()
    assert staged == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"notes": "   "}, "notes"),
        ({"customerStatus": "HAPPY"}, "customerStatus"),
        ({"recoveryAbilityStatus": "low"}, "recoveryAbilityStatus"),
        ({"customerStatus": "COOPERATIVE", "actionDate": "2999-01-01T00:00:00+07:00"}, "actionDate"),
        ({"customerStatus": "COOPERATIVE", "actionDate": "2026-11-28T09:30:00"}, "actionDate"),
        ({"customerStatus": "COOPERATIVE", "cif": ""}, "cif"),
    ],
)
async def test_bad_updates_are_422_and_store_nothing(workflow, token_for, unique, body, field):
    cif = unique("CIF")
    headers = token_for(Role.AGENT)
    problem = _problem(await workflow.post("/api/cases", json={"cif": cif, **body}, headers=headers), 422)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert all(e["message"] for e in problem["errors"])
    assert (await _case(workflow, cif, headers))["total"] == 0


async def test_system_reads_cases_but_cannot_write_them(workflow, token_for, unique):
    cif = unique("CIF")
    body = {"cif": cif, "customerStatus": "COOPERATIVE"}
    _problem(await workflow.post("/api/cases", json=body, headers=token_for(Role.SYSTEM)), 403)
    _problem(await workflow.post("/api/cases", json=body, headers=token_for(Role.PAYMENT_PROCESSOR)), 403)
    _problem(await workflow.post("/api/cases", json=body), 401)
    _problem(await workflow.get(f"/api/cases/customer/{cif}", headers=token_for(Role.PAYMENT_PROCESSOR)), 403)
    assert (await _case(workflow, cif, token_for(Role.SYSTEM)))["total"] == 0

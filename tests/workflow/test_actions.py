"""Actions: recorded by agents as themselves, checked against the vocabularies, the customer's bank
data and the contact rules (UTC+7 business time), announced as ACTION_RECORDED, read back newest first."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from crm.platform.auth import Role
from crm.platform.business_time import business_date, day_bounds
from crm.platform.http import ServiceClient
from crm.workflow.actions import rules
from crm.workflow.actions.models import ActionRecord
from crm.workflow.bank_data import BankDataQueryService
from crm.workflow.models import platform_tables
from crm.workflow.readmodel.models import LoanView
from tests.bank_sync.test_customers_loans import add_customer_with_loan


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


@dataclass
class World:
    """One agent, its token, and a customer with one loan (dpd 35, due 2,000,000)."""

    agent_id: str
    agent: dict[str, str]
    cif: str
    account: str


async def _new_agent(workflow, token_for, unique, **overrides) -> str:
    body = {
        "employeeId": unique("EMP"),
        "name": "Trần Thị Bình",
        "email": "binh.tran@bank.example",
        "type": "AGENT",
        "team": "EARLY_STAGE_CALL",
        "maxCustomers": 100,
        **overrides,
    }
    r = await workflow.post("/api/agents", json=body, headers=token_for(Role.ADMIN))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
async def world(workflow, bank_sync, token_for, unique) -> World:
    agent_id = await _new_agent(workflow, token_for, unique)
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(bank_sync.app, cif, account, dpd=35, due_amount="2000000.00")
    return World(agent_id, token_for(Role.AGENT, agent_id=agent_id, subject="agent.binh"), cif, account)


def _tz(workflow):
    return workflow.app.state.settings.tz


def _today(workflow) -> date:
    return datetime.now(_tz(workflow)).date()


def _at(workflow, day: date, clock: str) -> str:
    """An ISO datetime at ``clock`` (HH:MM:SS) business time on ``day``."""
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=_tz(workflow)).isoformat()


def _yesterday(workflow) -> date:
    return _today(workflow) - timedelta(days=1)


def _call(world: World, **overrides) -> dict:
    return {
        "cif": world.cif,
        "agentId": world.agent_id,
        "type": "CALL",
        "subtype": "CALL_OUTBOUND",
        "actionResult": "NO_ANSWER",
        **overrides,
    }


async def _history(workflow, headers, path: str) -> dict:
    r = await workflow.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _audit(workflow, action_id: str):
    audit = platform_tables.audit_log
    async with workflow.app.state.db.transaction() as session:
        rows = await session.execute(
            select(audit)
            .where(audit.c.entity_type == "ActionRecord", audit.c.entity_key == action_id)
            .order_by(audit.c.id)
        )
        return rows.all()


async def test_an_agent_records_a_call_with_snapshots_and_an_event(workflow, world):
    day = _yesterday(workflow)
    r = await workflow.post(
        "/api/actions",
        json=_call(
            world,
            loanAccountNumber=world.account,
            actionDate=_at(workflow, day, "10:15:00"),
            notes="Rang twice, no answer.",
            callTraceId="PBX-7781",
        ),
        headers=world.agent,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["cif"] == world.cif and body["loanAccountNumber"] == world.account
    assert body["agentId"] == world.agent_id and body["type"] == "CALL" and body["subtype"] == "CALL_OUTBOUND"
    assert body["actionResult"] == "NO_ANSWER" and body["notes"] == "Rang twice, no answer."
    assert datetime.fromisoformat(body["actionDate"]) == datetime.fromisoformat(
        _at(workflow, day, "10:15:00")
    )
    assert body["dpdAtAction"] == 35 and body["dueAmountAtAction"] == "2000000.00"
    assert body["followUpDate"] == (day + timedelta(days=1)).isoformat()  # NO_ANSWER: 1 day
    assert body["promiseAmount"] is None and body["promiseDate"] is None and body["promiseStatus"] is None
    assert body["callTraceId"] == "PBX-7781" and body["rulesOverriddenBy"] is None
    assert body["createdBy"] == "agent.binh" and body["updatedBy"] == "agent.binh"

    outbox = platform_tables.outbox
    async with workflow.app.state.db.transaction() as session:
        [row] = (await session.execute(select(outbox).where(outbox.c.payload.contains(body["id"])))).all()
    assert row.subject == "crm.workflow.action_recorded"
    event = json.loads(row.payload)
    assert event["type"] == "ACTION_RECORDED" and event["entityId"] == body["id"]
    assert event["agentId"] == world.agent_id and event["cif"] == world.cif
    assert event["details"]["type"] == "CALL" and event["details"]["actionResult"] == "NO_ANSWER"
    assert event["details"]["promiseAmount"] is None and event["details"]["promiseDate"] is None

    [audit] = await _audit(workflow, body["id"])
    assert audit.action == "CREATE" and audit.actor == "agent.binh"


async def test_without_a_loan_the_snapshots_are_the_customers_and_action_date_defaults_to_now(
    workflow, world
):
    def note() -> dict:
        return _call(
            world, type="NOTE", subtype=None, actionResult="PENDING", notes="Waiting for the branch."
        )

    r = await workflow.post("/api/actions", json=note(), headers=world.agent)
    assert r.status_code == 201, r.text
    assert (r.json()["dpdAtAction"], r.json()["dueAmountAtAction"]) == (None, None), "no loans known yet"

    # The customer's loans as workflow's read model knows them (SyncEvents keep it in production).
    async with workflow.app.state.db.transaction() as session:
        for account, dpd, due in ((world.account, 35, "2000000.00"), (world.account + "B", 62, "750000.50")):
            session.add(
                LoanView(
                    account_number=account,
                    cif=world.cif,
                    currency="VND",
                    outstanding=Decimal("9000000.00"),
                    due_amount=Decimal(due),
                    dpd=dpd,
                    status="OPEN",
                )
            )
    before = datetime.now(UTC)
    r = await workflow.post("/api/actions", json=note(), headers=world.agent)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["dpdAtAction"] == 62 and body["dueAmountAtAction"] == "2750000.50", "worst dpd, total due"
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(body["actionDate"]) <= datetime.now(UTC)
    assert body["followUpDate"] == (_today(workflow) + timedelta(days=1)).isoformat()


async def test_a_promise_to_pay_up_to_the_horizon(workflow, world):
    horizon = workflow.app.state.settings.promise_horizon_days
    last = _today(workflow) + timedelta(days=horizon)
    promise = _call(
        world,
        loanAccountNumber=world.account,
        actionResult="PROMISE_TO_PAY",
        actionDate=_at(workflow, _yesterday(workflow), "15:00:00"),
        promiseAmount="1500000.00",
        promiseDate=last.isoformat(),
    )
    r = await workflow.post("/api/actions", json=promise, headers=world.agent)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["promiseAmount"] == "1500000.00" and body["promiseDate"] == last.isoformat()
    assert body["promiseStatus"] == "OPEN" and body["followUpDate"] == last.isoformat()
    outbox = platform_tables.outbox
    async with workflow.app.state.db.transaction() as session:
        [payload] = (
            await session.execute(select(outbox.c.payload).where(outbox.c.payload.contains(body["id"])))
        ).scalars()
    details = json.loads(payload)["details"]
    assert details["promiseAmount"] == "1500000.00" and details["promiseDate"] == last.isoformat()

    too_far = (last + timedelta(days=1)).isoformat()
    for changes, field in (
        ({"promiseDate": too_far}, "promiseDate"),
        ({"promiseDate": _yesterday(workflow).isoformat()}, "promiseDate"),
        ({"promiseDate": None}, "promiseDate"),
        ({"promiseAmount": None}, "promiseAmount"),
        ({"promiseAmount": "0"}, "promiseAmount"),
        ({"promiseAmount": "-5.00"}, "promiseAmount"),
        ({"promiseAmount": "10.001"}, "promiseAmount"),
        ({"actionResult": "NO_ANSWER", "promiseDate": None}, "promiseAmount"),
        ({"actionResult": "NO_ANSWER", "promiseAmount": None}, "promiseDate"),
    ):
        problem = _problem(
            await workflow.post("/api/actions", json={**promise, **changes}, headers=world.agent), 422
        )
        assert [e["field"] for e in problem["errors"]] == [field], changes
        assert all(e["message"] for e in problem["errors"])
    history = await _history(workflow, world.agent, f"/api/actions/customer/{world.cif}")
    assert history["total"] == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "TELEPATHY"}, "type"),
        ({"subtype": "VISIT_SCHEDULED"}, "subtype"),
        ({"subtype": "NO_SUCH_SUBTYPE"}, "subtype"),
        ({"actionResult": "NOT_HOME"}, "actionResult"),
        ({"actionResult": "NO_SUCH_RESULT"}, "actionResult"),
        ({"actionResult": None}, "actionResult"),
        ({"cif": "NO-SUCH-CUSTOMER"}, "cif"),
        ({"loanAccountNumber": "NO-SUCH-LOAN"}, "loanAccountNumber"),
        ({"agentId": "5b0b6a55-0000-4000-8000-000000000000"}, "agentId"),
        ({"agentId": "not-a-uuid"}, "agentId"),
        ({"visitLatitude": "10.776900"}, "visitLatitude"),
        ({"visitLongitude": "106.700900"}, "visitLongitude"),
        (
            {
                "type": "VISIT",
                "subtype": None,
                "actionResult": "NOT_HOME",
                "visitLatitude": "90.5",
                "visitLongitude": "106.7",
            },
            "visitLatitude",
        ),
        (
            {
                "type": "VISIT",
                "subtype": None,
                "actionResult": "NOT_HOME",
                "visitLatitude": "10.7",
                "visitLongitude": "-181",
            },
            "visitLongitude",
        ),
        (
            {"type": "VISIT", "subtype": None, "actionResult": "NOT_HOME", "visitLatitude": "10.7"},
            "visitLongitude",
        ),
        ({"actionDate": "2999-01-01T10:00:00+07:00"}, "actionDate"),
        ({"actionDate": "2026-11-20T10:00:00"}, "actionDate"),
        ({"notes": "x" * 4001}, "notes"),
        ({"overrideContactRules": "perhaps"}, "overrideContactRules"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_actions_are_422_naming_the_field(workflow, token_for, world, changes, field):
    supervisor = token_for(Role.SUPERVISOR)
    body = {**_call(world, actionDate=_at(workflow, _yesterday(workflow), "11:00:00")), **changes}
    problem = _problem(await workflow.post("/api/actions", json=body, headers=supervisor), 422)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert all(e["message"] for e in problem["errors"])
    assert (await _history(workflow, supervisor, f"/api/actions/customer/{world.cif}"))["total"] == 0


async def test_a_loan_of_another_customer_or_an_inactive_agent_is_refused(
    workflow, bank_sync, token_for, unique, world
):
    other_cif, other_loan = unique("CIF"), unique("LN")
    await add_customer_with_loan(bank_sync.app, other_cif, other_loan)
    supervisor = token_for(Role.SUPERVISOR)
    when = _at(workflow, _yesterday(workflow), "11:00:00")
    problem = _problem(
        await workflow.post(
            "/api/actions",
            json=_call(world, loanAccountNumber=other_loan, actionDate=when),
            headers=supervisor,
        ),
        422,
    )
    assert [e["field"] for e in problem["errors"]] == ["loanAccountNumber"]

    retired = await _new_agent(workflow, token_for, unique, isActive=False)
    problem = _problem(
        await workflow.post(
            "/api/actions", json=_call(world, agentId=retired, actionDate=when), headers=supervisor
        ),
        422,
    )
    assert [e["field"] for e in problem["errors"]] == ["agentId"]


async def test_bank_sync_unreachable_is_a_503(workflow, tokens, world):
    app = workflow.app
    reachable = app.state.bank_data
    app.state.bank_data = BankDataQueryService(
        ServiceClient("http://127.0.0.1:9", tokens, caller="workflow", timeout=1.0), ttl_seconds=0.001
    )
    try:
        r = await workflow.post(
            "/api/actions",
            json=_call(world, type="NOTE", subtype=None, actionResult="OTHER"),
            headers=world.agent,
        )
    finally:
        await app.state.bank_data.close()
        app.state.bank_data = reachable
    assert _problem(r, 503)["status"] == 503
    assert (await _history(workflow, world.agent, f"/api/actions/customer/{world.cif}"))["total"] == 0


async def test_an_agent_records_only_as_itself_and_cannot_override(workflow, token_for, unique, world):
    someone_else = await _new_agent(workflow, token_for, unique)
    when = _at(workflow, _yesterday(workflow), "11:00:00")
    _problem(
        await workflow.post(
            "/api/actions", json=_call(world, agentId=someone_else, actionDate=when), headers=world.agent
        ),
        403,
    )
    no_agent_id = token_for(Role.AGENT)
    _problem(
        await workflow.post("/api/actions", json=_call(world, actionDate=when), headers=no_agent_id), 403
    )
    _problem(
        await workflow.post(
            "/api/actions", json=_call(world, actionDate=when, overrideContactRules=True), headers=world.agent
        ),
        403,
    )
    _problem(
        await workflow.post(
            "/api/actions", json=_call(world, actionDate=when), headers=token_for(Role.SYSTEM)
        ),
        403,
    )
    assert (await _history(workflow, world.agent, f"/api/actions/customer/{world.cif}"))["total"] == 0

    for_other = await workflow.post(
        "/api/actions",
        json=_call(world, agentId=someone_else, actionDate=when),
        headers=token_for(Role.SUPERVISOR),
    )
    assert for_other.status_code == 201, for_other.text
    assert for_other.json()["agentId"] == someone_else


async def test_a_result_added_by_an_admin_is_then_accepted(workflow, token_for, unique, world):
    code = unique("RES_")
    when = _at(workflow, _yesterday(workflow), "11:00:00")
    visit = _call(world, type="VISIT", subtype="VISIT_SCHEDULED", actionResult=code, actionDate=when)
    problem = _problem(await workflow.post("/api/actions", json=visit, headers=world.agent), 422)
    assert [e["field"] for e in problem["errors"]] == ["actionResult"]

    created = await workflow.post(
        "/api/vocabularies",
        json={
            "kind": "ACTION_RESULT",
            "code": code,
            "label": "Met a relative",
            "isContact": False,
            "followUpDays": 4,
            "parentType": "VISIT",
        },
        headers=token_for(Role.ADMIN),
    )
    assert created.status_code == 201, created.text
    r = await workflow.post(
        "/api/actions",
        json={
            **visit,
            "visitLatitude": "10.776900",
            "visitLongitude": "106.700900",
            "visitAddress": "12 Le Loi",
        },
        headers=world.agent,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["actionResult"] == code and body["visitLatitude"] == "10.776900"
    assert body["visitLongitude"] == "106.700900" and body["visitAddress"] == "12 Le Loi"
    assert body["followUpDate"] == (_yesterday(workflow) + timedelta(days=4)).isoformat()
    # Linked to VISIT only: a CALL may not end with it.
    problem = _problem(
        await workflow.post(
            "/api/actions", json=_call(world, actionResult=code, actionDate=when), headers=world.agent
        ),
        422,
    )
    assert [e["field"] for e in problem["errors"]] == ["actionResult"]

    retired = await workflow.delete(f"/api/vocabularies/ACTION_RESULT/{code}", headers=token_for(Role.ADMIN))
    assert retired.status_code == 200
    problem = _problem(await workflow.post("/api/actions", json=visit, headers=world.agent), 422)
    assert [e["field"] for e in problem["errors"]] == ["actionResult"]
    stored = await _history(workflow, world.agent, f"/api/actions/customer/{world.cif}")
    assert [a["actionResult"] for a in stored["items"]] == [code]


@pytest.mark.parametrize(
    ("action_type", "clock", "accepted"),
    [
        ("CALL", "06:59:59", False),
        ("CALL", "07:00:00", True),
        ("CALL", "21:00:00", True),
        ("CALL", "21:00:01", False),
        ("VISIT", "06:59:59", False),
        ("VISIT", "21:00:01", False),
        ("SMS", "23:30:00", True),
    ],
)
async def test_contact_hours_in_business_time(workflow, world, action_type, clock, accepted):
    """07:00-21:00 in UTC+7, both ends included; other types than CALL and VISIT are not bound."""
    results = {"CALL": "NO_ANSWER", "VISIT": "NOT_HOME", "SMS": "PENDING"}
    body = _call(
        world,
        type=action_type,
        subtype=None,
        actionResult=results[action_type],
        actionDate=_at(workflow, _yesterday(workflow), clock),
    )
    r = await workflow.post("/api/actions", json=body, headers=world.agent)
    if accepted:
        assert r.status_code == 201, r.text
        assert r.json()["rulesOverriddenBy"] is None
    else:
        problem = _problem(r, 422)
        assert [e["field"] for e in problem["errors"]] == ["actionDate"]
        assert "contact hours" in problem["detail"] and clock in problem["detail"]


async def test_the_sixth_call_of_the_day_needs_a_supervisor(workflow, token_for, world):
    day = _yesterday(workflow)
    for minute in range(5):
        r = await workflow.post(
            "/api/actions",
            json=_call(world, actionDate=_at(workflow, day, f"09:0{minute}:00")),
            headers=world.agent,
        )
        assert r.status_code == 201, r.text
    # Other types do not count as call attempts.
    sms = _call(
        world, type="SMS", subtype=None, actionResult="PENDING", actionDate=_at(workflow, day, "09:10:00")
    )
    assert (await workflow.post("/api/actions", json=sms, headers=world.agent)).status_code == 201

    sixth = _call(world, actionDate=_at(workflow, day, "09:30:00"))
    problem = _problem(await workflow.post("/api/actions", json=sixth, headers=world.agent), 422)
    assert [e["field"] for e in problem["errors"]] == ["type"]
    assert "5 CALLs" in problem["detail"]
    _problem(
        await workflow.post(
            "/api/actions", json={**sixth, "overrideContactRules": True}, headers=world.agent
        ),
        403,
    )

    supervisor = token_for(Role.SUPERVISOR, subject="sup.minh")
    r = await workflow.post("/api/actions", json={**sixth, "overrideContactRules": True}, headers=supervisor)
    assert r.status_code == 201, r.text
    assert r.json()["rulesOverriddenBy"] == "sup.minh" and r.json()["agentId"] == world.agent_id
    [audit] = await _audit(workflow, r.json()["id"])
    assert audit.action == "CREATE" and audit.actor == "sup.minh" and audit.actor_roles == ["SUPERVISOR"]
    assert audit.after["rules_overridden_by"] == "sup.minh"

    calls = await _history(workflow, world.agent, f"/api/actions/customer/{world.cif}?type=CALL")
    assert calls["total"] == 6


async def test_an_override_outside_the_hours_is_stored_but_not_without_it(workflow, token_for, world):
    late = _call(world, actionDate=_at(workflow, _yesterday(workflow), "22:30:00"))
    supervisor = token_for(Role.SUPERVISOR, subject="sup.minh")
    _problem(await workflow.post("/api/actions", json=late, headers=supervisor), 422)
    r = await workflow.post(
        "/api/actions",
        json={**late, "overrideContactRules": True},
        headers=token_for(Role.ADMIN, subject="admin-vy"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["rulesOverriddenBy"] == "admin-vy"
    # An override that was not needed is not recorded as one.
    fine = _call(world, actionDate=_at(workflow, _yesterday(workflow), "12:00:00"), overrideContactRules=True)
    r = await workflow.post("/api/actions", json=fine, headers=supervisor)
    assert r.status_code == 201 and r.json()["rulesOverriddenBy"] is None


async def test_call_attempts_reset_at_business_midnight(workflow, world):
    """The day ends at midnight UTC+7 (17:00 UTC). Contact hours are widened to the whole day here
    so that only the attempts rule is at play."""
    settings = workflow.app.state.settings
    hours = settings.contact_hours_start, settings.contact_hours_end
    settings.contact_hours_start, settings.contact_hours_end = time(0, 0), time(23, 59, 59)
    try:
        utc_day = datetime.now(UTC).date() - timedelta(days=3)
        for minute in range(5):
            when = datetime.combine(utc_day, time(10, minute), tzinfo=UTC).isoformat()  # 17:0x business time
            r = await workflow.post("/api/actions", json=_call(world, actionDate=when), headers=world.agent)
            assert r.status_code == 201, r.text
        last_second = datetime.combine(utc_day, time(16, 59, 59), tzinfo=UTC).isoformat()  # 23:59:59
        r = await workflow.post(
            "/api/actions", json=_call(world, actionDate=last_second), headers=world.agent
        )
        assert [e["field"] for e in _problem(r, 422)["errors"]] == ["type"]
        next_day = datetime.combine(utc_day, time(17, 0, 0), tzinfo=UTC).isoformat()  # 00:00 the next day
        r = await workflow.post("/api/actions", json=_call(world, actionDate=next_day), headers=world.agent)
    finally:
        settings.contact_hours_start, settings.contact_hours_end = hours
    assert r.status_code == 201, r.text
    assert r.json()["followUpDate"] == (utc_day + timedelta(days=2)).isoformat()


async def test_an_agent_changes_the_result_of_its_own_action_only(workflow, token_for, unique, world):
    day = _yesterday(workflow)
    r = await workflow.post(
        "/api/actions", json=_call(world, actionDate=_at(workflow, day, "10:00:00")), headers=world.agent
    )
    assert r.status_code == 201, r.text
    action_id = r.json()["id"]
    path = f"/api/actions/{action_id}/result"
    promise_date = (_today(workflow) + timedelta(days=7)).isoformat()
    promise = {
        "actionResult": "PROMISE_TO_PAY",
        "notes": "Called back.",
        "promiseAmount": "500000",
        "promiseDate": promise_date,
    }

    other = await _new_agent(workflow, token_for, unique)
    _problem(await workflow.put(path, json=promise, headers=token_for(Role.AGENT, agent_id=other)), 403)

    r = await workflow.put(path, json=promise, headers=world.agent)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["actionResult"] == "PROMISE_TO_PAY" and body["notes"] == "Called back."
    assert body["promiseAmount"] == "500000.00" and body["promiseDate"] == promise_date
    assert body["promiseStatus"] == "OPEN" and body["followUpDate"] == promise_date
    assert body["updatedBy"] == "agent.binh" and body["createdBy"] == "agent.binh"

    problem = _problem(
        await workflow.put(path, json={**promise, "promiseAmount": None}, headers=world.agent), 422
    )
    assert [e["field"] for e in problem["errors"]] == ["promiseAmount"]
    problem = _problem(await workflow.put(path, json={"actionResult": "NOT_HOME"}, headers=world.agent), 422)
    assert [e["field"] for e in problem["errors"]] == ["actionResult"]

    r = await workflow.put(
        path, json={"actionResult": "CONTACTED"}, headers=token_for(Role.SUPERVISOR, subject="sup.minh")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["promiseAmount"] is None and body["promiseDate"] is None and body["promiseStatus"] is None
    assert body["notes"] is None and body["updatedBy"] == "sup.minh"
    assert body["followUpDate"] == (day + timedelta(days=3)).isoformat()
    assert [a.action for a in await _audit(workflow, action_id)] == ["CREATE", "UPDATE", "UPDATE"]

    _problem(
        await workflow.put(f"/api/actions/{uuid.uuid4()}/result", json=promise, headers=world.agent), 404
    )


async def test_a_settled_promise_cannot_be_edited(workflow, world):
    r = await workflow.post(
        "/api/actions",
        json=_call(
            world,
            actionResult="PROMISE_TO_PAY",
            actionDate=_at(workflow, _yesterday(workflow), "10:00:00"),
            promiseAmount="750000.00",
            promiseDate=_today(workflow).isoformat(),
        ),
        headers=world.agent,
    )
    assert r.status_code == 201, r.text
    async with workflow.app.state.db.transaction() as session:
        await session.execute(
            update(ActionRecord)
            .where(ActionRecord.id == uuid.UUID(r.json()["id"]))
            .values(promise_status="KEPT", promise_settled_at=datetime.now(UTC))
        )
    problem = _problem(
        await workflow.put(
            f"/api/actions/{r.json()['id']}/result", json={"actionResult": "CONTACTED"}, headers=world.agent
        ),
        409,
    )
    assert "KEPT" in problem["detail"]
    stored = await _history(workflow, world.agent, f"/api/actions/customer/{world.cif}")
    assert (
        stored["items"][0]["actionResult"] == "PROMISE_TO_PAY"
        and stored["items"][0]["promiseStatus"] == "KEPT"
    )


async def test_history_is_paged_newest_first_and_filtered(workflow, token_for, world):
    today = _today(workflow)
    days = [today - timedelta(days=n) for n in (5, 1, 3)]
    ids = {}
    for day, (kind, result, loan) in zip(
        days,
        [("CALL", "NO_ANSWER", True), ("SMS", "PENDING", False), ("CALL", "CONTACTED", True)],
        strict=True,
    ):
        body = _call(
            world, type=kind, subtype=None, actionResult=result, actionDate=_at(workflow, day, "10:00:00")
        )
        if loan:
            body["loanAccountNumber"] = world.account
        r = await workflow.post("/api/actions", json=body, headers=world.agent)
        assert r.status_code == 201, r.text
        ids[day] = r.json()["id"]
    newest_first = [ids[d] for d in sorted(days, reverse=True)]
    system = token_for(Role.SYSTEM)

    everything = await _history(workflow, system, f"/api/actions/customer/{world.cif}")
    assert [a["id"] for a in everything["items"]] == newest_first
    assert everything["total"] == 3 and everything["page"] == 1 and everything["pageSize"] == 50

    second = await _history(workflow, system, f"/api/actions/customer/{world.cif}?page=2&pageSize=1")
    assert [a["id"] for a in second["items"]] == newest_first[1:2] and second["total"] == 3

    calls = await _history(workflow, system, f"/api/actions/customer/{world.cif}?type=CALL")
    assert [a["id"] for a in calls["items"]] == [ids[days[2]], ids[days[0]]]

    window = f"?from={days[2].isoformat()}&to={days[1].isoformat()}"
    between = await _history(workflow, system, f"/api/actions/customer/{world.cif}{window}")
    assert [a["id"] for a in between["items"]] == [ids[days[1]], ids[days[2]]]

    loan = await _history(workflow, system, f"/api/actions/loan/{world.account}")
    assert [a["id"] for a in loan["items"]] == [ids[days[2]], ids[days[0]]] and loan["total"] == 2
    loan_window = await _history(
        workflow, system, f"/api/actions/loan/{world.account}?from={days[2].isoformat()}"
    )
    assert [a["id"] for a in loan_window["items"]] == [ids[days[2]]]

    problem = _problem(
        await workflow.get(f"/api/actions/customer/{world.cif}?from={today}&to={days[0]}", headers=system),
        422,
    )
    assert [e["field"] for e in problem["errors"]] == ["from"]
    problem = _problem(
        await workflow.get(f"/api/actions/customer/{world.cif}?from=yesterday", headers=system), 422
    )
    assert [e["field"] for e in problem["errors"]] == ["from"]
    _problem(
        await workflow.get(f"/api/actions/customer/{world.cif}", headers=token_for(Role.PAYMENT_PROCESSOR)),
        403,
    )
    _problem(await workflow.get(f"/api/actions/loan/{world.account}"), 401)


async def test_concurrent_calls_cannot_both_take_the_last_attempt(workflow, world):
    day = _today(workflow) - timedelta(days=2)
    for minute in range(4):
        r = await workflow.post(
            "/api/actions",
            json=_call(world, actionDate=_at(workflow, day, f"08:0{minute}:00")),
            headers=world.agent,
        )
        assert r.status_code == 201, r.text
    racing = [
        workflow.post(
            "/api/actions",
            json=_call(world, actionDate=_at(workflow, day, f"08:3{n}:00")),
            headers=world.agent,
        )
        for n in range(4)
    ]
    answers = await asyncio.gather(*racing)
    assert sorted(r.status_code for r in answers) == [201, 422, 422, 422]
    calls = await _history(workflow, world.agent, f"/api/actions/customer/{world.cif}?type=CALL")
    assert calls["total"] == 5


def test_contact_hours_include_both_ends():
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    start, end = time(7), time(21)

    def at(clock: str) -> datetime:
        return datetime.combine(date(2026, 11, 27), time.fromisoformat(clock), tzinfo=tz)

    assert not rules.within_contact_hours(at("06:59:59"), tz, start, end)
    assert rules.within_contact_hours(at("07:00:00"), tz, start, end)
    assert rules.within_contact_hours(at("21:00:00"), tz, start, end)
    assert not rules.within_contact_hours(at("21:00:00.001"), tz, start, end)
    # 23:30 UTC is 06:30 the next morning in UTC+7.
    assert not rules.within_contact_hours(datetime(2026, 11, 27, 23, 30, tzinfo=UTC), tz, start, end)
    assert rules.within_contact_hours(datetime(2026, 11, 27, 0, 0, tzinfo=UTC), tz, start, end)


def test_business_days_run_midnight_to_midnight_in_utc_plus_7():
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    assert business_date(datetime(2026, 11, 27, 16, 59, 59, tzinfo=UTC), tz) == date(2026, 11, 27)
    assert business_date(datetime(2026, 11, 27, 17, 0, tzinfo=UTC), tz) == date(2026, 11, 28)
    start, end = day_bounds(date(2026, 11, 28), tz)
    assert start == datetime(2026, 11, 27, 17, 0, tzinfo=UTC) and end == datetime(
        2026, 11, 28, 17, 0, tzinfo=UTC
    )


def test_promise_dates_and_follow_ups():
    today = date(2026, 11, 29)
    assert rules.promise_date_problem(today, today, 30) is None
    assert rules.promise_date_problem(date(2026, 12, 29), today, 30) is None
    assert "at most 30 days" in (rules.promise_date_problem(date(2026, 12, 30), today, 30) or "")
    assert "before today" in (rules.promise_date_problem(date(2026, 11, 28), today, 30) or "")
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    late_evening_utc = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)  # 01:00 on the 29th in UTC+7
    assert rules.follow_up_date(late_evening_utc, tz, 3, None) == date(2026, 12, 2)
    assert rules.follow_up_date(late_evening_utc, tz, None, None) is None
    assert rules.follow_up_date(late_evening_utc, tz, 3, date(2026, 12, 10)) == date(2026, 12, 10)


@pytest.mark.parametrize("amount", ["1e10", "1E+2", "1_000", "\u0661\u0660\u0660", "1500000.001", 1500000.5])
async def test_a_promise_amount_is_digits_with_two_decimals(workflow, world, amount):
    """Money a bank would not accept ("1e10" was stored as 10,000,000,000.00) is refused, naming the field."""
    promise = _call(
        world,
        loanAccountNumber=world.account,
        actionResult="PROMISE_TO_PAY",
        actionDate=_at(workflow, _yesterday(workflow), "15:00:00"),
        promiseAmount=amount,
        promiseDate=(_today(workflow) + timedelta(days=3)).isoformat(),
    )
    r = await workflow.post("/api/actions", json=promise, headers=world.agent)
    assert r.status_code == 422, r.text
    assert "promiseAmount" in [e["field"] for e in r.json()["errors"]]

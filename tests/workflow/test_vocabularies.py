"""Vocabularies: everyone reads them, an ADMIN adds, edits, retires and links entries (data, not code).

Tests share one database: they edit only entries they create (unique codes), never the defaults.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crm.platform.auth import Role
from crm.workflow.models import platform_tables


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def _codes(entries: list[dict]) -> list[str]:
    return [e["code"] for e in entries]


async def _vocabularies(workflow, headers, query: str = "") -> dict:
    r = await workflow.get(f"/api/vocabularies{query}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _type(vocabularies: dict, code: str) -> dict:
    [found] = [t for t in vocabularies["actionTypes"] if t["code"] == code]
    return found


async def test_everyone_reads_the_default_vocabularies(workflow, token_for):
    for role in (Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM):
        vocabularies = await _vocabularies(workflow, token_for(role))
        assert {"CALL", "VISIT", "SMS", "NOTE"} <= set(_codes(vocabularies["actionTypes"]))
    call = _type(vocabularies, "CALL")
    assert {"CALL_OUTBOUND", "CALL_INBOUND", "CALL_FOLLOWUP", "OTHER"} <= set(_codes(call["subtypes"]))
    assert "VISIT_SCHEDULED" not in _codes(call["subtypes"])
    assert {"PROMISE_TO_PAY", "NO_ANSWER", "CONTACTED"} <= set(_codes(call["results"]))
    assert "NOT_HOME" not in _codes(call["results"])
    [promise] = [r for r in call["results"] if r["code"] == "PROMISE_TO_PAY"]
    assert promise["isPromise"] is True and promise["isContact"] is True
    [no_answer] = [r for r in vocabularies["actionResults"] if r["code"] == "NO_ANSWER"]
    assert no_answer["isPromise"] is False and no_answer["isContact"] is False
    assert no_answer["followUpDays"] == 1 and no_answer["isActive"] is True
    statuses = vocabularies["caseStatuses"]
    assert set(statuses) == {
        "customerStatus",
        "collateralStatus",
        "processingStateStatus",
        "lendingViolationStatus",
        "recoveryAbilityStatus",
    }
    assert _codes(statuses["customerStatus"])[:3] == ["COOPERATIVE", "PARTIALLY_COOPERATIVE", "UNCOOPERATIVE"]
    assert "WRITE_OFF_RECOMMENDED" in _codes(statuses["recoveryAbilityStatus"])
    _problem(await workflow.get("/api/vocabularies", headers=token_for(Role.PAYMENT_PROCESSOR)), 403)
    _problem(await workflow.get("/api/vocabularies"), 401)


async def test_every_default_entry_has_an_english_and_a_vietnamese_label(workflow, token_for):
    vocabularies = await _vocabularies(workflow, token_for(Role.AGENT), "?includeInactive=true")
    entries = [
        *vocabularies["actionTypes"],
        *vocabularies["actionSubtypes"],
        *vocabularies["actionResults"],
        *(e for values in vocabularies["caseStatuses"].values() for e in values),
    ]
    defaults = [e for e in entries if not re.search(r"_[0-9A-F]{12}$", e["code"])]  # not the tests' codes
    assert len(defaults) > 70
    missing = [e["code"] for e in defaults if not e["labels"]["vi"]]
    assert missing == []
    [no_answer] = [r for r in vocabularies["actionResults"] if r["code"] == "NO_ANSWER"]
    assert no_answer["labels"] == {"en": "No answer", "vi": "Không trả lời"}
    assert no_answer["label"] == "No answer"
    assert _type(vocabularies, "CALL")["labels"] == {"en": "Call", "vi": "Cuộc gọi"}


async def test_admin_gives_an_entry_a_label_per_language_and_changes_each(workflow, token_for, unique):
    admin = token_for(Role.ADMIN, subject="admin-vy")
    code = unique("RES_")
    body = {
        "kind": "ACTION_RESULT",
        "code": code,
        "labels": {"en": "Asked for time", "vi": "Xin thêm thời gian"},
    }
    created = await workflow.post("/api/vocabularies", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["label"] == "Asked for time"
    assert created.json()["labels"] == {"en": "Asked for time", "vi": "Xin thêm thời gian"}

    path = f"/api/vocabularies/ACTION_RESULT/{code}"
    edited = await workflow.put(path, json={"labels": {"vi": "Xin gia hạn"}}, headers=admin)
    assert edited.status_code == 200, edited.text
    assert edited.json()["labels"] == {"en": "Asked for time", "vi": "Xin gia hạn"}
    edited = await workflow.put(path, json={"labels": {"en": "Asked for more time"}}, headers=admin)
    assert edited.json()["label"] == "Asked for more time"
    assert edited.json()["labels"] == {"en": "Asked for more time", "vi": "Xin gia hạn"}
    [read] = [r for r in (await _vocabularies(workflow, admin))["actionResults"] if r["code"] == code]
    assert read["labels"] == {"en": "Asked for more time", "vi": "Xin gia hạn"}

    both = await workflow.put(
        path, json={"label": "Other words", "labels": {"en": "Asked for time"}}, headers=admin
    )
    assert both.json()["label"] == "Asked for time" == both.json()["labels"]["en"]  # labels.en is the label

    blank = await workflow.put(path, json={"labels": {"vi": ""}}, headers=admin)
    assert _problem(blank, 422)["errors"][0]["field"] == "labels.vi"
    no_label = await workflow.post(
        "/api/vocabularies",
        json={"kind": "ACTION_RESULT", "code": unique("RES_"), "labels": {"vi": "Chỉ tiếng Việt"}},
        headers=admin,
    )
    assert _problem(no_label, 422)["errors"][0]["field"] == "label"


async def test_admin_adds_a_result_to_a_type_then_edits_and_retires_it(workflow, token_for, unique):
    admin, agent = token_for(Role.ADMIN, subject="admin-vy"), token_for(Role.AGENT)
    code = unique("RES_")
    created = await workflow.post(
        "/api/vocabularies",
        json={
            "kind": "ACTION_RESULT",
            "code": code,
            "label": "Asked for a payment plan",
            "isContact": True,
            "followUpDays": 5,
            "sortOrder": 90,
            "parentType": "CALL",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json() == {
        "kind": "ACTION_RESULT",
        "code": code,
        "label": "Asked for a payment plan",
        "labels": {"en": "Asked for a payment plan", "vi": None},
        "isPromise": False,
        "isContact": True,
        "followUpDays": 5,
        "isActive": True,
        "sortOrder": 90,
    }
    vocabularies = await _vocabularies(workflow, agent)
    assert code in _codes(_type(vocabularies, "CALL")["results"])
    assert code not in _codes(_type(vocabularies, "SMS")["results"])

    edited = await workflow.put(
        f"/api/vocabularies/ACTION_RESULT/{code}",
        json={"label": "Payment plan requested", "followUpDays": 2},
        headers=admin,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["label"] == "Payment plan requested" and edited.json()["followUpDays"] == 2
    assert edited.json()["isContact"] is True and edited.json()["sortOrder"] == 90

    retired = await workflow.delete(f"/api/vocabularies/ACTION_RESULT/{code}", headers=admin)
    assert retired.status_code == 200, retired.text
    assert retired.json()["isActive"] is False
    vocabularies = await _vocabularies(workflow, agent)
    assert code not in _codes(vocabularies["actionResults"])
    assert code not in _codes(_type(vocabularies, "CALL")["results"])
    everything = await _vocabularies(workflow, agent, "?includeInactive=true")
    [kept] = [r for r in _type(everything, "CALL")["results"] if r["code"] == code]
    assert kept["isActive"] is False

    back = await workflow.put(
        f"/api/vocabularies/ACTION_RESULT/{code}", json={"isActive": True}, headers=admin
    )
    assert back.status_code == 200 and back.json()["isActive"] is True

    audit = platform_tables.audit_log
    async with workflow.app.state.db.transaction() as session:
        rows = (
            await session.execute(
                select(audit)
                .where(audit.c.entity_type == "VocabularyEntry", audit.c.entity_key == code)
                .order_by(audit.c.id)
            )
        ).all()
    assert [r.action for r in rows] == ["CREATE", "UPDATE", "UPDATE", "UPDATE"]
    assert {r.actor for r in rows} == {"admin-vy"}
    assert rows[2].before["is_active"] is True and rows[2].after["is_active"] is False


async def test_admin_links_and_unlinks_a_subtype(workflow, token_for, unique):
    admin = token_for(Role.ADMIN)
    code = unique("SUB_")
    created = await workflow.post(
        "/api/vocabularies", json={"kind": "ACTION_SUBTYPE", "code": code, "label": "Robocall"}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert code not in _codes(_type(await _vocabularies(workflow, admin), "CALL")["subtypes"])

    path = f"/api/vocabularies/ACTION_TYPE/CALL/links/ACTION_SUBTYPE/{code}"
    linked = await workflow.post(path, headers=admin)
    assert linked.status_code == 201, linked.text
    assert linked.json() == {
        "link": "TYPE_SUBTYPE",
        "parentKind": "ACTION_TYPE",
        "parentCode": "CALL",
        "childKind": "ACTION_SUBTYPE",
        "childCode": code,
    }
    assert (await workflow.post(path, headers=admin)).status_code == 200
    assert code in _codes(_type(await _vocabularies(workflow, admin), "CALL")["subtypes"])

    assert (await workflow.delete(path, headers=admin)).status_code == 204
    assert code not in _codes(_type(await _vocabularies(workflow, admin), "CALL")["subtypes"])
    _problem(await workflow.delete(path, headers=admin), 404)


async def test_agents_and_supervisors_cannot_edit(workflow, token_for, unique):
    body = {"kind": "ACTION_RESULT", "code": unique("RES_"), "label": "Nope"}
    for role in (Role.AGENT, Role.SUPERVISOR, Role.SYSTEM):
        headers = token_for(role)
        _problem(await workflow.post("/api/vocabularies", json=body, headers=headers), 403)
        _problem(
            await workflow.put("/api/vocabularies/ACTION_TYPE/CALL", json={"label": "x"}, headers=headers),
            403,
        )
        _problem(await workflow.delete("/api/vocabularies/ACTION_TYPE/CALL", headers=headers), 403)
        _problem(
            await workflow.post(
                "/api/vocabularies/ACTION_TYPE/CALL/links/ACTION_RESULT/OTHER", headers=headers
            ),
            403,
        )
    vocabularies = await _vocabularies(workflow, token_for(Role.ADMIN), "?includeInactive=true")
    assert body["code"] not in _codes(vocabularies["actionResults"])
    assert _type(vocabularies, "CALL")["label"] == "Call" and _type(vocabularies, "CALL")["isActive"] is True


async def test_a_duplicate_code_is_a_409_and_unknown_entries_404(workflow, token_for, unique):
    admin = token_for(Role.ADMIN)
    body = {"kind": "CUSTOMER_STATUS", "code": unique("ST_"), "label": "In negotiation"}
    assert (await workflow.post("/api/vocabularies", json=body, headers=admin)).status_code == 201
    problem = _problem(await workflow.post("/api/vocabularies", json=body, headers=admin), 409)
    assert [e["field"] for e in problem["errors"]] == ["code"]
    _problem(
        await workflow.post("/api/vocabularies", json={**body, "code": "COOPERATIVE"}, headers=admin), 409
    )

    missing = unique("NOPE_")
    _problem(
        await workflow.put(f"/api/vocabularies/ACTION_RESULT/{missing}", json={"label": "x"}, headers=admin),
        404,
    )
    _problem(await workflow.delete(f"/api/vocabularies/ACTION_RESULT/{missing}", headers=admin), 404)
    _problem(await workflow.delete("/api/vocabularies/FLAVOUR/CALL", headers=admin), 404)
    _problem(
        await workflow.post(
            f"/api/vocabularies/ACTION_TYPE/{missing}/links/ACTION_RESULT/OTHER", headers=admin
        ),
        404,
    )
    _problem(
        await workflow.post(
            f"/api/vocabularies/ACTION_TYPE/CALL/links/ACTION_RESULT/{missing}", headers=admin
        ),
        404,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "ACTION_COLOUR", "label": "x"}, "kind"),
        ({"kind": "ACTION_RESULT", "code": "lower case", "label": "x"}, "code"),
        ({"kind": "ACTION_RESULT", "label": ""}, "label"),
        ({"kind": "ACTION_RESULT", "label": "x", "followUpDays": -1}, "followUpDays"),
        ({"kind": "ACTION_TYPE", "label": "x", "isPromise": True}, "isPromise"),
        ({"kind": "CUSTOMER_STATUS", "label": "x", "followUpDays": 3}, "followUpDays"),
        ({"kind": "ACTION_TYPE", "label": "x", "parentType": "CALL"}, "parentType"),
        ({"kind": "ACTION_RESULT", "label": "x", "parentType": "TELEPATHY"}, "parentType"),
    ],
)
async def test_bad_entries_are_422_naming_the_field(workflow, token_for, unique, body, field):
    admin = token_for(Role.ADMIN)
    code = unique("BAD_")
    problem = _problem(
        await workflow.post("/api/vocabularies", json={"code": code, **body}, headers=admin), 422
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    vocabularies = await _vocabularies(workflow, admin, "?includeInactive=true")
    assert code not in _codes(vocabularies["actionResults"]) + _codes(vocabularies["actionTypes"])


async def test_bad_edits_are_422_naming_the_field(workflow, token_for, unique):
    admin = token_for(Role.ADMIN)
    for body, field in (
        ({"label": None}, "label"),
        ({"sortOrder": -1}, "sortOrder"),
        ({"followUpDays": 2}, "followUpDays"),
        ({"colour": "red"}, "colour"),
    ):
        problem = _problem(
            await workflow.put("/api/vocabularies/ACTION_TYPE/CALL", json=body, headers=admin), 422
        )
        assert [e["field"] for e in problem["errors"]] == [field]


async def test_case_statuses_follow_the_vocabulary(workflow, token_for, unique):
    admin, agent = token_for(Role.ADMIN), token_for(Role.AGENT)
    cif, code = unique("CIF"), unique("ST_")
    update = {"cif": cif, "customerStatus": code}
    problem = _problem(await workflow.post("/api/cases", json=update, headers=agent), 422)
    assert [e["field"] for e in problem["errors"]] == ["customerStatus"]
    assert "COOPERATIVE" in problem["errors"][0]["message"]

    created = await workflow.post(
        "/api/vocabularies", json={"kind": "CUSTOMER_STATUS", "code": code, "label": "Abroad"}, headers=admin
    )
    assert created.status_code == 201, created.text
    # A code of another status vocabulary is still refused for this field.
    problem = _problem(
        await workflow.post("/api/cases", json={"cif": cif, "collateralStatus": code}, headers=agent), 422
    )
    assert [e["field"] for e in problem["errors"]] == ["collateralStatus"]
    r = await workflow.post("/api/cases", json=update, headers=agent)
    assert r.status_code == 201, r.text
    assert r.json()["customerStatus"] == code

    assert (
        await workflow.delete(f"/api/vocabularies/CUSTOMER_STATUS/{code}", headers=admin)
    ).status_code == 200
    _problem(await workflow.post("/api/cases", json=update, headers=agent), 422)
    case = await workflow.get(f"/api/cases/customer/{cif}", headers=agent)
    assert case.json()["current"]["customerStatus"] == code and case.json()["total"] == 1

"""``POST /api/actions`` with an ``Idempotency-Key``: the same caller's same key records one action."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from crm.platform.auth import Role
from tests.workflow.test_actions import _at, _call, _history, _yesterday, world  # noqa: F401 (fixture)


def _same_moments(action: dict) -> dict:
    """The action with its date as a moment (the first answer keeps the offset it was sent with)."""
    return {**action, "actionDate": datetime.fromisoformat(action["actionDate"])}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_the_same_key_answers_the_first_action_and_records_nothing_more(workflow, world):  # noqa: F811
    key = _key()
    body = _call(world, actionDate=_at(workflow, _yesterday(workflow), "10:00:00"))
    first = await workflow.post("/api/actions", json=body, headers={**world.agent, **key})
    assert first.status_code == 201, first.text
    again = await workflow.post("/api/actions", json=body, headers={**world.agent, **key})
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _same_moments(again.json()) == _same_moments(first.json())

    other = await workflow.post("/api/actions", json=body, headers={**world.agent, **_key()})
    assert other.status_code == 201, other.text
    assert other.json()["id"] != first.json()["id"]
    without = await workflow.post("/api/actions", json=body, headers=world.agent)
    assert without.status_code == 201, without.text
    history = await _history(workflow, world.agent, f"/api/actions/customer/{world.cif}")
    assert history["total"] == 3


async def test_two_quick_submits_with_one_key_record_one_action(workflow, world):  # noqa: F811
    key = _key()
    body = _call(world, actionDate=_at(workflow, _yesterday(workflow), "11:00:00"))
    answers = await asyncio.gather(
        *(workflow.post("/api/actions", json=body, headers={**world.agent, **key}) for _ in range(4))
    )
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    history = await _history(workflow, world.agent, f"/api/actions/customer/{world.cif}")
    assert history["total"] == 1


async def test_a_key_is_the_callers_own_and_a_refused_action_does_not_use_it(
    workflow,
    world,  # noqa: F811
    token_for,
):
    key = _key()
    refused = await workflow.post(
        "/api/actions",
        json=_call(world, actionResult="PROMISE_TO_PAY"),  # no amount nor date: 422, nothing stored
        headers={**world.agent, **key},
    )
    assert refused.status_code == 422, refused.text
    body = _call(world, actionDate=_at(workflow, _yesterday(workflow), "12:00:00"))
    mine = await workflow.post("/api/actions", json=body, headers={**world.agent, **key})
    assert mine.status_code == 201, mine.text
    supervisor = token_for(Role.SUPERVISOR, subject="supervisor.lan")
    theirs = await workflow.post("/api/actions", json=body, headers={**supervisor, **key})
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["createdBy"] == "supervisor.lan"


async def test_an_empty_key_is_refused_naming_the_header(workflow, world):  # noqa: F811
    r = await workflow.post("/api/actions", json=_call(world), headers={**world.agent, "Idempotency-Key": ""})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert any("Idempotency-Key" in str(e.get("field")) for e in r.json()["errors"]), r.json()

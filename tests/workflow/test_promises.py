"""Promises to pay: KEPT when the customer's payments reach the amount by the promise date (business
time), BROKEN by the round after that date, reopened when a payment that kept them is reversed."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.platform.auth import Role
from crm.workflow.actions.models import ActionRecord
from crm.workflow.models import platform_tables
from crm.workflow.promises import jobs
from crm.workflow.promises.rules import settled_status
from crm.workflow.promises.service import break_overdue_promises
from tests.workflow.test_agents import agent
from tests.workflow.test_readmodel import pay, publish, reverse

D = date(2020, 3, 10)
"""A promise date far in the past: the overdue round of these tests breaks nothing of other tests'."""


async def new_agent(workflow, token_for, unique) -> uuid.UUID:
    created = await workflow.post("/api/agents", json=agent(unique("EMP")), headers=token_for(Role.ADMIN))
    assert created.status_code == 201, created.text
    return uuid.UUID(created.json()["id"])


async def promise(
    workflow, agent_id: uuid.UUID, cif: str, amount: str, promise_date: date, made_at: datetime, loan=None
) -> uuid.UUID:
    """A PROMISE_TO_PAY call stored directly (the actions route is not what these tests are about)."""
    async with workflow.app.state.db.transaction() as session:
        action = ActionRecord(
            cif=cif,
            loan_account_number=loan,
            agent_id=agent_id,
            type="CALL",
            subtype="OUTBOUND",
            action_result="PROMISE_TO_PAY",
            action_date=made_at,
            promise_amount=Decimal(amount),
            promise_date=promise_date,
            promise_status="OPEN",
            created_by="agent",
            updated_by="agent",
        )
        session.add(action)
        await session.flush()
        return action.id


async def stored(workflow, action_id: uuid.UUID) -> ActionRecord:
    async with workflow.app.state.db.transaction() as session:
        action = await session.get(ActionRecord, action_id, populate_existing=True)
        assert action is not None
        return action


async def events_about(workflow, action_id: uuid.UUID) -> list[dict]:
    """The workflow events staged in the outbox about one promise, oldest first."""
    outbox = platform_tables.outbox
    async with workflow.app.state.db.transaction() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.subject.like("crm.workflow.%"), outbox.c.payload.contains(str(action_id)))
            .order_by(outbox.c.created_at)
        )
        return [json.loads(p) for p in payloads]


def at(tz, day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=tz)


def test_the_promise_rule():
    kept = {"promise_amount": Decimal("100.00"), "promise_date": date(2026, 12, 10)}
    assert settled_status(current="OPEN", paid=Decimal("100.00"), today=date(2026, 12, 1), **kept) == "KEPT"
    assert settled_status(current="OPEN", paid=Decimal("99.99"), today=date(2026, 12, 11), **kept) == "OPEN"
    assert settled_status(current="KEPT", paid=Decimal("50.00"), today=date(2026, 12, 10), **kept) == "OPEN"
    assert settled_status(current="KEPT", paid=Decimal("50.00"), today=date(2026, 12, 11), **kept) == "BROKEN"
    assert (
        settled_status(current="BROKEN", paid=Decimal("100.00"), today=date(2026, 12, 11), **kept) == "KEPT"
    )


async def test_two_partial_payments_keep_a_promise(workflow, token_for, unique, settings):
    tz = settings.tz
    agent_id = await new_agent(workflow, token_for, unique)
    cif, account, other_account = unique("CIF"), unique("LN"), unique("LN")
    today = datetime.now(tz).date()
    made_at = at(tz, today, 9)
    action_id = await promise(
        workflow, agent_id, cif, "3000000.00", today + timedelta(days=5), made_at, account
    )

    await pay(workflow, unique("PAY"), cif, account, "1000000.00", made_at + timedelta(hours=1))
    await pay(workflow, unique("PAY"), cif, other_account, "5000000.00", made_at + timedelta(hours=1))
    still_open = await stored(workflow, action_id)
    assert still_open.promise_status == "OPEN" and still_open.promise_settled_at is None
    assert await events_about(workflow, action_id) == []

    await pay(workflow, unique("PAY"), cif, account, "2000000.00", made_at + timedelta(hours=2))
    kept = await stored(workflow, action_id)
    assert (
        kept.promise_status == "KEPT" and kept.updated_by == "system" and kept.promise_settled_at is not None
    )
    [event] = await events_about(workflow, action_id)
    assert event["type"] == "PROMISE_KEPT" and event["entityId"] == str(action_id)
    assert event["agentId"] == str(agent_id) and event["cif"] == cif
    assert event["details"] == {
        "promiseAmount": "3000000.00",
        "promiseDate": (today + timedelta(days=5)).isoformat(),
        "paidAmount": "3000000.00",
    }


async def test_a_promise_without_a_loan_counts_every_loan_of_the_customer(
    workflow, token_for, unique, settings
):
    tz = settings.tz
    agent_id = await new_agent(workflow, token_for, unique)
    cif = unique("CIF")
    made_at = at(tz, D - timedelta(days=3), 10)
    action_id = await promise(workflow, agent_id, cif, "200.00", D, made_at)
    await pay(workflow, unique("PAY"), cif, unique("LN"), "120.00", made_at + timedelta(hours=1))
    await pay(workflow, unique("PAY"), cif, unique("LN"), "80.00", made_at + timedelta(hours=2))
    assert (await stored(workflow, action_id)).promise_status == "KEPT"


async def test_a_payment_made_before_the_promise_does_not_count(workflow, token_for, unique, settings):
    tz = settings.tz
    agent_id = await new_agent(workflow, token_for, unique)
    cif, account = unique("CIF"), unique("LN")
    made_at = at(tz, D - timedelta(days=2), 14)
    action_id = await promise(workflow, agent_id, cif, "500.00", D, made_at, account)
    await pay(workflow, unique("PAY"), cif, account, "500.00", made_at - timedelta(seconds=1))
    assert (await stored(workflow, action_id)).promise_status == "OPEN"
    await pay(workflow, unique("PAY"), cif, account, "500.00", made_at)
    assert (await stored(workflow, action_id)).promise_status == "KEPT"


async def test_a_promise_is_broken_from_midnight_business_time(workflow, token_for, unique, settings):
    tz = settings.tz
    agent_id = await new_agent(workflow, token_for, unique)
    made_at = at(tz, D - timedelta(days=5), 9)
    cif_paid_in_time, cif_paid_late = unique("CIF"), unique("CIF")
    in_time = await promise(workflow, agent_id, cif_paid_in_time, "700.00", D, made_at)
    late = await promise(workflow, agent_id, cif_paid_late, "700.00", D, made_at)

    await pay(workflow, unique("PAY"), cif_paid_in_time, unique("LN"), "700.00", at(tz, D, 23, 59))
    await pay(
        workflow, unique("PAY"), cif_paid_late, unique("LN"), "700.00", at(tz, D + timedelta(days=1), 0, 0, 1)
    )
    assert (await stored(workflow, in_time)).promise_status == "KEPT"
    assert (await stored(workflow, late)).promise_status == "OPEN"

    outbox = workflow.app.state.outbox
    await break_overdue_promises(workflow.app.state.db, outbox, D, tz=tz)
    assert (await stored(workflow, late)).promise_status == "OPEN"
    assert await events_about(workflow, late) == []

    assert await break_overdue_promises(workflow.app.state.db, outbox, D + timedelta(days=1), tz=tz) >= 1
    broken = await stored(workflow, late)
    assert broken.promise_status == "BROKEN" and broken.updated_by == "system"
    assert broken.promise_settled_at is not None
    [event] = await events_about(workflow, late)
    assert event["type"] == "PROMISE_BROKEN" and event["agentId"] == str(agent_id)
    assert event["details"] == {"promiseAmount": "700.00", "promiseDate": D.isoformat(), "paidAmount": "0.00"}
    assert (await stored(workflow, in_time)).promise_status == "KEPT"


async def test_a_reversed_payment_reopens_a_kept_promise(workflow, token_for, unique, settings):
    tz = settings.tz
    agent_id = await new_agent(workflow, token_for, unique)
    cif, account = unique("CIF"), unique("LN")
    today = datetime.now(tz).date()
    made_at = at(tz, today, 8)
    action_id = await promise(workflow, agent_id, cif, "900.00", today + timedelta(days=3), made_at, account)
    received = await pay(workflow, unique("PAY"), cif, account, "900.00", made_at + timedelta(minutes=5))
    assert (await stored(workflow, action_id)).promise_status == "KEPT"

    await reverse(workflow, received)
    reopened = await stored(workflow, action_id)
    assert reopened.promise_status == "OPEN" and reopened.promise_settled_at is None
    assert [e["type"] for e in await events_about(workflow, action_id)] == ["PROMISE_KEPT", "STATUS_CHANGED"]
    changed = (await events_about(workflow, action_id))[-1]["details"]
    assert changed["promiseStatus"] == "OPEN" and changed["previousPromiseStatus"] == "KEPT"
    assert changed["paidAmount"] == "0.00"


async def test_a_reversed_payment_breaks_a_kept_promise_whose_date_has_passed(
    workflow, token_for, unique, settings
):
    tz = settings.tz
    agent_id = await new_agent(workflow, token_for, unique)
    cif, account = unique("CIF"), unique("LN")
    made_at = at(tz, D - timedelta(days=1), 8)
    action_id = await promise(workflow, agent_id, cif, "900.00", D, made_at, account)
    received = await pay(workflow, unique("PAY"), cif, account, "900.00", at(tz, D, 12))
    assert (await stored(workflow, action_id)).promise_status == "KEPT"

    await reverse(workflow, received)
    assert (await stored(workflow, action_id)).promise_status == "BROKEN"
    assert [e["type"] for e in await events_about(workflow, action_id)] == ["PROMISE_KEPT", "PROMISE_BROKEN"]


async def test_the_same_payment_delivered_twice_counts_once(workflow, token_for, unique, settings):
    tz = settings.tz
    agent_id = await new_agent(workflow, token_for, unique)
    cif, account = unique("CIF"), unique("LN")
    made_at = at(tz, D - timedelta(days=4), 8)
    action_id = await promise(workflow, agent_id, cif, "1000.00", D, made_at, account)
    received = await pay(workflow, unique("PAY"), cif, account, "600.00", made_at + timedelta(hours=1))
    await publish(workflow, received, msg_id=f"{received.event_id}-again")
    await publish(workflow, received.model_copy(update={"event_id": uuid.uuid4()}))
    await pay(workflow, unique("PAY"), unique("CIF"), account, "1.00")  # applied after the two above
    assert (await stored(workflow, action_id)).promise_status == "OPEN"

    await pay(workflow, unique("PAY"), cif, account, "400.00", made_at + timedelta(hours=2))
    assert (await stored(workflow, action_id)).promise_status == "KEPT"
    [event] = await events_about(workflow, action_id)
    assert event["details"]["paidAmount"] == "1000.00"


async def test_the_round_runs_at_start_and_just_after_midnight_business_time(
    workflow, token_for, unique, monkeypatch
):
    """The schedule as the leader runs it, on the service's own database and outbox, with its clock
    set a minute before midnight business time of a promise's date."""
    tz = workflow.app.state.settings.tz
    agent_id = await new_agent(workflow, token_for, unique)
    due = D + timedelta(days=3)  # a day no other test of this file promises on
    action_id = await promise(
        workflow, agent_id, unique("CIF"), "300.00", due, at(tz, due - timedelta(days=2), 9)
    )
    clock = [at(tz, due, 23, 59)]
    waits: list[float] = []
    status_while_waiting: list[str] = []

    async def sleep(seconds: float) -> None:
        if waits:  # the catch-up round at start, one wait, the scheduled round: enough
            raise asyncio.CancelledError
        status_while_waiting.append((await stored(workflow, action_id)).promise_status)
        waits.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    monkeypatch.setattr(jobs, "_sleep", sleep)
    monkeypatch.setattr(jobs, "_now", lambda zone: clock[0].astimezone(zone))
    monkeypatch.setattr(workflow.app.state.settings, "promise_check_schedule", "5 0 * * *")
    with pytest.raises(asyncio.CancelledError):
        await jobs.run_promise_check_schedule(workflow.app)

    assert status_while_waiting == ["OPEN"]  # the round at start: its date is today, not passed
    assert waits == [6 * 60.0]  # until 00:05 business time
    broken = await stored(workflow, action_id)
    assert broken.promise_status == "BROKEN"
    [event] = await events_about(workflow, action_id)
    assert event["type"] == "PROMISE_BROKEN"

"""Dead letters are read and replayed through the API and `crm dead-letters`, masked and audited."""

from __future__ import annotations

import json
import subprocess
import uuid
from decimal import Decimal

import pytest

from crm.platform.auth import Role
from crm.workflow.readmodel.models import PaymentView
from tests.e2e.test_run import CRM, _on_the_test_servers
from tests.workflow.conftest import workflow_asks_bank_sync  # noqa: F401 (a fixture)
from tests.workflow.test_readmodel import eventually, loan_in_view, payment, row

PHONE, NAME = "0912345678", "Nguyễn Văn Chết"
pytestmark = pytest.mark.usefixtures("workflow_asks_bank_sync")


async def _letters(client, prefix: str, headers) -> list[dict]:
    r = await client.get(f"{prefix}/dead-letters", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _dead_letter_of(client, prefix: str, headers, event_id: str) -> dict:
    async def find():
        return next((d for d in await _letters(client, prefix, headers) if d["eventId"] == event_id), None)

    return await eventually(find)


async def test_an_event_no_consumer_can_read_is_listed_with_its_error_and_masked(
    workflow, bank_sync, token_for
):
    """Both consumers of payment events (workflow's read model, bank-sync's balances) give up on it:
    each service lists its own dead letter."""
    event_id = str(uuid.uuid4())
    broken = {"eventId": event_id, "type": "PAYMENT_RECEIVED", "cif": "CIF-DL", "phone": PHONE, "name": NAME}
    await workflow.app.state.bus.publish(
        "crm.payment.payment_received", json.dumps(broken).encode(), msg_id=event_id
    )
    letter = await _dead_letter_of(workflow, "/api/workflow", token_for(Role.ADMIN), event_id)
    assert letter["service"] == "workflow" and letter["consumer"] == "readmodel-payments"
    assert letter["subject"] == "crm.payment.payment_received"
    assert letter["error"].startswith("undecodable event")
    assert letter["eventType"] == "PAYMENT_RECEIVED"
    shown = json.dumps(letter, ensure_ascii=False)
    assert PHONE not in shown and NAME not in shown  # masked, as in the logs
    one = await workflow.get(
        f"/api/workflow/dead-letters/{letter['sequence']}", headers=token_for(Role.ADMIN)
    )
    assert one.status_code == 200 and one.json()["sequence"] == letter["sequence"]
    theirs = await _dead_letter_of(bank_sync, "/api/bank-sync", token_for(Role.ADMIN), event_id)
    assert theirs["service"] == "bank-sync" and theirs["consumer"] == "loan-balance"
    assert theirs["sequence"] != letter["sequence"]
    refused = await workflow.get("/api/workflow/dead-letters", headers=token_for(Role.SUPERVISOR))
    assert refused.status_code == 403


async def test_a_replayed_event_is_applied_once_leaves_the_list_and_is_audited(
    workflow, bank_sync, token_for, unique
):
    """The event a consumer gave up on (its cause now fixed) is published again and takes effect."""
    cif, account = await loan_in_view(workflow, bank_sync, unique, outstanding=Decimal("5000000.00"))
    reference = unique("DL-")
    event = payment("PAYMENT_RECEIVED", reference, cif, account, "125000.00")
    headers = {
        "Crm-Original-Subject": event.subject,
        "Crm-Error": "TimeoutError: bank-sync",
        "Crm-Deliveries": "3",
    }
    bus = workflow.app.state.bus
    await bus.publish(
        "crm.dead_letter.workflow.readmodel-payments",
        event.to_json(),
        msg_id=f"dlq-{reference}",
        headers=headers,
    )
    admin = token_for(Role.ADMIN, subject="dl-admin")
    letter = await _dead_letter_of(workflow, "/api/workflow", admin, str(event.event_id))
    assert await row(workflow, PaymentView, reference) is None

    elsewhere = await bank_sync.post(
        f"/api/bank-sync/dead-letters/{letter['sequence']}/replay", headers=admin
    )
    assert elsewhere.status_code == 404  # not bank-sync's dead letter
    replayed = await workflow.post(f"/api/workflow/dead-letters/{letter['sequence']}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.text

    stored = await eventually(lambda: row(workflow, PaymentView, reference))
    assert stored.amount == Decimal("125000.00")
    gone = await workflow.get(f"/api/workflow/dead-letters/{letter['sequence']}", headers=admin)
    assert gone.status_code == 404
    again = await workflow.post(f"/api/workflow/dead-letters/{letter['sequence']}/replay", headers=admin)
    assert again.status_code == 404
    trail = await workflow.get(
        "/api/workflow/audit",
        params={"entityType": "DeadLetter", "entityKey": str(letter["sequence"])},
        headers=admin,
    )
    [entry] = trail.json()["items"]
    assert entry["actor"] == "dl-admin" and entry["action"] == "REPLAY"
    assert entry["before"]["eventId"] == str(event.event_id)
    assert entry["after"] == {"publishedOn": event.subject}


async def test_crm_dead_letters_lists_shows_and_replays(workflow, bank_sync, settings, tmp_path, unique):
    cif, account = await loan_in_view(workflow, bank_sync, unique)
    reference = unique("DLC-")
    event = payment("PAYMENT_RECEIVED", reference, cif, account, "90000.00")
    headers = {"Crm-Original-Subject": event.subject, "Crm-Error": "boom", "Crm-Deliveries": "3"}
    await workflow.app.state.bus.publish(
        "crm.dead_letter.workflow.readmodel-payments",
        event.to_json(),
        msg_id=f"dlq-{reference}",
        headers=headers,
    )
    env = _on_the_test_servers(settings, tmp_path)

    def crm(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CRM, "dead-letters", *args], env=env, capture_output=True, text=True, timeout=120
        )

    async def listed():
        out = crm("list", "--service", "workflow").stdout
        return next((line for line in out.splitlines() if "boom" in line and event.subject in line), None)

    line = await eventually(listed, within=60)
    sequence = line.split()[0]
    shown = crm("show", sequence)
    assert shown.returncode == 0 and json.loads(shown.stdout)["event_id"] == str(event.event_id)
    replayed = crm("replay", sequence)
    assert replayed.returncode == 0, replayed.stderr
    assert f"{sequence} replayed" in replayed.stdout
    stored = await eventually(lambda: row(workflow, PaymentView, reference))
    assert stored.amount == Decimal("90000.00")
    assert crm("show", sequence).returncode == 1
    assert crm("replay").returncode == 2  # neither a sequence nor --all

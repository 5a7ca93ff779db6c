"""Each service shows its own audit trail to ADMINs at ``<its prefix>/audit``."""

from __future__ import annotations

import uuid

from crm.platform.auth import Role
from tests.workflow.test_agents import agent


async def test_an_admin_reads_who_changed_an_agent_newest_first(workflow, token_for, unique):
    employee = unique("EMP")
    admin = token_for(Role.ADMIN, subject="admin.audit")
    created = await workflow.post("/api/agents", json=agent(employee), headers=admin)
    assert created.status_code == 201, created.text
    changed = await workflow.put(
        f"/api/agents/{created.json()['id']}", json={"maxCustomers": 80}, headers=admin
    )
    assert changed.status_code == 200, changed.text

    r = await workflow.get(
        "/api/workflow/audit", params={"entityType": "Agent", "entityKey": employee}, headers=admin
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2
    update, insert = body["items"]
    assert update["actor"] == insert["actor"] == "admin.audit"
    assert update["before"]["max_customers"] == 120 and update["after"]["max_customers"] == 80
    assert insert["before"] is None and insert["after"]["employee_id"] == employee

    by_actor = await workflow.get(
        "/api/workflow/audit", params={"actor": "admin.audit", "pageSize": 1}, headers=admin
    )
    assert by_actor.json()["total"] >= 2 and len(by_actor.json()["items"]) == 1


async def test_the_audit_trail_is_for_admins_and_checks_its_period(payments, workflow, token_for):
    assert (await workflow.get("/api/workflow/audit", headers=token_for(Role.SUPERVISOR))).status_code == 403
    assert (await workflow.get("/api/workflow/audit")).status_code == 401
    # under payments' prefix "audit" is the trail, not a payment reference: a recorded payment is in it
    admin = token_for(Role.ADMIN, subject="audit.admin")
    reference = f"AUD-{uuid.uuid4().hex[:10].upper()}"
    body = {
        "referenceNumber": reference,
        "loanAccountNumber": "LN-AUDIT",
        "cif": "CIF-AUDIT",
        "amount": "250000.00",
        "paymentDate": "2026-11-28T09:30:00+07:00",
        "paymentChannel": "CASH",
    }
    assert (await payments.post("/api/payments", json=body, headers=admin)).status_code == 201
    trail = await payments.get("/api/payments/audit", params={"entityKey": reference}, headers=admin)
    assert trail.status_code == 200, trail.text
    [entry] = trail.json()["items"]
    assert (entry["entityType"], entry["action"], entry["actor"]) == ("Payment", "CREATE", "audit.admin")
    assert entry["before"] is None and entry["after"]["amount"] == "250000.00"
    bad = await workflow.get(
        "/api/workflow/audit",
        params={"from": "2026-03-02", "to": "2026-03-01"},
        headers=token_for(Role.ADMIN),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "from"

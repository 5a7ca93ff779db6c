"""Every write is audited (who, when, before, after): each write route of every service's document
and each audited model is accounted for, by a check here or by the named test that reads its audit
row; a new write route or audited model fails here until it is."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from crm.platform.auth import Role
from tests.bank_sync.test_customers_loans import add_customer_with_loan
from tests.payments.test_notifications import headers, notification, signed_service
from tests.workflow.conftest import workflow_asks_bank_sync  # noqa: F401 (a fixture)
from tests.workflow.test_actions import _new_agent

TESTS = Path(__file__).parent.parent
HERE = "here"
NOT_A_RECORD = "not a record"
WRITES: dict[tuple[str, str, str], tuple[str, str]] = {
    # (service, method, path): (entity type audited, where its audit row is read)
    ("identity", "POST", "/api/auth/token"): (NOT_A_RECORD, "signs in; a lockout it causes is audited"),
    ("identity", "POST", "/api/auth/users"): ("User", HERE),
    ("identity", "PUT", "/api/auth/users/{username}"): ("User", HERE),
    ("identity", "DELETE", "/api/auth/users/{username}/lockout"): (
        "sign_in",
        "identity/test_throttle.py::test_a_username_is_locked_after_five_failures_known_or_not",
    ),
    ("identity", "DELETE", "/api/auth/lockouts/address/{address}"): ("sign_in", HERE),
    ("payments", "POST", "/api/payments"): (
        "Payment",
        "platform/test_audit_routes.py::test_the_audit_trail_is_for_admins_and_checks_its_period",
    ),
    ("payments", "POST", "/api/payments/notification"): ("Payment", HERE),
    ("payments", "POST", "/api/payments/reconciliation"): (
        "ReconciliationReport",
        "payments/test_reconciliation.py::test_reconciliation_reports_each_discrepancy_and_imports_the_missing",
    ),
    ("workflow", "POST", "/api/agents"): (
        "Agent",
        "workflow/test_agents.py::test_admin_creates_an_agent_that_everyone_can_read",
    ),
    ("workflow", "PUT", "/api/agents/{id}"): (
        "Agent",
        "workflow/test_agents.py::test_partial_update_changes_only_the_given_fields_and_is_audited",
    ),
    ("workflow", "POST", "/api/actions"): (
        "ActionRecord",
        "workflow/test_actions.py::test_an_agent_records_a_call_with_snapshots_and_an_event",
    ),
    ("workflow", "PUT", "/api/actions/{id}/result"): (
        "ActionRecord",
        "workflow/test_actions.py::test_an_agent_changes_the_result_of_its_own_action_only",
    ),
    ("workflow", "POST", "/api/assignments"): ("CustomerAgent", HERE),
    ("workflow", "POST", "/api/assignments/bulk"): ("CustomerAgent", HERE),
    ("workflow", "PUT", "/api/assignments/{id}"): ("CustomerAgent", HERE),
    ("workflow", "POST", "/api/cases"): (
        "CustomerCaseAction",
        "workflow/test_cases.py::test_an_update_is_audited_with_its_author",
    ),
    ("workflow", "POST", "/api/vocabularies"): (
        "VocabularyEntry",
        "workflow/test_vocabularies.py::test_admin_adds_a_result_to_a_type_then_edits_and_retires_it",
    ),
    ("workflow", "PUT", "/api/vocabularies/{kind}/{code}"): (
        "VocabularyEntry",
        "workflow/test_vocabularies.py::test_admin_adds_a_result_to_a_type_then_edits_and_retires_it",
    ),
    ("workflow", "DELETE", "/api/vocabularies/{kind}/{code}"): (
        "VocabularyEntry",
        "workflow/test_vocabularies.py::test_admin_adds_a_result_to_a_type_then_edits_and_retires_it",
    ),
    ("workflow", "POST", "/api/vocabularies/ACTION_TYPE/{type}/links/{kind}/{code}"): (
        "VocabularyLink",
        HERE,
    ),
    ("workflow", "DELETE", "/api/vocabularies/ACTION_TYPE/{type}/links/{kind}/{code}"): (
        "VocabularyLink",
        HERE,
    ),
    ("bank-sync", "POST", "/api/customers/lookup"): (NOT_A_RECORD, "a read: the body names the keys"),
    ("bank-sync", "POST", "/api/loans/lookup"): (NOT_A_RECORD, "a read: the body names the keys"),
    ("workflow", "POST", "/api/workflow/customers/lookup"): (NOT_A_RECORD, "a read: the body names the keys"),
    ("workflow", "POST", "/api/assignments/current"): (NOT_A_RECORD, "a read: the body names the keys"),
    ("bank-sync", "POST", "/api/sync/run"): (
        "SyncRun",
        "bank_sync/test_sync_runs.py::test_run_creation_is_audited",
    ),
}
DEAD_LETTERS = (
    "platform/test_dead_letters.py::test_a_replayed_event_is_applied_once_leaves_the_list_and_is_audited"
)
for _service, _prefix in (("identity", "auth"), ("payments", "payments"), ("workflow", "workflow")):
    WRITES[(_service, "POST", f"/api/{_prefix}/dead-letters/{{sequence}}/replay")] = (
        "DeadLetter",
        DEAD_LETTERS,
    )
    WRITES[(_service, "POST", f"/api/{_prefix}/dead-letters/replay")] = ("DeadLetter", DEAD_LETTERS)
WRITES[("bank-sync", "POST", "/api/bank-sync/dead-letters/{sequence}/replay")] = ("DeadLetter", DEAD_LETTERS)
WRITES[("bank-sync", "POST", "/api/bank-sync/dead-letters/replay")] = ("DeadLetter", DEAD_LETTERS)
NOT_BY_ROUTE = {
    # audited models written by no route: by events or by the nightly sync
    "Loan": "bank_sync/test_loan_balance_consumer.py::test_a_balance_change_is_audited",
    "Customer": "written only by the sync, set-based, and counted on its audited SyncRun",
}
AUDIT = {"identity": "/api/auth/audit", "payments": "/api/payments/audit", "workflow": "/api/workflow/audit"}


async def test_every_write_route_and_audited_model_is_accounted_for(identity, payments, workflow, bank_sync):
    routes = set()
    for service, client in (
        ("identity", identity),
        ("payments", payments),
        ("workflow", workflow),
        ("bank-sync", bank_sync),
    ):
        document = (await client.get(client.app.openapi_url)).json()
        for path, operations in document["paths"].items():
            for method in operations:
                if method in ("post", "put", "patch", "delete"):
                    routes.add((service, method.upper(), path))
    assert routes - WRITES.keys() == set(), "write routes nobody checks the audit of"
    assert WRITES.keys() - routes == set(), "listed here but gone from the documents"

    for entity, where in [*WRITES.values(), *((e, w) for e, w in NOT_BY_ROUTE.items())]:
        if where in (HERE,) or entity == NOT_A_RECORD or "::" not in where:
            continue
        file, name = where.split("::")
        tree = ast.parse((TESTS / file).read_text())
        [test] = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.AsyncFunctionDef | ast.FunctionDef) and n.name == name
        ]
        assert "audit" in ast.unparse(test), f"{where} does not read the audit trail"

    audited = _audited_models()
    assert {"User", "Agent", "SyncRun"} <= audited  # the registries are read
    covered = {entity for entity, _ in WRITES.values()} | set(NOT_BY_ROUTE)
    assert audited <= covered, f"audited models whose writes nobody checks: {audited - covered}"


def _audited_models() -> set[str]:
    """Every ORM model of the services that opted in to the audit trail (``__audit__ = True``)."""
    from crm.bank_sync.models import Base as BankSync
    from crm.identity.models import Base as Identity
    from crm.payments.models import Base as Payments
    from crm.workflow.models import Base as Workflow

    return {
        mapper.class_.__name__
        for base in (BankSync, Identity, Payments, Workflow)
        for mapper in base.registry.mappers
        if getattr(mapper.class_, "__audit__", False)
    }


async def _trail(client, service: str, entity: str, key: str, admin) -> list[dict]:
    r = await client.get(AUDIT[service], params={"entityType": entity, "entityKey": key}, headers=admin)
    assert r.status_code == 200, r.text
    return list(reversed(r.json()["items"]))  # oldest first


async def test_a_user_created_and_changed_is_audited_without_its_password(identity, token_for, unique):
    admin = token_for(Role.ADMIN, subject="walk.admin")
    name = unique("walk.").lower()
    body = {"username": name, "password": "a-long-password-1", "roles": ["AGENT"]}
    assert (await identity.post("/api/auth/users", json=body, headers=admin)).status_code == 201
    changed = await identity.put(f"/api/auth/users/{name}", json={"roles": ["SUPERVISOR"]}, headers=admin)
    assert changed.status_code == 200, changed.text
    created, updated = await _trail(identity, "identity", "User", name, admin)
    assert (created["action"], created["actor"], created["before"]) == ("CREATE", "walk.admin", None)
    assert updated["action"] == "UPDATE" and updated["before"]["roles"] == ["AGENT"]
    assert updated["after"]["roles"] == ["SUPERVISOR"]
    assert all("password" not in key for entry in (created, updated) for key in entry["after"])


async def test_lifting_an_address_lockout_is_audited(identity, token_for, unique):
    admin = token_for(Role.ADMIN, subject="walk.admin")
    address = f"198.51.100.{int(unique('')[:6], 16) % 250 + 1}"
    # a failed sign-in from that address, as the web UI (SYSTEM) forwards its user's address
    forwarded = {**token_for(Role.SYSTEM), "X-Client-Address": address}
    failed = await identity.post(
        "/api/auth/token", data={"username": unique("nobody."), "password": "wrong"}, headers=forwarded
    )
    assert failed.status_code == 401
    lifted = await identity.delete(f"/api/auth/lockouts/address/{address}", headers=admin)
    assert lifted.status_code in (200, 204), lifted.text
    entries = await _trail(identity, "identity", "sign_in", f"address:{address}", admin)
    assert (entries[-1]["action"], entries[-1]["actor"], entries[-1]["after"]) == (
        "UNLOCK",
        "walk.admin",
        None,
    )
    assert entries[-1]["before"]["failures"] >= 1


async def test_a_notified_payment_is_audited_as_its_processor(payments, bank_sync, tokens, token_for, unique):
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(bank_sync.app, cif, account)
    ref = unique("WALK")
    async with signed_service(payments, bank_sync, tokens):
        body = notification(ref, account, cif)
        r = await payments.post("/api/payments/notification", content=body, headers=headers(body))
        assert r.status_code == 201, r.text
    [entry] = await _trail(payments, "payments", "Payment", ref, token_for(Role.ADMIN))
    assert entry["action"] == "CREATE" and entry["before"] is None
    assert entry["after"]["amount"] == "1250000.00" and entry["actor"]


@pytest.mark.usefixtures("workflow_asks_bank_sync")
async def test_assignments_single_bulk_and_changed_are_audited(workflow, bank_sync, token_for, unique):
    supervisor = token_for(Role.SUPERVISOR, subject="walk.supervisor")
    first, second = (
        await _new_agent(workflow, token_for, unique),
        await _new_agent(workflow, token_for, unique),
    )
    one, bulk = unique("CIF"), unique("CIF")
    for cif in (one, bulk):
        await add_customer_with_loan(bank_sync.app, cif, unique("LN"))
    made = await workflow.post(
        "/api/assignments", json={"cif": one, "assignedCallAgentId": first}, headers=supervisor
    )
    assert made.status_code == 201, made.text
    moved = await workflow.put(
        f"/api/assignments/{made.json()['id']}", json={"assignedCallAgentId": second}, headers=supervisor
    )
    assert moved.status_code == 200, moved.text
    many = await workflow.post(
        "/api/assignments/bulk", json={"cifs": [bulk], "assignedCallAgentId": first}, headers=supervisor
    )
    assert many.status_code == 200, many.text
    admin = token_for(Role.ADMIN)
    entries = await _trail(workflow, "workflow", "CustomerAgent", one, admin)
    assert [e["action"] for e in entries] == ["CREATE", "UPDATE", "CREATE"]  # ended, then the new one
    assert entries[1]["before"]["is_current"] is True and entries[1]["after"]["is_current"] is False
    assert entries[2]["after"]["assigned_call_agent_id"] == second
    assert {e["actor"] for e in entries} == {"walk.supervisor"}
    [bulk_entry] = await _trail(workflow, "workflow", "CustomerAgent", bulk, admin)
    assert bulk_entry["action"] == "CREATE" and bulk_entry["after"]["assigned_call_agent_id"] == first


async def test_linking_a_result_to_an_action_type_and_unlinking_it_are_audited(workflow, token_for, unique):
    admin = token_for(Role.ADMIN, subject="walk.admin")
    code = unique("WALK_")
    entry = {"kind": "ACTION_RESULT", "code": code, "label": "Walked", "sortOrder": 1}
    assert (await workflow.post("/api/vocabularies", json=entry, headers=admin)).status_code == 201
    link = f"/api/vocabularies/ACTION_TYPE/CALL/links/ACTION_RESULT/{code}"
    assert (await workflow.post(link, headers=admin)).status_code == 201
    assert (await workflow.delete(link, headers=admin)).status_code == 204
    linked, unlinked = await _trail(workflow, "workflow", "VocabularyLink", code, admin)
    assert (linked["action"], linked["before"]) == ("CREATE", None)
    assert (unlinked["action"], unlinked["after"]) == ("DELETE", None)
    assert {linked["actor"], unlinked["actor"]} == {"walk.admin"}

"""The OpenAPI documents say what routes answer, and the routes keep to what the documents say.

The whole matrix is fuzzed in tests/security; these are the rules it found broken, one by one.
"""

from __future__ import annotations

import pytest

from crm.platform.auth import Role
from tests.platform.test_bad_input import _not_stored, payment

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


async def test_every_operation_declares_its_problems_as_problem_json(workflow, payments, identity, bank_sync):
    for client in (workflow, payments, identity, bank_sync):
        document = (await client.get(client.app.openapi_url)).json()
        assert "Problem" in document["components"]["schemas"]
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                responses = operation["responses"]
                access = operation["x-access"]
                public = access == "public"
                assert "422" in responses and "503" in responses, (method, path)
                assert public or "401" in responses, (method, path)
                assert public or access.startswith("signed") or "403" in responses, (method, path)
                if "{" in path:
                    assert "404" in responses, (method, path)
                for status, response in responses.items():
                    if int(status) >= 400:
                        assert response["content"] == PROBLEM, (method, path, status)
                assert operation["security"] == [] if public else operation["security"], (method, path)


async def test_the_payment_webhook_documents_its_signature_and_body(payments):
    document = (await payments.get(payments.app.openapi_url)).json()
    operation = document["paths"]["/api/payments/notification"]["post"]
    assert operation["security"] == [{"X-Signature": []}]
    assert document["components"]["securitySchemes"]["X-Signature"]["in"] == "header"
    assert "PaymentNotification" in document["components"]["schemas"]  # the body's $ref resolves


@pytest.mark.parametrize("written", ["0", "1700000000", "2026-1-2", "2026-12-03T00:00:00"])
async def test_a_date_is_written_out_not_a_timestamp(payments, token_for, written):
    r = await payments.get("/api/payments/audit", params={"to": written}, headers=token_for(Role.ADMIN))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "to"


@pytest.mark.parametrize("when", [0, "0", "2026-11-28", "2026-11-28T09:30:00"])
async def test_a_payment_time_is_iso_8601_with_its_offset(payments, token_for, unique, when):
    ref, headers = unique("DT-"), token_for(Role.ADMIN)
    r = await payments.post("/api/payments", json=payment(ref, paymentDate=when), headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "paymentDate"
    await _not_stored(payments, ref, headers)


@pytest.mark.parametrize(("field", "value"), [("isActive", 0), ("isActive", "yes"), ("maxCustomers", "5")])
async def test_a_flag_is_true_or_false_and_a_count_a_number(workflow, token_for, unique, field, value):
    agent = {
        "employeeId": unique("E-"),
        "name": "Lê Văn Cờ",
        "email": "co@bank.vn",
        "type": "AGENT",
        "team": "OTHER",
        "maxCustomers": 10,
    }
    created = await workflow.post("/api/agents", json=agent, headers=token_for(Role.ADMIN))
    assert created.status_code == 201, created.text
    target = created.json()
    r = await workflow.put(f"/api/agents/{target['id']}", json={field: value}, headers=token_for(Role.ADMIN))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    after = (await workflow.get(f"/api/agents/{target['id']}", headers=token_for(Role.ADMIN))).json()
    assert after[field] == target[field]


async def test_a_large_whole_amount_is_refused_unless_written_as_a_string(payments, token_for, unique):
    headers = token_for(Role.ADMIN)
    too_large = unique("BIG-")
    r = await payments.post("/api/payments", json=payment(too_large, amount=2**53), headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    await _not_stored(payments, too_large, headers)
    as_text = unique("BIG-")
    r = await payments.post("/api/payments", json=payment(as_text, amount=f"{2**53}.00"), headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["amount"] == f"{2**53}.00"


async def test_405_names_every_method_of_the_path(workflow, token_for):
    r = await workflow.request("OPTIONS", "/api/agents", headers=token_for(Role.ADMIN))
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST"}


async def test_put_on_a_path_that_takes_only_post_is_405_not_a_bad_id(workflow, token_for):
    r = await workflow.put("/api/assignments/bulk", json={}, headers=token_for(Role.ADMIN))
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"

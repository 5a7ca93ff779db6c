"""One service calls another over HTTP as SYSTEM."""

from __future__ import annotations

import httpx
import pytest

from crm.platform.errors import NotFound, ServiceUnavailable
from crm.platform.http import ServiceClient


async def test_system_token_reads_another_service(payments, tokens, token_for, unique):
    from crm.platform.auth import Role

    ref = unique("S2S")
    body = {
        "referenceNumber": ref,
        "loanAccountNumber": "LN-S2S",
        "cif": "C-S2S",
        "amount": "10.00",
        "paymentDate": "2026-11-28T08:00:00+07:00",
        "paymentChannel": "CASH",
    }
    assert (await payments.post("/api/payments", json=body, headers=token_for(Role.ADMIN))).status_code == 201
    client = ServiceClient(
        "http://payments", tokens, caller="workflow", transport=httpx.ASGITransport(app=payments.app)
    )
    try:
        payment = await client.get_json(f"/api/payments/{ref}")
        assert payment["amount"] == "10.00"
        with pytest.raises(NotFound):
            await client.get_json("/api/payments/NO-SUCH-REF")
    finally:
        await client.close()


async def test_unreachable_service_is_reported_not_crashed(tokens):
    client = ServiceClient("http://127.0.0.1:9", tokens, caller="workflow", timeout=0.5)
    try:
        with pytest.raises(ServiceUnavailable):
            await client.get_json("/api/customers/C1")
    finally:
        await client.close()


async def test_post_json_reads_an_answer_and_maps_errors_as_get_json(bank_sync, tokens, unique):
    from tests.bank_sync.test_customers_loans import add_customer_with_loan

    cif = unique("CIF")
    await add_customer_with_loan(bank_sync.app, cif, unique("LN"))
    client = ServiceClient(
        "http://bank-sync", tokens, caller="workflow", transport=httpx.ASGITransport(app=bank_sync.app)
    )
    try:
        answer = await client.post_json("/api/customers/lookup", {"cifs": [cif, unique("NOCIF")]})
        assert [item["cif"] for item in answer["items"]] == [cif]
        with pytest.raises(NotFound):
            await client.post_json("/api/no-such-route", {"cifs": [cif]})
        with pytest.raises(ServiceUnavailable):  # 422: the caller's request is wrong, it cannot be answered
            await client.post_json("/api/customers/lookup", {"cifs": []})
    finally:
        await client.close()


async def test_post_to_an_unreachable_service_is_reported_not_crashed(tokens):
    client = ServiceClient("http://127.0.0.1:9", tokens, caller="workflow", timeout=0.5)
    try:
        with pytest.raises(ServiceUnavailable):
            await client.post_json("/api/customers/lookup", {"cifs": ["C1"]})
    finally:
        await client.close()

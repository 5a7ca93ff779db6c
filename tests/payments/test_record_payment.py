"""Recording payments: created once, repeated safely, conflicting content refused."""

from __future__ import annotations

from crm.platform.auth import Role


def payment(ref: str, **overrides):
    body = {
        "referenceNumber": ref,
        "loanAccountNumber": "LN0001",
        "cif": "CIF0001",
        "amount": "1250000.00",
        "currency": "VND",
        "paymentDate": "2026-11-28T09:30:00+07:00",
        "paymentChannel": "BANK_TRANSFER",
    }
    return {**body, **overrides}


async def test_record_then_repeat_then_conflict(payments, token_for, unique):
    ref = unique("PAY")
    headers = token_for(Role.PAYMENT_PROCESSOR)
    first = await payments.post("/api/payments", json=payment(ref), headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["amount"] == "1250000.00" and first.json()["sourceSystem"] == "CRM"
    repeat = await payments.post("/api/payments", json=payment(ref), headers=headers)
    assert repeat.status_code == 200 and repeat.json()["id"] == first.json()["id"]
    other = await payments.post("/api/payments", json=payment(ref, amount="1.00"), headers=headers)
    assert other.status_code == 409
    stored = await payments.get(f"/api/payments/{ref}", headers=token_for(Role.AGENT))
    assert stored.json()["amount"] == "1250000.00"


async def test_lists_by_loan_within_business_dates(payments, token_for, unique):
    loan = unique("LN")
    headers = token_for(Role.ADMIN)
    for ref, when in [("A", "2026-11-27T23:30:00+07:00"), ("B", "2026-11-28T00:10:00+07:00")]:
        r = await payments.post(
            "/api/payments",
            json=payment(unique(ref), loanAccountNumber=loan, paymentDate=when),
            headers=headers,
        )
        assert r.status_code == 201
    day = await payments.get(f"/api/payments/loan/{loan}?from=2026-11-28&to=2026-11-28", headers=headers)
    assert day.json()["total"] == 1 and day.json()["items"][0]["paymentDate"].startswith("2026-11-27T17:10")
    everything = await payments.get(f"/api/payments/loan/{loan}", headers=headers)
    assert everything.json()["total"] == 2 and everything.json()["pageSize"] == 50

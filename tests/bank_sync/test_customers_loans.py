"""Customers and loans as a collector reads them: camelCase JSON, money as strings, 404 when unknown."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crm.bank_sync.customers.models import Customer
from crm.bank_sync.loans.models import Loan
from crm.platform.auth import Role


async def add_customer_with_loan(
    app, cif: str, account_number: str, *, source_system: str = "T24", **loan: Any
) -> None:
    """Store a customer and one loan directly, as a load would but without its events."""
    synced = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    common = {
        "source_system": source_system,
        "created_by": "SYSTEM",
        "updated_by": "SYSTEM",
        "last_synced_at": synced,
    }
    async with app.state.db.transaction() as session:
        session.add(
            Customer(
                cif=cif,
                type="INDIVIDUAL",
                name="Nguyen Van An",
                date_of_birth=date(1985, 3, 14),
                national_id="079085001234",
                gender="MALE",
                segment="RETAIL",
                status="ACTIVE",
                **common,
            )
        )
        await session.flush()
        values: dict[str, Any] = {
            "product_type": "PERSONAL",
            "original_amount": Decimal("12000000.00"),
            "currency": "VND",
            "disbursement_date": date(2025, 1, 15),
            "maturity_date": date(2027, 1, 15),
            "interest_rate": Decimal("12.5000"),
            "term": 24,
            "payment_frequency": "MONTHLY",
            "outstanding": Decimal("10000000.00"),
            "due_amount": Decimal("2000000.00"),
            "remaining_amount": Decimal("8000000.00"),
            "next_payment_date": date(2026, 12, 15),
            "dpd": 35,
            "delinquency_status": "DELINQUENT",
            "status": "OPEN",
            **loan,
        }
        session.add(Loan(account_number=account_number, cif=cif, **values, **common))


async def test_customer_and_loan_are_read_as_stored(bank_sync, token_for, unique):
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(bank_sync.app, cif, account)
    headers = token_for(Role.AGENT)

    customer = await bank_sync.get(f"/api/customers/{cif}", headers=headers)
    assert customer.status_code == 200, customer.text
    body = customer.json()
    assert body["cif"] == cif and body["name"] == "Nguyen Van An" and body["type"] == "INDIVIDUAL"
    assert body["dateOfBirth"] == "1985-03-14" and body["nationalId"] == "079085001234"
    assert body["companyName"] is None and body["segment"] == "RETAIL" and body["status"] == "ACTIVE"
    assert body["sourceSystem"] == "T24" and body["isEditable"] is False
    assert body["lastSyncedAt"].startswith("2026-11-28T01:00:00")

    loan = await bank_sync.get(f"/api/loans/{account}", headers=headers)
    assert loan.status_code == 200, loan.text
    body = loan.json()
    assert body["accountNumber"] == account and body["cif"] == cif
    assert body["originalAmount"] == "12000000.00"
    assert body["outstanding"] == "10000000.00"
    assert body["dueAmount"] == "2000000.00" and body["remainingAmount"] == "8000000.00"
    assert body["interestRate"] == "12.5000" and body["term"] == 24
    assert body["limitAmount"] is None and body["minPay"] is None
    assert body["dpd"] == 35 and body["delinquencyStatus"] == "DELINQUENT"
    assert body["nextPaymentDate"] == "2026-12-15" and body["currency"] == "VND"


async def test_unknown_customer_or_loan_is_a_404_problem(bank_sync, token_for, unique):
    headers = token_for(Role.SUPERVISOR)
    for path in (f"/api/customers/{unique('NOPE')}", f"/api/loans/{unique('NOPE')}"):
        r = await bank_sync.get(path, headers=headers)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 404 and "No " in r.json()["detail"]


async def test_reading_needs_a_token_and_a_reading_role(bank_sync, token_for, unique):
    cif, account = unique("CIF"), unique("LN")
    await add_customer_with_loan(bank_sync.app, cif, account)
    assert (await bank_sync.get(f"/api/customers/{cif}")).status_code == 401
    processor = token_for(Role.PAYMENT_PROCESSOR)
    assert (await bank_sync.get(f"/api/loans/{account}", headers=processor)).status_code == 403
    assert (await bank_sync.get(f"/api/loans/{account}", headers=token_for(Role.SYSTEM))).status_code == 200

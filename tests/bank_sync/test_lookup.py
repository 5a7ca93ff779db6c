"""Services read many customers or loans at once: ``POST /api/customers/lookup`` and
``POST /api/loans/lookup`` answer the known keys in the shape of the list routes, unknown keys absent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.platform.auth import Role
from tests.bank_sync.test_customers_loans import add_customer_with_loan


async def test_customer_lookup_answers_the_known_cifs_as_the_search_lists_them(bank_sync, token_for, unique):
    first, second = unique("CIF"), unique("CIF")
    await add_customer_with_loan(bank_sync.app, first, unique("LN"))
    await add_customer_with_loan(bank_sync.app, second, unique("LN"))
    headers = token_for(Role.AGENT)

    answer = await bank_sync.post(
        "/api/customers/lookup", json={"cifs": [second, unique("NOCIF"), first, first]}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert sorted(item["cif"] for item in items) == sorted([first, second])

    listed = await bank_sync.get("/api/customers", params={"q": first}, headers=headers)
    assert listed.status_code == 200, listed.text
    [as_listed] = [c for c in listed.json()["items"] if c["cif"] == first]
    assert next(item for item in items if item["cif"] == first) == as_listed


async def test_loan_lookup_answers_the_known_accounts_as_a_customers_loans_list_them(
    bank_sync, token_for, unique
):
    cif, first, second = unique("CIF"), unique("LN"), unique("LN")
    await add_customer_with_loan(bank_sync.app, cif, first, outstanding=Decimal("7000000.00"), dpd=12)
    await add_customer_with_loan(bank_sync.app, unique("CIF"), second, due_amount=Decimal("150000.00"))
    headers = token_for(Role.AGENT)

    answer = await bank_sync.post(
        "/api/loans/lookup", json={"accountNumbers": [first, second, unique("NOLN")]}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    items = {item["accountNumber"]: item for item in answer.json()["items"]}
    assert set(items) == {first, second}
    assert items[first]["outstanding"] == "7000000.00" and items[first]["dpd"] == 12
    assert items[first]["bucket"] == "B1" and items[first]["cif"] == cif
    assert items[second]["dueAmount"] == "150000.00"

    listed = await bank_sync.get(f"/api/customers/{cif}/loans", headers=headers)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == [items[first]]


async def test_a_lookup_of_only_unknown_keys_answers_no_items(bank_sync, token_for, unique):
    answer = await bank_sync.post(
        "/api/loans/lookup", json={"accountNumbers": [unique("NOLN")]}, headers=token_for(Role.SYSTEM)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"items": []}


@pytest.mark.parametrize(
    ("path", "field"), [("/api/customers/lookup", "cifs"), ("/api/loans/lookup", "accountNumbers")]
)
@pytest.mark.parametrize("count", [0, 1001])
async def test_a_lookup_takes_one_to_a_thousand_keys(bank_sync, token_for, path, field, count):
    answer = await bank_sync.post(
        path, json={field: [f"K{i}" for i in range(count)]}, headers=token_for(Role.AGENT)
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in answer.json()["errors"]] == [field]


async def test_a_thousand_keys_are_accepted(bank_sync, token_for, unique):
    cif = unique("CIF")
    await add_customer_with_loan(bank_sync.app, cif, unique("LN"))
    keys = [cif, *(unique("NOCIF") for _ in range(999))]
    answer = await bank_sync.post("/api/customers/lookup", json={"cifs": keys}, headers=token_for(Role.AGENT))
    assert answer.status_code == 200, answer.text
    assert [item["cif"] for item in answer.json()["items"]] == [cif]


@pytest.mark.parametrize(
    ("path", "field"), [("/api/customers/lookup", "cifs"), ("/api/loans/lookup", "accountNumbers")]
)
async def test_a_lookup_needs_a_token_and_a_reading_role(bank_sync, token_for, path, field):
    body = {field: ["K1"]}
    unauthenticated = await bank_sync.post(path, json=body)
    assert unauthenticated.status_code == 401, unauthenticated.text
    forbidden = await bank_sync.post(path, json=body, headers=token_for(Role.PAYMENT_PROCESSOR))
    assert forbidden.status_code == 403, forbidden.text

"""The search box lists each customer with its primary phone (to tell namesakes apart and call)."""

from __future__ import annotations

from crm.platform.auth import Role
from tests.bank_sync.test_read_api import ok, portfolio  # noqa: F401 - portfolio is a fixture


async def test_each_customer_found_carries_its_primary_phone_or_none(bank_sync, token_for, portfolio):  # noqa: F811
    p = portfolio
    found = ok(
        await bank_sync.get(
            "/api/customers", params={"q": p.base, "pageSize": 10}, headers=token_for(Role.AGENT)
        )
    )
    phones = {c["cif"]: c["primaryPhone"] for c in found["items"]}
    assert phones[p.an["cif"]] == f"+849{p.phone_digits}"  # the primary mobile, not the home line
    assert phones[p.company["cif"]] is None


async def test_the_lookup_of_several_customers_carries_their_primary_phones(bank_sync, token_for, portfolio):  # noqa: F811
    p = portfolio
    r = await bank_sync.post(
        "/api/customers/lookup",
        json={"cifs": [p.company["cif"], p.an["cif"]]},
        headers=token_for(Role.SUPERVISOR),
    )
    phones = {c["cif"]: c["primaryPhone"] for c in ok(r)["items"]}
    assert phones == {p.an["cif"]: f"+849{p.phone_digits}", p.company["cif"]: None}

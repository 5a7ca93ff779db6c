"""``CRM_BANK_DATA_CACHE_SECONDS``: the customer and loan an action is recorded on are asked of
bank-sync once within the cache time (an agent's calls in a row), and again after it."""

from __future__ import annotations

from sqlalchemy import text

from crm.platform.http import ServiceClient
from crm.workflow.bank_data import BankDataQueryService
from tests.bank_sync.test_customers_loans import add_customer_with_loan
from tests.payments.test_notifications import CountingTransport


async def test_a_loan_and_a_customer_are_reused_within_the_cache_time_and_asked_again_after(
    bank_sync, tokens, unique
):
    cif, account = unique("CIF-BD"), unique("LN-BD")
    await add_customer_with_loan(bank_sync.app, cif, account, dpd=35)
    transport = CountingTransport(bank_sync.app)
    clock = [500.0]
    bank = BankDataQueryService(
        ServiceClient("http://bank-sync", tokens, caller="workflow", transport=transport),
        ttl_seconds=60,
        timer=lambda: clock[0],
    )
    try:
        assert (await bank.loan(account))["dpd"] == 35 and (await bank.customer(cif))["cif"] == cif
        assert transport.requests == 2
        async with bank_sync.app.state.db.transaction() as session:
            await session.execute(
                text("UPDATE bank_sync.loan SET dpd = 36 WHERE account_number = :a"), {"a": account}
            )
        clock[0] += 59
        for _ in range(10):
            assert (await bank.loan(account))["dpd"] == 35, "within its time: the loan as it was fetched"
            await bank.customer(cif)
        assert transport.requests == 2
        clock[0] += 2
        assert (await bank.loan(account))["dpd"] == 36, "after its time: asked again, the change seen"
        await bank.customer(cif)
        assert transport.requests == 4
    finally:
        await bank.close()

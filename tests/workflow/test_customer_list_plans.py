"""The customer list reads indexes, not every customer: PostgreSQL explains the statements the
repository builds over a database of its own with 100,000 customers' facts (60 agents, 3 teams)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from crm.platform.settings import async_database_url
from crm.workflow.portfolio.repository import ListCriteria, count_statement, page_statement
from crm.workflow.portfolio.schemas import CustomerSort, PromiseFilter
from tests.bank_sync.test_query_plans import explain, nodes

AGENT = uuid.UUID(int=7)
LOAD = [
    """INSERT INTO workflow.agent (id, employee_id, name, email, type, team, max_customers)
       SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid, 'E' || i, 'Agent ' || i,
              'a' || i || '@bank.example', 'AGENT',
              (ARRAY['EARLY_STAGE_CALL','MID_STAGE_CALL','LEGAL'])[1 + i % 3], 5000
       FROM generate_series(1, 60) AS i""",
    """INSERT INTO workflow.customer_queue_fact (cif, max_dpd, total_due, total_outstanding, call_agent_id,
              follow_up_date, open_promise_date, open_promise_amount)
       SELECT 'C' || lpad(i::text, 8, '0'), (i * 37) % 400, (i * 7919) % 100000000, 1000000000,
              CASE WHEN i % 10 < 6
                   THEN ('00000000-0000-0000-0000-' || lpad((1 + i % 60)::text, 12, '0'))::uuid END,
              CASE WHEN i % 5 = 0 THEN date '2026-03-01' + (i % 40) END,
              CASE WHEN i % 11 = 0 THEN date '2026-03-20' END, CASE WHEN i % 11 = 0 THEN 500000 END
       FROM generate_series(1, 100000) AS i""",
    # the loans alone: the facts above are the test's own, not the triggers' recomputation
    "ALTER TABLE workflow.loan_view DISABLE TRIGGER USER",
    """INSERT INTO workflow.loan_view (account_number, cif, product_type, currency, outstanding, due_amount,
              dpd, status)
       SELECT 'L' || lpad(i::text, 9, '0'), 'C' || lpad((1 + i % 100000)::text, 8, '0'),
              (ARRAY['PERSONAL','CREDIT_CARD','MORTGAGE','AUTO','EDUCATION'])[1 + (i / 7) % 5], 'VND',
              1000000, 100000, (i * 37) % 400, 'ACTIVE'
       FROM generate_series(1, 150000) AS i""",
    "ALTER TABLE workflow.loan_view ENABLE TRIGGER USER",
    """INSERT INTO workflow.customer_view (cif, name, segment, status)
       SELECT 'C' || lpad(i::text, 8, '0'), 'Khách ' || i, 'RETAIL', 'ACTIVE'
       FROM generate_series(1, 100000) AS i""",
]


@pytest.fixture
async def loaded(isolated_database) -> AsyncIterator[AsyncConnection]:
    url = await isolated_database("workflow")
    engine = create_async_engine(async_database_url(url))
    try:
        async with engine.connect() as conn:
            for statement in LOAD:
                await conn.execute(text(statement))
            await conn.commit()
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


def _scans(plan: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The tables read whole, and the indexes used."""
    seq = {n["Relation Name"] for n in nodes(plan) if n["Node Type"] == "Seq Scan"}
    return seq, {n["Index Name"] for n in nodes(plan) if "Index Name" in n}


PAGES: list[tuple[ListCriteria, CustomerSort, str]] = [
    (ListCriteria(), CustomerSort.DPD_DESC, "ix_customer_queue_fact_max_dpd"),
    (ListCriteria(), CustomerSort.DUE_DESC, "ix_customer_queue_fact_total_due"),
    (ListCriteria(), CustomerSort.DUE_ASC, "ix_customer_queue_fact_total_due"),
    (ListCriteria(dpd_range=(31, 60)), CustomerSort.DPD_DESC, "ix_customer_queue_fact_max_dpd"),
    (ListCriteria(team="LEGAL"), CustomerSort.DPD_DESC, "ix_customer_queue_fact_max_dpd"),
    (ListCriteria(promise=PromiseFilter.OPEN), CustomerSort.DUE_DESC, "ix_customer_queue_fact_total_due"),
    (ListCriteria(agent_id=AGENT), CustomerSort.DPD_DESC, "ix_customer_queue_fact_call_agent"),
    (
        ListCriteria(agent_id=AGENT, text="khach 1"),
        CustomerSort.DUE_DESC,
        "ix_customer_queue_fact_call_agent",
    ),
]


async def test_each_page_of_the_list_is_an_index_range_not_a_scan_of_every_customer(loaded):
    for criteria, sort, index in PAGES:
        plan = await explain(loaded, page_statement(criteria, sort, offset=0, limit=20))
        seq, used = _scans(plan)
        assert "customer_queue_fact" not in seq and "customer_view" not in seq, (criteria, sort, plan)
        assert index in used, (criteria, sort, used)


async def test_an_agents_page_reads_its_book_not_the_sort_index(loaded):
    plan = await explain(
        loaded, page_statement(ListCriteria(agent_id=AGENT), CustomerSort.DPD_DESC, offset=0, limit=20)
    )
    _, used = _scans(plan)
    assert "ix_customer_queue_fact_max_dpd" not in used, plan
    count = await explain(loaded, count_statement(ListCriteria(agent_id=AGENT)))
    assert "customer_queue_fact" not in _scans(count)[0], count


async def test_counting_the_holders_of_a_product_reads_the_product_index_not_every_loan(loaded):
    count = await explain(loaded, count_statement(ListCriteria(product_type="EDUCATION")))
    seq, used = _scans(count)
    assert "loan_view" not in seq and "ix_loan_view_product_type_cif" in used, count

"""The customer search and the delinquency search use indexes: no sequential scan of a large table.

A database of its own gets 20,000 customers, 25,000 phones, 15,000 e-mails and 30,000 loans (set-based
inserts), is analysed, and PostgreSQL explains the very statements the repositories build, with
their parameters bound as the application binds them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from crm.bank_sync.customers import repository as customers
from crm.bank_sync.customers.schemas import CustomerStatus
from crm.bank_sync.customers.service import search_criteria
from crm.bank_sync.loans import repository as loans
from crm.bank_sync.loans.schemas import DelinquencyStatus, ProductType
from crm.bank_sync.loans.service import delinquency_criteria
from crm.platform.buckets import DpdBucket
from crm.platform.settings import async_database_url

LARGE_TABLES = {"customer", "loan", "phone", "email"}
SYNCED = "gen_random_uuid(), 'T24', 'SYSTEM', 'SYSTEM', now()"
SYNCED_COLUMNS = "id, source_system, created_by, updated_by, last_synced_at"

LOAD = [
    f"""INSERT INTO bank_sync.customer ({SYNCED_COLUMNS}, cif, type, name, national_id, segment, status)
        SELECT {SYNCED}, 'C' || lpad(i::text, 8, '0'), 'INDIVIDUAL',
               (ARRAY['Nguyễn','Trần','Lê','Phạm','Hoàng','Huỳnh','Phan','Vũ','Võ','Đặng'])[1 + i % 10]
               || ' ' || (ARRAY['Văn','Thị','Hữu','Đức','Minh','Ngọc','Thanh'])[1 + (i / 10) % 7]
               || ' ' || (ARRAY['An','Bình','Cường','Dũng','Giang','Hà','Hải','Hạnh','Hòa','Hùng','Hương',
                               'Khánh','Lan','Linh','Long','Mai','Nam','Nga','Ngân','Phúc','Phương','Quân',
                               'Quang','Sơn','Tâm','Thảo','Thắng','Trang','Tuấn','Yến'])[1 + (i / 70) % 30]
               || ' ' || (ARRAY['Bảo','Gia','Khôi','Kim','Mỹ','Như','Quốc','Tường','Xuân'])
                          [1 + (i / 2100) % 9],
               lpad((79085000000 + i)::text, 12, '0'),
               (ARRAY['RETAIL','SME','CORPORATE','PRIORITY'])[1 + i % 4],
               CASE WHEN i % 20 = 0 THEN 'INACTIVE' ELSE 'ACTIVE' END
        FROM generate_series(1, 20000) AS i""",
    f"""INSERT INTO bank_sync.phone ({SYNCED_COLUMNS}, cif, type, number, is_primary, is_verified)
        SELECT {SYNCED}, 'C' || lpad(i::text, 8, '0'), 'MOBILE', '+849' || lpad(i::text, 8, '0'), true, true
        FROM generate_series(1, 20000) AS i
        UNION ALL
        SELECT {SYNCED}, 'C' || lpad(i::text, 8, '0'), 'HOME', '028' || lpad(i::text, 8, '0'), false, false
        FROM generate_series(1, 5000) AS i""",
    f"""INSERT INTO bank_sync.email ({SYNCED_COLUMNS}, cif, address, is_primary, is_verified)
        SELECT {SYNCED}, 'C' || lpad(i::text, 8, '0'), 'khach' || i || '@example.vn', true, false
        FROM generate_series(1, 15000) AS i""",
    f"""INSERT INTO bank_sync.loan ({SYNCED_COLUMNS}, account_number, cif, product_type, original_amount,
            disbursement_date, maturity_date, interest_rate, term, payment_frequency, outstanding,
            remaining_amount, due_amount, dpd, delinquency_status, status)
        SELECT {SYNCED}, 'L' || lpad(i::text, 9, '0'), 'C' || lpad((1 + i % 20000)::text, 8, '0'),
               (ARRAY['MORTGAGE','AUTO','SECURED_PERSONAL','PERSONAL','EDUCATION','BUSINESS','CREDIT_CARD',
                      'OVERDRAFT','LINE_OF_CREDIT','REFINANCE','CONSOLIDATION','OTHER'])[1 + (i / 7) % 12],
               100000000, date '2024-01-15', date '2029-01-15', 12.5, 60, 'MONTHLY',
               80000000, 78000000, 2000000, d.dpd,
               CASE WHEN d.dpd = 0 THEN 'CURRENT' WHEN d.dpd > 90 THEN 'DEFAULT' ELSE 'DELINQUENT' END,
               CASE WHEN i % 25 = 0 THEN 'CLOSED' ELSE 'OPEN' END
        FROM generate_series(1, 30000) AS i,
             LATERAL (SELECT CASE WHEN i % 9 = 0 THEN 1 + (i * 37) % 400 ELSE 0 END AS dpd) AS d""",
]


@pytest.fixture
async def loaded(isolated_database) -> AsyncIterator[AsyncConnection]:
    """A connection to a database of its own holding a portfolio large enough for indexes to pay."""
    url = await isolated_database("bank-sync")
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


async def explain(conn: AsyncConnection, statement: Select[Any]) -> dict[str, Any]:
    """PostgreSQL's plan for ``statement`` as the application sends it: same SQL, same bound values."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled.string}", params)
    plan = result.scalar_one()
    return plan[0]["Plan"]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def assert_indexed(plan: dict[str, Any], *indexes: str, why: str) -> None:
    """No sequential scan of a large table, and each of ``indexes`` is used somewhere in the plan."""
    scans = [n["Relation Name"] for n in nodes(plan) if n["Node Type"] == "Seq Scan"]
    assert not LARGE_TABLES.intersection(scans), f"{why}: sequential scan of {scans}: {plan}"
    used = {n["Index Name"] for n in nodes(plan) if "Index Name" in n}
    assert set(indexes) <= used, f"{why}: expected {indexes} among {used}: {plan}"


CUSTOMER_SEARCHES = [
    ("nguyen van an", ["ix_customer_name_search"]),  # name without accents
    ("Phương Bảo", ["ix_customer_name_search"]),  # part of a name
    ("079085012345", ["ix_customer_national_id", "ix_phone_number"]),  # national id
    ("0900 012 345", ["ix_phone_number"]),  # phone typed locally, stored +84
    ("+84 900-012-345", ["ix_phone_number"]),
    ("KHACH123@Example.VN", ["ix_email_address_lower"]),
    ("C00001234", ["ix_customer_cif_pattern"]),  # CIF (exact, also as a prefix)
    ("c000012", ["ix_customer_cif_pattern", "ix_customer_name_search"]),  # CIF prefix in lower case
]


async def test_customer_search_is_index_backed(loaded):
    for q, indexes in CUSTOMER_SEARCHES:
        for segment, status in ((None, None), ("RETAIL", CustomerStatus.ACTIVE)):
            criteria = search_criteria(q, segment=segment, status=status)
            page = customers.search_statement(criteria, offset=0, limit=50)
            assert_indexed(await explain(loaded, page), *indexes, why=f"page of q={q!r}")
            count = customers.count_statement(criteria)
            assert_indexed(await explain(loaded, count), *indexes, why=f"count of q={q!r}")


DELINQUENCY_SEARCHES: list[tuple[dict[str, Any], str | None]] = [
    ({}, "ix_loan_delinquent_dpd"),
    ({"bucket": DpdBucket.B2}, "ix_loan_delinquent_dpd"),
    ({"bucket": DpdBucket.B5, "min_dpd": 200, "max_dpd": 250}, "ix_loan_delinquent_dpd"),
    ({"product_type": ProductType.CREDIT_CARD}, "ix_loan_product_type_dpd"),
    ({"bucket": DpdBucket.B1, "product_type": ProductType.AUTO}, "ix_loan_product_type_dpd"),
    ({"delinquency_status": DelinquencyStatus.DEFAULT, "bucket": DpdBucket.B4}, None),
    ({"cif": "C00000123", "min_dpd": 1}, "ix_loan_cif"),
]


async def test_delinquency_search_is_index_backed(loaded):
    for filters, index in DELINQUENCY_SEARCHES:
        criteria = delinquency_criteria(**filters)
        assert criteria is not None
        expected = [index] if index else []
        page = loans.delinquent_statement(criteria, offset=0, limit=50)
        assert_indexed(await explain(loaded, page), *expected, why=f"page of {filters}")
        count = loans.delinquent_count_statement(criteria)
        assert_indexed(await explain(loaded, count), *expected, why=f"count of {filters}")

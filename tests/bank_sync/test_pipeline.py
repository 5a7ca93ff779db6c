"""The nightly sync on small deliveries: exact counts, idempotence, changes, rejects, staleness, events."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update

from crm.bank_sync.customers.models import Customer
from crm.bank_sync.loans import service as loan_service
from crm.bank_sync.loans.models import Loan, LoanPaymentApplied
from crm.bank_sync.models import platform_tables
from crm.bank_sync.sync.models import SyncReject, SyncRun
from crm.bank_sync.sync.runner import SyncRunner, connector_for
from crm.platform.db import Database
from crm.platform.outbox import Outbox
from tests.bank_sync.extracts import (
    CUSTOMER_HEADER,
    LOAN_HEADER,
    PHONE_HEADER,
    customer,
    loan,
    write_delivery,
)

DAY1, DAY2 = date(2026, 11, 27), date(2026, 11, 28)
BUSINESS_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def business_midnight(days: int = 0) -> datetime:
    """The start of today's business day, moved by ``days``."""
    today = datetime.now(BUSINESS_TZ).date() + timedelta(days=days)
    return datetime.combine(today, time.min, tzinfo=BUSINESS_TZ)


@pytest.fixture
async def db(isolated_database):
    database = Database(await isolated_database("bank-sync"), schema="bank_sync")
    yield database
    await database.dispose()


async def sync(db: Database, inbox, source: str = "T24", day: date | None = None, entity: str | None = None):
    async with db.transaction() as session:
        run = SyncRun(
            source_system=source,
            state="RUNNING",
            counts={},
            requested_by="test",
            business_date=day,
            entity_type=entity,
        )
        session.add(run)
    runner = SyncRunner(db, Outbox(platform_tables.outbox), tz=BUSINESS_TZ)
    return await runner.execute(run.id, connector_for(source, inbox_dir=inbox))


def counts(run, entity: str) -> dict[str, int]:
    r = run.counts[entity]
    return {k: r[k] for k in ("read", "inserted", "updated", "unchanged", "rejected", "stale")}


async def test_first_load_rerun_and_next_day(db, tmp_path):
    customers = [customer(f"C{i}", name=f"Trần Thị Bình {i}") for i in range(1, 6)]
    loans = [loan(f"L{i}", f"C{i}", dpd=i * 10) for i in range(1, 6)]
    phones = [[f"C{i}", "MOBILE", f"+8491000000{i}", "true", "N"] for i in range(1, 6)]
    write_delivery(
        tmp_path,
        "T24",
        DAY1,
        {
            "customers": (CUSTOMER_HEADER, customers),
            "loans": (LOAN_HEADER, loans),
            "phones": (PHONE_HEADER, phones),
        },
    )
    first = await sync(db, tmp_path)
    assert first.state == "SUCCEEDED", first.error
    assert counts(first, "customers") == {
        "read": 5,
        "inserted": 5,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "stale": 0,
    }
    assert counts(first, "loans")["inserted"] == 5 and counts(first, "phones")["inserted"] == 5
    assert first.counts["emails"]["state"] == "SKIPPED", "a missing file is not synced, and says so"

    again = await sync(db, tmp_path)
    assert counts(again, "customers") == {
        "read": 5,
        "inserted": 0,
        "updated": 0,
        "unchanged": 5,
        "rejected": 0,
        "stale": 0,
    }
    assert counts(again, "loans")["unchanged"] == 5 and counts(again, "phones")["unchanged"] == 5

    customers[1] = customer("C2", name="Trần Thị Bình 2", segment="PRIORITY")
    loans[2] = loan("L3", "C3", dpd=95, outstanding="1.00")
    del customers[4]
    loans = [row for row in loans if row[1] != "C5"]
    phones = [row for row in phones if row[0] != "C5"]
    customers.append(customer("C6", name="Lê Văn Cường"))
    write_delivery(
        tmp_path,
        "T24",
        DAY2,
        {
            "customers": (CUSTOMER_HEADER, customers),
            "loans": (LOAN_HEADER, loans),
            "phones": (PHONE_HEADER, phones),
        },
    )
    nextday = await sync(db, tmp_path)
    assert nextday.business_date == DAY2, "the newest delivery is picked up"
    assert counts(nextday, "customers") == {
        "read": 5,
        "inserted": 1,
        "updated": 1,
        "unchanged": 3,
        "rejected": 0,
        "stale": 1,
    }
    assert counts(nextday, "loans") == {
        "read": 4,
        "inserted": 0,
        "updated": 1,
        "unchanged": 3,
        "rejected": 0,
        "stale": 1,
    }
    async with db.transaction() as session:
        c2 = await session.scalar(select(Customer).where(Customer.cif == "C2"))
        c5 = await session.scalar(select(Customer).where(Customer.cif == "C5"))
        l3 = await session.scalar(select(Loan).where(Loan.account_number == "L3"))
        assert c2.segment == "PRIORITY" and c2.missing_since is None
        assert c5 is not None and c5.missing_since is not None, "absent records are kept, marked stale"
        assert c5.last_synced_at < c5.missing_since
        assert l3.dpd == 95 and str(l3.outstanding) == "1.00"
        outbox = platform_tables.outbox
        payloads = [json.loads(p) for p in (await session.scalars(select(outbox.c.payload))).all()]
    updated = [p for p in payloads if p["type"] == "ENTITY_UPDATED" and p["runId"] == str(nextday.id)]
    assert sorted(k for p in updated if p["entityType"] == "customers" for k in p["affectedRecords"]) == [
        "C2",
        "C6",
    ]
    assert [k for p in updated if p["entityType"] == "loans" for k in p["affectedRecords"]] == ["L3"]
    assert any(p["type"] == "SYNC_COMPLETED" and p["runId"] == str(nextday.id) for p in payloads)


async def test_rows_the_table_already_holds_are_skipped_but_crm_changes_are_restored(db, tmp_path):
    """The fast path (a row identical to the one loaded before is unchanged) must never hide a change:
    a balance moved by a payment, a record gone stale, a padded value, a repeated line."""
    customers = [customer(f"C{i}") for i in range(1, 4)]
    loans = [loan(f"L{i}", f"C{i}", outstanding="50000000.00") for i in range(1, 4)]
    write_delivery(
        tmp_path, "T24", DAY1, {"customers": (CUSTOMER_HEADER, customers), "loans": (LOAN_HEADER, loans)}
    )
    assert (await sync(db, tmp_path)).state == "SUCCEEDED"
    async with db.transaction() as session:
        # Day 1 was loaded two days ago; a payment yesterday moved L1, and today's snapshot has it.
        await session.execute(
            update(Loan).where(Loan.account_number == "L1").values(last_synced_at=business_midnight(-2))
        )
        applied = await loan_service.apply_payment(
            session,
            reference_number="PAY-1",
            loan_account_number="L1",
            amount=Decimal("1000000"),
            currency="VND",
            paid_at=business_midnight(-1) + timedelta(hours=10),
            tz=BUSINESS_TZ,
        )
        assert applied
    # Day 2: C3 absent (stale). Day 3: the same rows as day 1 again, L2 padded, C1 delivered twice.
    write_delivery(
        tmp_path,
        "T24",
        DAY2,
        {"customers": (CUSTOMER_HEADER, customers[:2]), "loans": (LOAN_HEADER, loans)},
    )
    day2 = await sync(db, tmp_path)
    assert counts(day2, "customers")["stale"] == 1
    assert counts(day2, "loans") == {
        "read": 3,
        "inserted": 0,
        "updated": 1,
        "unchanged": 2,
        "rejected": 0,
        "stale": 0,
    }, "the loan a payment moved is compared again, and the core's balance wins"
    async with db.transaction() as session:
        l1 = await session.scalar(select(Loan).where(Loan.account_number == "L1"))
        assert str(l1.outstanding) == "50000000.00"

    padded = [*loans[1]]
    padded[0] = " L2 "
    day3 = date(2026, 11, 29)
    write_delivery(
        tmp_path,
        "T24",
        day3,
        {
            "customers": (CUSTOMER_HEADER, [*customers, customers[0]]),
            "loans": (LOAN_HEADER, [loans[0], padded, loans[2]]),
        },
    )
    again = await sync(db, tmp_path)
    assert counts(again, "customers") == {
        "read": 4,
        "inserted": 0,
        "updated": 1,
        "unchanged": 2,
        "rejected": 1,
        "stale": 0,
    }, "C3 is back (updated, no longer stale); the repeated C1 line is a reject"
    assert counts(again, "loans")["unchanged"] == 3, "a padded key is the same value"
    async with db.transaction() as session:
        c3 = await session.scalar(select(Customer).where(Customer.cif == "C3"))
        assert c3.missing_since is None
        reasons = (
            await session.scalars(select(SyncReject.reason).where(SyncReject.run_id == again.id))
        ).all()
    assert reasons == ["duplicate key in the file (first at line 2)"]


async def _pay(db: Database, reference: str, account: str, amount: str, paid_at: datetime) -> None:
    async with db.transaction() as session:
        await loan_service.apply_payment(
            session,
            reference_number=reference,
            loan_account_number=account,
            amount=Decimal(amount),
            currency="VND",
            paid_at=paid_at,
            tz=BUSINESS_TZ,
        )


async def test_payments_made_since_the_snapshots_cut_are_taken_off_the_loaded_balances_again(db, tmp_path):
    """Tonight's extract describes yesterday: a payment made after midnight, before the load finished,
    is not in it and stays counted; yesterday's payments and reversed ones are the core's business."""
    customers = [customer(f"C{i}") for i in range(1, 3)]
    day1 = [loan(f"L{i}", f"C{i}", dpd=30, dueAmount="3000000.00") for i in range(1, 3)]
    write_delivery(
        tmp_path, "T24", DAY1, {"customers": (CUSTOMER_HEADER, customers), "loans": (LOAN_HEADER, day1)}
    )
    assert (await sync(db, tmp_path)).state == "SUCCEEDED"
    async with db.transaction() as session:  # day 1 was loaded yesterday morning
        await session.execute(update(Loan).values(last_synced_at=business_midnight(-1) + timedelta(hours=2)))
    await _pay(db, "Y-1", "L1", "500000", business_midnight(-1) + timedelta(hours=15))  # yesterday
    await _pay(db, "T-1", "L1", "2000000", business_midnight() + timedelta(minutes=10))  # after midnight
    await _pay(db, "T-2", "L1", "1500000", business_midnight() + timedelta(minutes=20))
    await _pay(db, "T-3", "L2", "700000", business_midnight() + timedelta(minutes=30))
    async with db.transaction() as session:
        assert await loan_service.reverse_payment(session, reference_number="T-3")

    # Tonight's snapshot (yesterday's payment in it: 49.5 M, 2.5 M due, 10 days later).
    day2 = [
        loan("L1", "C1", dpd=40, outstanding="49500000.00", dueAmount="2500000.00"),
        loan("L2", "C2", dpd=40, dueAmount="3000000.00"),
    ]
    write_delivery(
        tmp_path, "T24", DAY2, {"customers": (CUSTOMER_HEADER, customers), "loans": (LOAN_HEADER, day2)}
    )
    assert (await sync(db, tmp_path)).state == "SUCCEEDED"

    async with db.transaction() as session:
        balances = {
            r.account_number: (str(r.outstanding), str(r.due_amount), str(r.remaining_amount), r.dpd)
            for r in await session.scalars(select(Loan).order_by(Loan.account_number))
        }
        taken = {
            r.payment_reference_number: (str(r.applied_outstanding), str(r.applied_due))
            for r in await session.scalars(select(LoanPaymentApplied))
        }
    # L1: the snapshot less 2.0 M and 1.5 M, in the order they were made; the due amount ends at zero.
    assert balances == {
        "L1": ("46000000.00", "0.00", "46000000.00", 40),
        "L2": ("50000000.00", "3000000.00", "45000000.00", 40),  # as delivered
    }
    assert taken["T-1"] == ("2000000.00", "2000000.00")
    assert taken["T-2"] == ("1500000.00", "500000.00"), "what its reversal will put back"
    assert taken["Y-1"] == ("500000.00", "500000.00"), "applied yesterday, on yesterday's balances"

    async with db.transaction() as session:
        assert await loan_service.reverse_payment(session, reference_number="T-2")
        l1 = await session.scalar(select(Loan).where(Loan.account_number == "L1"))
        assert (str(l1.outstanding), str(l1.due_amount)) == ("47500000.00", "500000.00")


async def test_a_load_postgresql_aborts_in_a_deadlock_runs_again_and_succeeds(db, tmp_path):
    """Another transaction (as the balance consumer could) holds a row the load needs, then asks for
    a loan the load has just rewritten: PostgreSQL aborts the load, which runs again."""
    customers = [customer(f"C{i}") for i in range(1, 3)]
    write_delivery(
        tmp_path,
        "T24",
        DAY1,
        {"customers": (CUSTOMER_HEADER, customers), "loans": (LOAN_HEADER, [loan("L1", "C1", dpd=30)])},
    )
    assert (await sync(db, tmp_path)).state == "SUCCEEDED"
    write_delivery(tmp_path, "T24", DAY2, {"loans": (LOAN_HEADER, [loan("L1", "C1", dpd=40)])})

    async with db.engine.connect() as other, db.engine.connect() as watcher:
        await other.begin()
        await other.execute(
            text(
                "SELECT 1 FROM bank_sync.sync_entity_state "
                "WHERE source_system = 'T24' AND entity_type = 'loans' FOR UPDATE"
            )
        )
        load = asyncio.create_task(sync(db, tmp_path, day=DAY2, entity="loans"))

        async def waiting_for_a_lock() -> int:
            found = await watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            await watcher.commit()
            return int(found or 0)

        for _ in range(300):  # the load has rewritten L1 and waits for the row held above
            if await waiting_for_a_lock():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the load never waited")
        await other.execute(text("UPDATE bank_sync.loan SET dpd = 99 WHERE account_number = 'L1'"))
        await other.commit()  # reached once PostgreSQL aborted the load (the cycle's first waiter)

    run = await asyncio.wait_for(load, 60)
    assert run.state == "SUCCEEDED", run.error
    assert counts(run, "loans")["updated"] == 1
    async with db.transaction() as session:
        l1 = await session.scalar(select(Loan).where(Loan.account_number == "L1"))
        assert l1.dpd == 40, "the core's row, loaded again after the other transaction"


async def test_every_kind_of_bad_row_is_rejected_with_reason_and_line(db, tmp_path):
    customers = [
        customer("C1"),
        customer("", name="No key"),
        customer("C3", type="ALIEN"),
        customer("C1", name="Again"),
        customer("C5", gender="ROBOT"),
        customer("C6"),
    ]
    loans = [
        loan("L1", "C1"),
        loan("L2", "C404"),
        loan("L3", "C1", disbursementDate="2025-13-01"),
        loan("L4", "C1", outstanding="12,5"),
        loan("L5", "C1", dpd="x"),
        loan("L6", "C6"),
    ]
    write_delivery(
        tmp_path,
        "W4",
        DAY1,
        {
            "customers": ([*CUSTOMER_HEADER, "branch"], [[*r, "HN01"] for r in customers]),
            "loans": (LOAN_HEADER, loans),
        },
    )
    run = await sync(db, tmp_path, source="W4")
    assert run.state == "SUCCEEDED"
    assert counts(run, "customers") == {
        "read": 6,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 4,
        "stale": 0,
    }
    assert run.counts["customers"]["warnings"] == ["unknown column(s) ignored: branch"]
    assert counts(run, "loans")["inserted"] == 2 and counts(run, "loans")["rejected"] == 4
    async with db.transaction() as session:
        rejects = (
            await session.scalars(
                select(SyncReject)
                .where(SyncReject.run_id == run.id)
                .order_by(SyncReject.entity_type, SyncReject.line_number)
            )
        ).all()
    found = {(r.entity_type, r.line_number): r.reason for r in rejects}
    assert found == {
        ("customers", 3): "missing cif",
        ("customers", 4): "unknown type value: ALIEN",
        ("customers", 5): "duplicate key in the file (first at line 2)",
        ("customers", 6): "unknown gender value: ROBOT",
        ("loans", 3): "unknown customer: C404",
        ("loans", 4): "bad date in disbursementDate: 2025-13-01",
        ("loans", 5): "bad number in outstanding: 12,5",
        ("loans", 6): "bad number in dpd: x",
    }
    original = next(r for r in rejects if r.line_number == 4 and r.entity_type == "customers")
    assert original.row["type"] == "ALIEN" and original.row["branch"] == "HN01", (
        "the row is kept as delivered"
    )


async def test_truncated_file_is_not_loaded_and_the_run_says_why(db, tmp_path):
    write_delivery(tmp_path, "T24", DAY1, {"customers": (CUSTOMER_HEADER, [customer("C1"), customer("C2")])})
    assert (await sync(db, tmp_path)).state == "SUCCEEDED"
    rows = [customer("C1", segment="SME"), customer("C2", segment="SME"), customer("C3")]
    write_delivery(
        tmp_path, "T24", DAY2, {"customers": (CUSTOMER_HEADER, rows)}, manifest_rows={"customers": 4}
    )
    run = await sync(db, tmp_path)
    assert run.state == "FAILED"
    assert "3 data rows but the manifest says 4" in run.error
    assert run.counts["customers"]["state"] == "FAILED"
    async with db.transaction() as session:
        segments = (await session.scalars(select(Customer.segment).order_by(Customer.cif))).all()
    assert segments == ["RETAIL", "RETAIL"], "yesterday's data is intact"


async def test_checksum_mismatch_is_refused(db, tmp_path):
    folder = write_delivery(tmp_path, "T24", DAY1, {"customers": (CUSTOMER_HEADER, [customer("C1")])})
    (folder / "customers.csv").write_text((folder / "customers.csv").read_text().replace("RETAIL", "SME"))
    run = await sync(db, tmp_path)
    assert run.state == "FAILED" and "sha256" in run.error
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 0


async def test_gzip_and_bom_are_accepted(db, tmp_path):
    write_delivery(
        tmp_path,
        "OTHER",
        DAY1,
        {"customers": (CUSTOMER_HEADER, [customer("G1", name="Đặng Thị Ánh")])},
        gz=True,
        bom=True,
    )
    run = await sync(db, tmp_path, source="OTHER")
    assert run.state == "SUCCEEDED" and counts(run, "customers")["inserted"] == 1
    async with db.transaction() as session:
        assert await session.scalar(select(Customer.name).where(Customer.cif == "G1")) == "Đặng Thị Ánh"


async def test_no_delivery_fails_the_run_clearly(db, tmp_path):
    run = await sync(db, tmp_path, source="W4")
    assert run.state == "FAILED" and "No extract has arrived for W4" in run.error


async def test_sql_connector_loads_the_same_way(db, tmp_path):
    """A core system read through SQL (here a SQLite file standing in for the core's reporting DB)."""
    import sqlite3

    core = tmp_path / "core.sqlite"
    with sqlite3.connect(core) as conn:
        conn.execute("CREATE TABLE cust (id TEXT, kind TEXT, full_name TEXT, seg TEXT, active INTEGER)")
        conn.executemany(
            "INSERT INTO cust VALUES (?, ?, ?, ?, ?)",
            [
                ("S1", "INDIVIDUAL", "Phạm Minh Đức", "RETAIL", 1),
                ("S2", "ORGANIZATION", "Công ty A", "SME", 0),
            ],
        )
    queries = {
        "customers": "SELECT id AS cif, kind AS type, full_name AS name, seg AS segment, "
        "CASE active WHEN 1 THEN 'ACTIVE' ELSE 'INACTIVE' END AS status FROM cust"
    }
    sql_sources = json.dumps({"OTHER": {"url": f"sqlite:///{core}", "queries": queries}})
    async with db.transaction() as session:
        run = SyncRun(
            source_system="OTHER", state="RUNNING", counts={}, requested_by="test", business_date=DAY1
        )
        session.add(run)
    runner = SyncRunner(db, Outbox(platform_tables.outbox), tz=BUSINESS_TZ)
    done = await runner.execute(run.id, connector_for("OTHER", inbox_dir=tmp_path, sql_sources=sql_sources))
    assert done.state == "SUCCEEDED", done.error
    assert counts(done, "customers")["inserted"] == 2
    async with db.transaction() as session:
        status = await session.scalar(select(Customer.status).where(Customer.cif == "S2"))
        assert status == "INACTIVE"
        assert (
            await session.scalar(
                text("SELECT count(*) FROM bank_sync.customer WHERE source_system = 'OTHER'")
            )
            == 2
        )
    assert uuid.UUID(str(done.id))

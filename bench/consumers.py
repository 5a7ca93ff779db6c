# ruff: noqa: E501 - long report lines
"""How fast each payment consumer applies events, in-process, against a floor measured in the same run.

    .venv/bin/python bench/consumers.py            # throughput
    .venv/bin/python bench/consumers.py --profile  # and where the CPU goes (cProfile, top 25)

Starts the system as ``make run`` does (``crm up --demo``), in a temporary folder, then in this process
builds bank-sync's loan-balance consumer and workflow's payments consumer on the same database and
hands them PaymentEvents for the demo loans in batches of 100, exactly as their runners do after a
fetch (``ConsumerRunner.apply_all``: ``processed_event``, the consumer's lock order, one transaction per
batch). The bus is not involved: this is the apply path alone, the part that was ~5 ms of Python per
event. Events for 600 loans of 400 customers, several per loan within a batch, a reversal in ten.

The floor: per batch of 100, what any consumer must do at least, through asyncpg: insert the batch's
event ids into ``processed_event`` and move the balances of its loans in one set-based UPDATE, one
transaction per batch.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import random
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg

from crm.bank_sync.loans.consumers import LoanBalanceConsumer
from crm.bank_sync.models import platform_tables as bank_sync_tables
from crm.launch import System
from crm.platform.consumer import ConsumerRunner
from crm.platform.db import Database, utcnow
from crm.platform.events import PaymentEvent
from crm.platform.outbox import Outbox
from crm.workflow.models import platform_tables as workflow_tables
from crm.workflow.readmodel.consumers import PaymentConsumer
from crm.workflow.settings import WorkflowSettings
from payments import demo_loans  # bench/payments.py: the first 600 delinquent demo loans

BATCH = 100
BATCHES = 60


def batches(loans: list[dict], prefix: str, seed: int) -> list[list[PaymentEvent]]:
    """Payment events in batches: each batch draws its loans from 60 of the 600, so a loan often has
    several payments in one batch; one event in ten reverses a payment made earlier."""
    rng = random.Random(seed)
    made: list[PaymentEvent] = []
    out: list[list[PaymentEvent]] = []
    for b in range(BATCHES):
        few = rng.sample(loans, 60)
        batch: list[PaymentEvent] = []
        for i in range(BATCH):
            if made and rng.random() < 0.1:
                paid = made.pop(rng.randrange(len(made)))
                batch.append(
                    paid.model_copy(
                        update={"type": "PAYMENT_REVERSED", "status": "REVERSED", "event_id": uuid.uuid4()}
                    )
                )
                continue
            loan = rng.choice(few)
            event = PaymentEvent(
                type="PAYMENT_RECEIVED",
                payment_reference_number=f"{prefix}-{b}-{i}",
                loan_account_number=loan["accountNumber"],
                cif=loan["cif"],
                amount=Decimal("1000.00"),
                currency=loan["currency"],
                status="COMPLETED",
                payment_date=utcnow(),
            )
            made.append(event)
            batch.append(event)
        out.append(batch)
    return out


async def apply(runner: ConsumerRunner, work: list[list[PaymentEvent]], profile: bool) -> tuple[float, str]:
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for batch in work:
        await runner.apply_all(batch)
    if profiler:
        profiler.disable()
    took = time.perf_counter() - started
    report = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        report = out.getvalue()
    return BATCH * len(work) / took, report


async def floor(url: str, loans: list[dict], seconds: float = 10.0) -> float:
    conn = await asyncpg.connect(url)
    accounts = [loan["accountNumber"] for loan in loans]
    done, started = 0, time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            ids = [uuid.uuid4() for _ in range(BATCH)]
            chosen = sorted(set(random.sample(accounts, 60)))
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO bank_sync.processed_event (consumer, event_id) SELECT 'bench-floor', unnest($1::uuid[])",
                    ids,
                )
                await conn.execute(
                    "UPDATE bank_sync.loan AS l SET outstanding = l.outstanding - 0, updated_at = now() "
                    "FROM unnest($1::text[]) AS v(a) WHERE l.account_number = v.a",
                    chosen,
                )
            done += BATCH
        return done / (time.perf_counter() - started)
    finally:
        await conn.execute("DELETE FROM bank_sync.processed_event WHERE consumer = 'bench-floor'")
        await conn.close()


def runners(url: str) -> list[tuple[str, ConsumerRunner, Database]]:
    bank_sync_db = Database(url, schema="bank_sync", pool_size=4)
    workflow_db = Database(url, schema="workflow", pool_size=4)
    settings = WorkflowSettings()
    app: Any = SimpleNamespace(
        state=SimpleNamespace(outbox=Outbox(workflow_tables.outbox), settings=settings)
    )
    bus: Any = None  # apply_all never touches the bus
    return [
        (
            "bank-sync loan-balance",
            ConsumerRunner(
                LoanBalanceConsumer(settings.tz),
                service="bank-sync-bench",
                db=bank_sync_db,
                bus=bus,
                tables=bank_sync_tables,
            ),
            bank_sync_db,
        ),
        (
            "workflow readmodel-payments",
            ConsumerRunner(
                PaymentConsumer(app),
                service="workflow-bench",
                db=workflow_db,
                bus=bus,
                tables=workflow_tables,
            ),
            workflow_db,
        ),
    ]


async def measure(url: str, loans: list[dict], profile: bool) -> None:
    floor_rate = await floor(url.replace("postgresql+asyncpg://", "postgresql://"), loans)
    print(
        f"floor: processed_event + one set-based balance UPDATE per batch of {BATCH}, asyncpg: {floor_rate:,.0f} events/s"
    )
    for n, (name, runner, db) in enumerate(runners(url)):
        work = batches(loans, f"BENCH{n}-{uuid.uuid4().hex[:6]}", seed=n)
        await apply(runner, work[:5], profile=False)  # warm-up, not reported
        rate, report = await apply(runner, work[5:], profile)
        print(f"{name:<28} {rate:>7,.0f} events/s   ({rate / floor_rate:.2f} of the floor)")
        if report:
            print(report)
        await db.dispose()


def main() -> None:
    profile = "--profile" in sys.argv
    work = Path(tempfile.mkdtemp(prefix="crm-bench-consumers-"))
    with System(work) as system:
        headers = asyncio.run(system.loaded())
        loans = asyncio.run(demo_loans(system.base, headers))
        url = system.database_url()
        if not url.startswith("postgresql+asyncpg://"):
            url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
        print(
            f"{len(loans)} demo loans; {BATCHES - 5} batches of {BATCH} events per consumer", file=sys.stderr
        )
        asyncio.run(measure(url, loans, profile))


if __name__ == "__main__":
    main()

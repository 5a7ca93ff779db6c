# ruff: noqa: E501 - long report lines
"""Benchmark of signed payment notifications (issue 4), against a floor measured in the same run.

    .venv/bin/python bench/payments.py

Starts the system as ``make run`` does (``crm up --demo``: one process, embedded PostgreSQL and NATS,
demo data loaded), in a temporary folder, then from a second process on loopback sends signed
notifications (docs/api.md) for the demo loans:
1. the maximum: as many as 64 concurrent senders get through in 15 s;
2. open-loop runs at 25 %, 50 % and 100 % of that maximum and at 500/s, 15 s each: achieved rate,
   p50 / p99 latency measured from each request's scheduled send time (no coordinated omission);
3. afterwards: every acknowledged notification is one stored payment with one outbox event, and
   nothing else was stored (no loss, no duplicate);
4. the floor: the same insert of a payment and its outbox row, straight through asyncpg (one
   statement per payment, 8 connections), for 15 s.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import httpx

from crm.launch import System
from crm.payments.notifications.signature import sign

# The generator runs in a spawned process that imports this module again: the secret must come
# from the environment there, not be drawn twice.
SECRET = os.environ.setdefault("BENCH_WEBHOOK_SECRET", secrets.token_urlsafe(24))
DURATION = float(os.environ.get("BENCH_SECONDS", "15"))


def body(ref: str, loan: dict) -> bytes:
    return json.dumps(
        {
            "referenceNumber": ref,
            "loanAccountNumber": loan["accountNumber"],
            "cif": loan["cif"],
            "amount": "150000.00",
            "currency": loan["currency"],
            "paymentDate": "2026-11-28T09:30:00+07:00",
            "paymentChannel": "MOBILE_APP",
        }
    ).encode()


async def _send(session: aiohttp.ClientSession, base: str, ref: str, loan: dict) -> int:
    data = body(ref, loan)
    headers = {"X-Signature": sign(data, SECRET, int(time.time())), "Content-Type": "application/json"}
    try:
        async with session.post(f"{base}/api/payments/notification", data=data, headers=headers) as r:
            await r.read()
            return r.status
    except (aiohttp.ClientError, TimeoutError):
        return 0  # no answer: counted, and not acknowledged


def _session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections), timeout=aiohttp.ClientTimeout(total=60)
    )


async def _closed_loop(base: str, loans: list[dict], prefix: str, concurrency: int) -> dict:
    sent, codes = 0, dict[int, int]()
    deadline = time.perf_counter() + DURATION
    async with _session(concurrency) as session:

        async def worker(w: int) -> None:
            nonlocal sent
            i = 0
            while time.perf_counter() < deadline:
                code = await _send(session, base, f"{prefix}-{w}-{i}", loans[(w * 7919 + i) % len(loans)])
                codes[code] = codes.get(code, 0) + 1
                sent += 1
                i += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"rate": sent / elapsed, "codes": codes, "sent": sent}


async def _open_loop(base: str, loans: list[dict], prefix: str, rate: float) -> dict:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    total = int(rate * DURATION)
    async with _session(512) as session:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            code = await _send(session, base, f"{prefix}-{i}", loans[i % len(loans)])
            latencies.append(time.perf_counter() - scheduled)
            codes[code] = codes.get(code, 0) + 1

        await asyncio.gather(*(one(i) for i in range(total)))
        elapsed = max(time.perf_counter() - start, total / rate)
    latencies.sort()
    return {
        "target": rate,
        "rate": total / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "codes": codes,
        "sent": total,
    }


def generator(base: str, loans: list[dict], plan: list, out: multiprocessing.Queue) -> None:
    """The load generator's process: runs the plan, puts each phase's figures on ``out``."""

    async def run() -> None:
        for kind, prefix, value in plan:
            try:
                result = await (_closed_loop if kind == "closed" else _open_loop)(base, loans, prefix, value)
            except Exception as exc:  # the parent waits on the queue: tell it instead of hanging
                result = {"error": repr(exc)}
            out.put(result)

    asyncio.run(run())


def run_phase(base: str, loans: list[dict], kind: str, prefix: str, value: float) -> dict:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=generator, args=(base, loans, [(kind, prefix, value)], out))
    proc.start()
    result = out.get()
    proc.join()
    if "error" in result:
        raise RuntimeError(f"load generator failed: {result['error']}")
    refused = {code: n for code, n in result["codes"].items() if code not in (200, 201)}
    if refused:
        print(f"   {prefix}: answers other than 200/201: {refused}", file=sys.stderr)
    return result


async def floor(url: str, seconds: float = DURATION, connections: int = 8) -> float:
    """One statement per payment: the payment row and its outbox row, through asyncpg."""
    conns = [await asyncpg.connect(url) for _ in range(connections)]
    await conns[0].execute(
        "CREATE TABLE IF NOT EXISTS bench_payment (LIKE payments.payment INCLUDING ALL);"
        "CREATE TABLE IF NOT EXISTS bench_outbox (LIKE payments.outbox_event INCLUDING ALL)"
    )
    done = 0
    deadline = time.perf_counter() + seconds
    sql = """WITH p AS (
        INSERT INTO bench_payment (id, reference_number, loan_account_number, cif, amount, currency,
            payment_date, payment_channel, status, source_system, created_by, updated_by, is_editable,
            created_at, updated_at)
        VALUES ($1, $2, 'LN1', 'C1', 150000.00, 'VND', now(), 'MOBILE_APP', 'COMPLETED', 'OTHER', 'p', 'p',
                false, now(), now()) ON CONFLICT (reference_number) DO NOTHING RETURNING id)
        INSERT INTO bench_outbox (id, subject, payload) SELECT $3, 'crm.payment.received', $4 FROM p"""

    async def worker(conn: asyncpg.Connection, w: int) -> None:
        nonlocal done
        i = 0
        while time.perf_counter() < deadline:
            await conn.execute(sql, uuid.uuid4(), f"F-{w}-{i}", uuid.uuid4(), '{"type": "PAYMENT_RECEIVED"}')
            done += 1
            i += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(c, w) for w, c in enumerate(conns)))
    elapsed = time.perf_counter() - started
    for c in conns:
        await c.close()
    return done / elapsed


async def demo_loans(base: str, headers: dict[str, str]) -> list[dict]:
    """The first 600 delinquent loans of the demo data."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        loans: list[dict] = []
        for n in range(1, 4):
            page = await client.get(f"/api/loans/delinquent?pageSize=200&page={n}", headers=headers)
            loans.extend(page.json()["items"])
        return loans


async def count(url: str, prefix: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetchval(
            "SELECT count(*) FROM payments.payment WHERE reference_number LIKE $1", prefix + "%"
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM payments.outbox_event WHERE payload LIKE $1",
            f'%"paymentReferenceNumber":"{prefix}%',
        )
        return int(rows), int(events)
    finally:
        await conn.close()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="crm-bench-pay-"))
    with System(work, CRM_PAYMENT_WEBHOOK_SECRET=SECRET) as system:
        base = system.base
        headers = asyncio.run(system.loaded())
        loans = asyncio.run(demo_loans(base, headers))
        print(f"{len(loans)} demo loans; server at {base}", file=sys.stderr)
        run_phase(base, loans, "closed", "WARM", 16)  # warm-up, not reported
        peak = run_phase(base, loans, "closed", "MAX", 64)
        runs = [
            run_phase(base, loans, "open", f"R{int(share * 100)}", peak["rate"] * share)
            for share in (0.25, 0.5, 1.0)
        ]
        at500 = run_phase(base, loans, "open", "R500", 500.0)
        database_url = system.database_url()
        acknowledged = dict.fromkeys(("MAX", "R25", "R50", "R100", "R500"), 0)
        for prefix, result in zip(acknowledged, [peak, *runs, at500], strict=True):
            acknowledged[prefix] = sum(n for code, n in result["codes"].items() if code in (200, 201))
        floor_rate = asyncio.run(floor(database_url))
        print(
            f"maximum (64 concurrent senders, {DURATION:.0f} s): {peak['rate']:,.0f} notifications/s  codes {peak['codes']}"
        )
        for r in [*runs, at500]:
            print(
                f"open loop at {r['target']:>6,.0f}/s: achieved {r['rate']:>6,.0f}/s  p50 {r['p50']:6.1f} ms  p99 {r['p99']:7.1f} ms  codes {r['codes']}"
            )
        print(f"floor: payment + outbox row through asyncpg, 8 connections: {floor_rate:,.0f}/s")
        print(f"maximum / floor = {peak['rate'] / floor_rate:.2f}")
        lost = duplicated = 0
        for prefix, acked in acknowledged.items():
            rows, events = asyncio.run(count(database_url, prefix + "-"))
            lost += max(0, acked - rows)
            duplicated += max(0, rows - acked) + max(0, events - rows)
            print(f"   {prefix:<5} acknowledged {acked:>7,}  stored {rows:>7,}  events {events:>7,}")
        print(f"lost: {lost}, duplicated: {duplicated}")


if __name__ == "__main__":
    main()

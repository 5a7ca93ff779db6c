# ruff: noqa: E501 - long report lines
"""Benchmark of a payment's effect: how long after a notification is acknowledged its loan's balance
shows it in bank-sync and its customer's figures show it in workflow.

    .venv/bin/python bench/effects.py                    # 100, 250 and 500/s, 60 s each
    BENCH_SECONDS=10 .venv/bin/python bench/effects.py   # a quick try

Starts the system as ``make run`` does (``crm up --demo``: embedded PostgreSQL and NATS, the 2,000 demo
customers ``crm up --demo`` generates and loads), in a temporary folder, then:

1. Set-up (not measured): waits until workflow's read model holds every loan; picks ``--loans`` (200)
   VND delinquent loans of as many customers (none of the demo agent's), gives those customers to bench
   agents (``POST /api/agents``, ``POST /api/assignments/bulk``, at most 500 an agent) so that each
   customer is in an agent's queue; 500 notifications in 10 s warm the system up (not reported). More loans cost the sampler more (a loan read back costs the server
   ~0.1 ms); on the demo's ~3,000 loans two batches of 100 payments would share loans anyway.
2. Per rate: a second, spawned process sends signed notifications (docs/api.md) open loop, notification
   i at ``start + i / rate`` to loan ``i mod loans`` (each round gives every loan one), of a fixed amount,
   dated now; it records when each was acknowledged. Meanwhile this process samples the loans that
   still have payments to show, every ``--interval`` seconds, through the API:
   - bank-sync: ``POST /api/loans/lookup`` (1,000 account numbers a request), the loan's ``outstanding``;
   - workflow: ``GET /api/agents/{id}/queue?pageSize=500``, what the agent's "My day" lists for each
     customer, its ``totalOutstanding`` (workflow's loan view, through its queue facts);
   and ``/metrics`` every 0.5 s (``crm_events_consumed_total`` per consumer). Each payment lowers the
   balance by the amount, so a balance of start - n x amount means n payments are applied: the k-th
   acknowledged payment of a loan (by acknowledgement time) took effect when the k-th drop was first
   seen (the time the answer came back; resolution: the sampling interval). The phase ends when every
   acknowledged payment is seen in both services; past ``--drain-cap`` seconds after the last
   acknowledgement the backlog left then is reported, and the consumers get up to ``--catch-up`` more
   seconds (sampled every second) to finish, so that the whole drain is known and the next rate
   starts clean.
3. Per rate: achieved rate, ack p50/p99 (from each notification's scheduled time: no coordinated
   omission), effect p50/p99 in each service (from the acknowledgement), the drain time after the last
   acknowledgement, each consumer's events/s while sending and while draining (with a backlog: saturated),
   and lost and doubled per service: acknowledged payments a loan's final balance lacks (start -
   acknowledged x amount), or more taken off it than payments stored; the rows of payments.payment,
   bank_sync.loan_payment_applied and workflow.payment_view against those. Also the events the
   consumers were delivered again (already applied), how far payments' outbox relay was behind, the
   load average and the machine's CPU use, the sampler's own requests, and what PostgreSQL's log says
   (errors, deadlocks, statements over 2 s).
4. The floor, same run, after the phases: the balance change done set-based straight through asyncpg, one
   statement per batch of 100 payments (the consumers' batch), on the same tables: bank-sync's processed
   event ids, applied payments and loan balances; workflow's processed event ids, payment view and loan
   view (whose statement triggers keep the queue facts); events/s at saturation / floor.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import math
import multiprocessing
import os
import queue
import re
import secrets
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil

from crm.launch import System
from crm.payments.notifications.signature import sign
from crm.platform.settings import DEMO_AGENT_ID

# The generator runs in a spawned process that imports this module again: the secret must come
# from the environment there, not be drawn twice.
SECRET = os.environ.setdefault("BENCH_WEBHOOK_SECRET", secrets.token_urlsafe(24))
AMOUNT = Decimal("10000.00")
BANK, FLOW = "bank-sync-loan-balance", "workflow-readmodel-payments"
CONSUMERS = (BANK, FLOW)
LOOKUP_KEYS = 1000  # bank-sync's lookup routes answer at most this many keys
QUEUE_PAGE = 500  # the largest page of an agent's queue
FLOOR_BATCH = 100  # EventConsumer.batch_size
CONNECTIONS = 512  # the load generator's, at most
WARM_UP = 500  # notifications in 10 s before the rates, not reported
METRIC = re.compile(r'^crm_events_consumed_total\{consumer="([^"]+)",outcome="([^"]+)"\} (\S+)$', re.M)
OUTBOX = re.compile(r'^crm_outbox_published_total\{service="payments"\} (\S+)$', re.M)
PUBLISHED = ("outbox", "published")  # in a metrics sample: the events payments' relay has published
# (crm_outbox_pending would say how far it is behind, but nothing sets that gauge)


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    parser.add_argument(
        "--rates", default=env("BENCH_RATES", "100,250,500"), help="notifications/s, comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=float(env("BENCH_SECONDS", "60")), help="per rate")
    parser.add_argument(
        "--loans", type=int, default=int(env("BENCH_LOANS", "200")), help="loans paid (one per customer)"
    )
    parser.add_argument(
        "--interval", type=float, default=float(env("BENCH_INTERVAL", "0.1")), help="sampling period, s"
    )
    parser.add_argument(
        "--drain-cap",
        type=float,
        default=float(env("BENCH_DRAIN_CAP", "300")),
        help="longest drain measured, s",
    )
    parser.add_argument(
        "--catch-up",
        type=float,
        default=float(env("BENCH_CATCH_UP", "600")),
        help="longest wait after a capped drain, s",
    )
    return parser.parse_args()


# --- the load generator (a spawned process) -----------------------------------------------------


def notification(ref: str, account: str, cif: str, paid_at: str) -> bytes:
    return (
        f'{{"referenceNumber":"{ref}","loanAccountNumber":"{account}","cif":"{cif}","amount":"{AMOUNT}",'
        f'"currency":"VND","paymentDate":"{paid_at}","paymentChannel":"MOBILE_APP"}}'
    ).encode()


async def _generate(plan: dict[str, Any], start: multiprocessing.Queue, out: multiprocessing.Queue) -> None:
    loans: list[tuple[str, str]] = plan["loans"]
    rate, total = plan["rate"], plan["total"]
    url = f"{plan['base']}/api/payments/notification"
    acks: list[tuple[int, float]] = [(0, math.nan)] * total
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    # Open loop: a notification waits for a connection as long as it takes (at a rate the server cannot
    # answer, minutes), rather than give up and leave a payment stored but not acknowledged.
    timeout = aiohttp.ClientTimeout(total=1800)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        connections = asyncio.Semaphore(CONNECTIONS)

        async def one(i: int) -> None:
            account, cif = loans[i % len(loans)]
            data = notification(f"{plan['prefix']}{i}", account, cif, plan["paid_at"])
            # Signed once a connection is free, as a processor signs what it sends: a notification that
            # waited minutes here would otherwise be refused as stale (the tolerance is 300 s).
            async with connections:
                headers = {
                    "X-Signature": sign(data, SECRET, int(time.time())),
                    "Content-Type": "application/json",
                }
                try:
                    async with session.post(url, data=data, headers=headers) as answer:
                        await answer.read()
                        acks[i] = (answer.status, time.monotonic())
                except (aiohttp.ClientError, TimeoutError):
                    acks[i] = (0, time.monotonic())  # no answer: counted, and not acknowledged

        out.put("ready")
        begin: float = await asyncio.to_thread(start.get)
        tasks = []
        for i in range(total):
            # time.monotonic is one clock for every process of the machine: the parent compares.
            await asyncio.sleep(max(0.0, begin + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    out.put(acks)


def generator(plan: dict[str, Any], start: multiprocessing.Queue, out: multiprocessing.Queue) -> None:
    try:
        asyncio.run(_generate(plan, start, out))
    except Exception as exc:  # the parent waits on the queue: tell it instead of hanging
        out.put(repr(exc))


async def _from(proc: multiprocessing.process.BaseProcess, out: multiprocessing.Queue) -> Any:
    """The next thing the generator puts on ``out``; an error if it died without a word."""

    def get() -> Any:
        while True:
            try:
                return out.get(timeout=0.5)
            except queue.Empty:
                if not proc.is_alive():
                    return "the load generator exited"

    value = await asyncio.to_thread(get)
    if isinstance(value, str) and value != "ready":
        raise RuntimeError(f"load generator failed: {value}")
    return value


# --- reading the effects back ---------------------------------------------------------------------


class Effects:
    """What one service shows of the payments, per key (a loan, or its customer): how many payments
    its balance has dropped by, and when each of those drops was first seen."""

    def __init__(self, start: dict[str, Decimal]) -> None:
        self.start = start
        self.seen: dict[str, list[float]] = {key: [] for key in start}
        self.odd = 0
        """Readings that were not start - n x amount, or that went back up."""

    def observe(self, key: str, value: Decimal, at: float) -> None:
        units, rest = divmod(self.start[key] - value, AMOUNT)
        seen = self.seen[key]
        if rest or units < len(seen):
            self.odd += 1
        if not rest and units > len(seen):
            seen.extend([at] * (int(units) - len(seen)))

    def drop(self, key: str) -> int:
        return len(self.seen[key])

    def last(self) -> float:
        return max((s[-1] for s in self.seen.values() if s), default=math.nan)


@dataclass
class Book:
    """The benchmark's loans and the agents whose queues show their customers."""

    loans: list[tuple[str, str]]  # (account number, cif), one loan per customer
    agents: dict[str, list[str]] = field(default_factory=dict)  # agent id -> its customers

    @property
    def accounts(self) -> list[str]:
        return [a for a, _ in self.loans]

    def agent_of(self) -> dict[str, str]:
        return {cif: agent for agent, cifs in self.agents.items() for cif in cifs}


@dataclass
class Sampler:
    http: aiohttp.ClientSession
    book: Book
    requests: int = 0
    loans_read: int = 0
    queues_read: int = 0
    ticks: int = 0
    errors: int = 0

    async def bank(self, accounts: list[str]) -> list[tuple[str, Decimal, float]]:
        readings = []
        for start in range(0, len(accounts), LOOKUP_KEYS):
            chunk = accounts[start : start + LOOKUP_KEYS]
            async with self.http.post("/api/loans/lookup", json={"accountNumbers": chunk}) as answer:
                answer.raise_for_status()
                items = (await answer.json())["items"]
            at = time.monotonic()
            self.requests += 1
            self.loans_read += len(chunk)
            readings += [(i["accountNumber"], Decimal(i["outstanding"]), at) for i in items]
        return readings

    async def flow(self, agents: Iterable[str]) -> list[tuple[str, Decimal, float]]:
        readings = []
        for agent in agents:
            async with self.http.get(f"/api/agents/{agent}/queue", params={"pageSize": QUEUE_PAGE}) as answer:
                answer.raise_for_status()
                items = (await answer.json())["items"]
            at = time.monotonic()
            self.requests += 1
            self.queues_read += 1
            readings += [(i["cif"], Decimal(i["totalOutstanding"]), at) for i in items]
        return readings

    async def run(
        self,
        bank: Effects,
        flow: Effects,
        expected: Callable[[], tuple[dict[str, int], bool]],
        interval: float,
        until: Callable[[], float],
    ) -> bool:
        """Sample the keys still short of what is expected until every one has it (True) or the
        deadline ``until()`` passes (False). ``expected()`` answers the payments each loan should
        show by now and whether that is final (every answer of the generator is in)."""
        agent_of = self.book.agent_of()
        cif_of = dict(self.book.loans)
        wanted = set(cif_of.values())
        while True:
            tick = time.monotonic()
            counts, final = expected()
            accounts = [a for a in self.book.accounts if bank.drop(a) < counts[a]]
            agents = {agent_of[cif_of[a]] for a in self.book.accounts if flow.drop(cif_of[a]) < counts[a]}
            if final and not accounts and not agents:
                return True
            if tick > until():
                return False
            try:
                bank_read, flow_read = await asyncio.gather(self.bank(accounts), self.flow(sorted(agents)))
            except (aiohttp.ClientError, TimeoutError) as exc:  # a busy server: counted, sampled again
                self.errors += 1
                print(f"   sampler: {exc!r}", file=sys.stderr)
                bank_read, flow_read = [], []
            for account, value, at in bank_read:
                bank.observe(account, value, at)
            for cif, value, at in flow_read:
                if cif in wanted:
                    flow.observe(cif, value, at)
            self.ticks += 1
            await asyncio.sleep(max(0.0, tick + interval - time.monotonic()))


async def consumed(http: aiohttp.ClientSession) -> dict[tuple[str, str], float]:
    async with http.get("/metrics") as answer:
        text = await answer.text()
    sample = {(c, o): float(v) for c, o, v in METRIC.findall(text)}
    sample[PUBLISHED] = sum(float(v) for v in OUTBOX.findall(text))
    return sample


async def watch_metrics(
    http: aiohttp.ClientSession, series: list[tuple[float, dict]], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            series.append((time.monotonic(), await consumed(http)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def handled(sample: dict[tuple[str, str], float], consumer: str) -> float:
    return sample.get((consumer, "applied"), 0.0) + sample.get((consumer, "duplicate"), 0.0)


def events_per_second(
    series: list[tuple[float, dict]], consumer: str, begin: float, end: float
) -> float | None:
    """The consumer's events/s between the first and the last sample inside [begin, end]; None when
    that is shorter than 2 s."""
    inside = [(t, s) for t, s in series if begin <= t <= end]
    if len(inside) < 2 or inside[-1][0] - inside[0][0] < 2:
        return None
    (t0, s0), (t1, s1) = inside[0], inside[-1]
    return (handled(s1, consumer) - handled(s0, consumer)) / (t1 - t0)


def pct(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * p) - 1))]


# --- set-up ---------------------------------------------------------------------------------------


async def token(http: aiohttp.ClientSession, admin: dict[str, str]) -> None:
    async with http.post("/api/auth/token", data=admin) as answer:
        answer.raise_for_status()
        http.headers["Authorization"] = f"Bearer {(await answer.json())['access_token']}"


async def read_model_complete(url: str, http: aiohttp.ClientSession, within: float = 900) -> None:
    """Wait (set-up, straight SQL) until workflow's read model holds every loan, the demo agent has its
    customers and workflow's bank-data consumer has been idle for 5 s: a refresh of a loan from
    bank-sync during a phase would overwrite workflow's balance with one that has payments in it."""
    conn = await asyncpg.connect(url)
    try:
        deadline, quiet_since, last = time.monotonic() + within, time.monotonic(), -1.0
        while time.monotonic() < deadline:
            missing = await conn.fetchval(
                "SELECT (SELECT count(*) FROM bank_sync.loan) - (SELECT count(*) FROM workflow.loan_view)"
            )
            demo = await conn.fetchval(
                "SELECT count(*) FROM workflow.customer_agent WHERE is_current AND assigned_call_agent_id = $1",
                uuid.UUID(DEMO_AGENT_ID),
            )
            now_handled = handled(await consumed(http), "workflow-readmodel-bank-data")
            if now_handled != last:
                last, quiet_since = now_handled, time.monotonic()
            if missing == 0 and demo and time.monotonic() - quiet_since >= 5:
                return
            await asyncio.sleep(1)
        raise RuntimeError("workflow's read model did not fill")
    finally:
        await conn.close()


async def pick_loans(http: aiohttp.ClientSession, count: int, payments_per_loan: int) -> Book:
    """``count`` VND delinquent loans of as many customers, none of the demo agent's, each with an
    outstanding twice what the run will take off it (so that no payment is cut at zero)."""
    async with http.get(f"/api/assignments/agent/{DEMO_AGENT_ID}", params={"pageSize": 500}) as answer:
        answer.raise_for_status()
        taken = {a["cif"] for a in (await answer.json())["items"]}
    floor_balance = AMOUNT * payments_per_loan * 2
    chosen: dict[str, str] = {}
    page = 1
    while True:
        async with http.get("/api/loans/delinquent", params={"pageSize": 500, "page": page}) as answer:
            answer.raise_for_status()
            body = await answer.json()
        for loan in body["items"]:
            fits = loan["currency"] == "VND" and Decimal(loan["outstanding"]) >= floor_balance
            if fits and loan["cif"] not in taken and loan["cif"] not in chosen.values():
                chosen[loan["accountNumber"]] = loan["cif"]
        if page * 500 >= body["total"]:
            break
        page += 1
    if len(chosen) < count:
        raise RuntimeError(f"only {len(chosen)} loans fit (need {count}); ask for fewer --loans")
    return Book(loans=sorted(chosen.items())[:count])


async def assign(http: aiohttp.ClientSession, book: Book, run: str) -> None:
    """Bench agents, 500 customers each at most, and the book's customers assigned to them."""
    cifs = [cif for _, cif in book.loans]
    for n, start in enumerate(range(0, len(cifs), QUEUE_PAGE), 1):
        mine = cifs[start : start + QUEUE_PAGE]
        agent = {
            "employeeId": f"FX{run}{n:02d}",
            "name": f"Effects bench {n}",
            "email": f"effects{run.lower()}{n}@bench.example",
            "type": "AGENT",
            "team": "EARLY_STAGE_CALL",
            "maxCustomers": QUEUE_PAGE,
        }
        async with http.post("/api/agents", json=agent) as answer:
            answer.raise_for_status()
            agent_id = (await answer.json())["id"]
        bulk = {"cifs": mine, "assignedCallAgentId": agent_id, "reason": "effects bench"}
        async with http.post("/api/assignments/bulk", json=bulk) as answer:
            answer.raise_for_status()
            result = await answer.json()
        if result["assigned"] != len(mine):
            raise RuntimeError(f"bulk assignment: {result['assigned']} of {len(mine)} assigned ({result})")
        book.agents[agent_id] = mine


# --- one rate -------------------------------------------------------------------------------------


@dataclass
class Phase:
    rate: float
    sent: int = 0
    acked: int = 0
    codes: dict[int, int] = field(default_factory=dict)
    achieved: float = math.nan
    ack: list[float] = field(default_factory=list)
    effect: dict[str, list[float]] = field(default_factory=dict)
    drain: dict[str, float] = field(default_factory=dict)
    sending_eps: dict[str, float | None] = field(default_factory=dict)
    draining_eps: dict[str, float | None] = field(default_factory=dict)
    backlog: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    doubled: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    counted: dict[str, float] = field(default_factory=dict)
    duplicates: dict[str, float] = field(default_factory=dict)
    """Deliveries of events already applied (JetStream redelivers what is not acked within 30 s)."""
    failed_events: dict[str, float] = field(default_factory=dict)
    odd: dict[str, int] = field(default_factory=dict)
    early: int = 0
    capped: bool = False
    caught_up: bool = True
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cpu: float = 0.0
    sampler: str = ""
    seconds: float = 0.0
    outbox_peak: float = 0.0
    db_lag: dict[str, list[float]] = field(default_factory=dict)


async def rows_of(url: str, prefix: str) -> tuple[dict[str, int], dict[str, int]]:
    """The phase's rows in payments, bank-sync and workflow; the payments stored per loan."""
    conn = await asyncpg.connect(url)
    try:
        rows = {}
        for name, table, column in (
            ("payments", "payments.payment", "reference_number"),
            ("bank-sync", "bank_sync.loan_payment_applied", "payment_reference_number"),
            ("workflow", "workflow.payment_view", "reference_number"),
        ):
            sql = f"SELECT count(*) FROM {table} WHERE starts_with({column}, $1)"
            rows[name] = int(await conn.fetchval(sql, prefix))
        per_loan = await conn.fetch(
            "SELECT loan_account_number, count(*) AS n FROM payments.payment"
            " WHERE starts_with(reference_number, $1) GROUP BY 1",
            prefix,
        )
        return rows, {r["loan_account_number"]: int(r["n"]) for r in per_loan}
    finally:
        await conn.close()


DB_LAG = """
SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM a.applied_at - p.created_at)),
       percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM w.updated_at - p.created_at))
FROM payments.payment p
JOIN bank_sync.loan_payment_applied a ON a.payment_reference_number = p.reference_number
JOIN workflow.payment_view w ON w.reference_number = p.reference_number
WHERE starts_with(p.reference_number, $1)
"""


async def db_lag(url: str, prefix: str) -> dict[str, list[float]]:
    """A second opinion from the rows' own times (each a transaction's start, in PostgreSQL): the
    payment stored -> applied in bank-sync / recorded in workflow, p50 and p99 in seconds."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(DB_LAG, prefix)
        return {BANK: list(row[0] or []), FLOW: list(row[1] or [])}
    finally:
        await conn.close()


async def run_rate(
    system: System,
    http: aiohttp.ClientSession,
    book: Book,
    url: str,
    rate: float,
    args: argparse.Namespace,
    run: str,
    seconds: float | None = None,
) -> Phase:
    phase = Phase(rate=rate)
    began = time.monotonic()
    await token(http, system.admin)  # a token lasts an hour; a capped run can be long
    prefix = f"FX{run}-{int(rate)}{'W' if seconds else ''}-"
    total = int(rate * (seconds or args.seconds))
    sampler = Sampler(http, book)
    bank = Effects({a: v for a, v, _ in await sampler.bank(book.accounts)})
    flow = Effects({c: v for c, v, _ in await sampler.flow(book.agents)})
    if len(bank.start) != len(book.loans) or len(flow.start) != len(book.loans):
        raise RuntimeError(
            f"read back {len(bank.start)} loans and {len(flow.start)} customers of {len(book.loans)}"
        )
    sampler.requests = sampler.loans_read = sampler.queues_read = 0
    before = await consumed(http)
    series: list[tuple[float, dict]] = [(time.monotonic(), before)]
    stop = asyncio.Event()
    metrics = asyncio.create_task(watch_metrics(http, series, stop))

    ctx = multiprocessing.get_context("spawn")
    start_queue, out = ctx.Queue(), ctx.Queue()
    paid_at = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    plan = {
        "base": system.base,
        "loans": book.loans,
        "prefix": prefix,
        "rate": rate,
        "total": total,
        "paid_at": paid_at,
    }
    proc = ctx.Process(target=generator, args=(plan, start_queue, out), daemon=True)
    proc.start()
    try:
        await _from(proc, out)  # "ready": imported, connected
        psutil.cpu_percent(None)
        start = time.monotonic() + 0.5
        start_queue.put(start)
        answers = asyncio.create_task(_from(proc, out))
        index = {a: j for j, a in enumerate(book.accounts)}
        loans = len(book.loans)
        acked_per_loan: dict[str, list[float]] = {}
        last_ack = math.inf

        def expected() -> tuple[dict[str, int], bool]:
            if phase.sent:  # every answer is in and counted
                return {a: len(acked_per_loan.get(a, ())) for a in book.accounts}, True
            # Before the answers: what was scheduled by now (i = 0 .. m-1, loan i mod loans).
            m = min(total, max(0, math.floor((time.monotonic() - start) * rate) + 1))
            return {a: m // loans + (1 if j < m % loans else 0) for a, j in index.items()}, False

        async def answered() -> None:
            nonlocal last_ack
            acks = await answers
            for i, (code, at) in enumerate(acks):
                phase.codes[code] = phase.codes.get(code, 0) + 1
                if code in (200, 201):
                    acked_per_loan.setdefault(book.loans[i % loans][0], []).append(at)
                    phase.ack.append(at - (start + i / rate))
            last_ack = max(at for _, at in acks)
            phase.sent, phase.acked = total, len(phase.ack)
            phase.achieved = phase.acked / max(last_ack - start, total / rate)

        collecting = asyncio.create_task(answered())
        phase.capped = not await sampler.run(
            bank, flow, expected, args.interval, lambda: last_ack + args.drain_cap
        )
        await collecting
        counts = {a: len(acked_per_loan.get(a, ())) for a in book.accounts}
        cif_of = dict(book.loans)
        keys = ((BANK, bank, lambda a: a), (FLOW, flow, lambda a: cif_of[a]))
        for name, effects, key in keys:
            phase.backlog[name] = sum(max(0, counts[a] - effects.drop(key(a))) for a in book.accounts)
        if phase.capped:
            # Let the consumers finish, still sampling (every second), so that the next rate starts clean
            # and the whole drain is known.
            phase.caught_up = await sampler.run(
                bank,
                flow,
                expected,
                max(1.0, args.interval),
                lambda: last_ack + args.drain_cap + args.catch_up,
            )
        phase.load, phase.cpu = os.getloadavg(), psutil.cpu_percent(None)
        sampled_for = time.monotonic() - start
        phase.sampler = (
            f"{sampler.requests / sampled_for:.1f} requests/s ({sampler.loans_read / sampled_for:,.0f} loans, "
            f"{sampler.queues_read / sampled_for:.1f} queues a second), {sampler.ticks} samples, {sampler.errors} failed"
        )
        for name, effects, key in keys:
            left = sum(max(0, counts[a] - effects.drop(key(a))) for a in book.accounts)
            last_seen = effects.last()
            phase.drain[name] = max(0.0, last_seen - last_ack) if left == 0 else math.nan
            latencies = [
                seen - acked
                for a in book.accounts
                for seen, acked in zip(effects.seen[key(a)], sorted(acked_per_loan.get(a, ())), strict=False)
            ]
            phase.early += sum(1 for x in latencies if x < 0)
            phase.effect[name] = latencies
            phase.sending_eps[name] = events_per_second(series, name, start, last_ack)
            end = last_seen if left == 0 else time.monotonic()
            phase.draining_eps[name] = events_per_second(series, name, last_ack, end)
        # How far payments' outbox relay was behind: acknowledged by then, not yet published.
        acked_at = sorted(at for ats in acked_per_loan.values() for at in ats)
        phase.outbox_peak = max(
            bisect.bisect_right(acked_at, t) - (sample[PUBLISHED] - before[PUBLISHED]) for t, sample in series
        )
        # Final word: every loan read once more, whatever the sampler thought.
        final_bank = Effects(bank.start)
        for account, value, at in await sampler.bank(book.accounts):
            final_bank.observe(account, value, at)
        final_flow = Effects(flow.start)
        for cif, value, at in await sampler.flow(book.agents):
            final_flow.observe(cif, value, at)
        phase.odd = {BANK: bank.odd + final_bank.odd, FLOW: flow.odd + final_flow.odd}
        phase.rows, stored = await rows_of(url, prefix)
        phase.db_lag = await db_lag(url, prefix)
        # Lost: acknowledged, not in the balance. Doubled: more in the balance than was stored (a payment
        # stored whose answer never came is neither).
        for name, effects, key in ((BANK, final_bank, lambda a: a), (FLOW, final_flow, lambda a: cif_of[a])):
            phase.lost[name] = sum(max(0, counts[a] - effects.drop(key(a))) for a in book.accounts)
            phase.doubled[name] = sum(max(0, effects.drop(key(a)) - stored.get(a, 0)) for a in book.accounts)
        after = await consumed(http)
        for name in CONSUMERS:
            phase.counted[name] = handled(after, name) - handled(before, name)
            phase.duplicates[name] = after.get((name, "duplicate"), 0.0) - before.get(
                (name, "duplicate"), 0.0
            )
            phase.failed_events[name] = sum(
                after.get((name, o), 0.0) - before.get((name, o), 0.0) for o in ("retried", "dead_lettered")
            )
    finally:
        stop.set()
        await metrics
        if proc.is_alive():
            proc.terminate()
        proc.join(10)
    phase.seconds = time.monotonic() - began
    return phase


# --- the floor ------------------------------------------------------------------------------------

BANK_FLOOR = """
WITH b AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) AS b(event_id, ref, account)),
fresh AS (
    INSERT INTO bank_sync.processed_event (consumer, event_id) SELECT 'effects-floor', event_id FROM b
    ON CONFLICT DO NOTHING RETURNING event_id),
applied AS (
    INSERT INTO bank_sync.loan_payment_applied
        (payment_reference_number, loan_account_number, applied_outstanding, applied_due, amount, paid_at)
    SELECT b.ref, b.account, $4::numeric, 0, $4::numeric, now() FROM b JOIN fresh USING (event_id)
    ON CONFLICT (payment_reference_number) DO NOTHING RETURNING loan_account_number, applied_outstanding),
taken AS (SELECT loan_account_number AS account, sum(applied_outstanding) AS amount FROM applied GROUP BY 1)
UPDATE bank_sync.loan l
SET outstanding = l.outstanding - t.amount,
    remaining_amount = greatest(l.outstanding - t.amount - l.due_amount, 0),
    updated_by = 'SYSTEM', sync_hash = NULL, updated_at = now()
FROM taken t WHERE l.account_number = t.account
"""

FLOW_FLOOR = """
WITH b AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS b(event_id, ref, account, cif)),
fresh AS (
    INSERT INTO workflow.processed_event (consumer, event_id) SELECT 'effects-floor', event_id FROM b
    ON CONFLICT DO NOTHING RETURNING event_id),
recorded AS (
    INSERT INTO workflow.payment_view (reference_number, cif, loan_account_number, amount, currency,
        payment_date, status, applied_outstanding, applied_due)
    SELECT b.ref, b.cif, b.account, $5::numeric, 'VND', now(), 'RECEIVED', $5::numeric, 0
    FROM b JOIN fresh USING (event_id)
    ON CONFLICT (reference_number) DO NOTHING RETURNING loan_account_number, applied_outstanding),
taken AS (SELECT loan_account_number AS account, sum(applied_outstanding) AS amount FROM recorded GROUP BY 1)
UPDATE workflow.loan_view l SET outstanding = l.outstanding - t.amount, updated_at = now()
FROM taken t WHERE l.account_number = t.account
"""


async def floor(url: str, book: Book, payments: int) -> dict[str, float]:
    """Payments/s of the balance change done set-based, one statement per batch, one connection."""
    conn = await asyncpg.connect(url)
    rates = {}
    try:
        for name, sql in ((BANK, BANK_FLOOR), (FLOW, FLOW_FLOOR)):
            started = time.perf_counter()
            for first in range(0, payments, FLOOR_BATCH):
                n = range(first, min(payments, first + FLOOR_BATCH))
                loans = [book.loans[i % len(book.loans)] for i in n]
                args: list[Any] = [
                    [uuid.uuid4() for _ in n],
                    [f"FLOOR-{name}-{i}" for i in n],
                    [a for a, _ in loans],
                ]
                args += [[c for _, c in loans], AMOUNT] if name == FLOW else [AMOUNT]
                await conn.execute(sql, *args)
            rates[name] = payments / (time.perf_counter() - started)
    finally:
        await conn.close()
    return rates


# --- the report -----------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value * 1000:,.0f}" if value >= 1 else f"{value * 1000:.1f}"


def eps(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def saturated(p: Phase, name: str) -> str:
    """Events/s while draining a backlog; a drain under 2 s measures nothing: the rate while sending."""
    if p.draining_eps[name] is not None:
        return eps(p.draining_eps[name])
    return f"- ({eps(p.sending_eps[name])} while sending)"


def lost_and_doubled(p: Phase) -> tuple[str, str]:
    """Per service, bank-sync/workflow. Lost: acknowledged payments the final balances lack (or that
    payments did not store); doubled: more taken off the balances than was stored (or more rows of
    applied payments than stored ones). The worse of the two readings, not their sum."""
    stored = p.rows.get("payments", 0)
    lost = "/".join(str(max(p.lost[n], p.acked - stored)) for n in CONSUMERS)
    doubled = "/".join(
        str(max(p.doubled[n], p.rows.get(table, 0) - stored))
        for n, table in zip(CONSUMERS, ("bank-sync", "workflow"), strict=True)
    )
    return lost, doubled


def report(phases: list[Phase], floors: dict[str, float], args: argparse.Namespace, started: float) -> None:
    print()
    for p in phases:
        load = " ".join(f"{x:.2f}" for x in p.load)
        print(
            f"rate {p.rate:,.0f}/s: achieved {p.achieved:,.1f}/s, {p.acked:,} acknowledged of {p.sent:,}, codes {p.codes}"
            f"  (load average {load}, machine CPU {p.cpu:.0f} % while sending and draining; phase {p.seconds:.0f} s)"
        )
        print(
            f"   ack                          p50 {ms(median(p.ack)):>7} ms  p99 {ms(pct(p.ack, 0.99)):>7} ms"
            f"  max {ms(max(p.ack, default=math.nan))} ms"
        )
        for name in CONSUMERS:
            lat = p.effect[name]
            print(
                f"   {name:<28} effect p50 {ms(median(lat)):>7} ms  p99 {ms(pct(lat, 0.99)):>7} ms"
                f"  drain {p.drain[name]:6.1f} s after the last acknowledgement  events/s sending {eps(p.sending_eps[name]):>5}, draining {eps(p.draining_eps[name]):>5}"
                f"  backlog at the cap {p.backlog[name]:,}  lost {p.lost[name]}  doubled {p.doubled[name]}"
                f"  consumed {p.counted[name]:,.0f} (of which redelivered, already applied: {p.duplicates[name]:,.0f})"
                f"  retried/dead-lettered {p.failed_events[name]:,.0f}  odd readings {p.odd[name]}"
            )
        print(
            f"   rows {p.rows} for {p.acked:,} acknowledged; effects seen before their acknowledgement: {p.early};"
            f" payments' outbox relay at most {p.outbox_peak:,.0f} events behind the acknowledgements"
        )
        print(f"   sampler: {p.sampler}")
        lag = ", ".join(f"{n} p50 {ms(v[0])} / p99 {ms(v[1])} ms" for n, v in p.db_lag.items() if len(v) == 2)
        print(f"   the rows' times (payment stored -> transaction that applied it began): {lag}")
        if p.capped:
            print(
                f"   drain capped at {args.drain_cap:.0f} s (backlog above); sampled every second until the consumers"
                f" caught up (within {args.catch_up:.0f} s more): {p.caught_up}"
            )
    print()
    for name in CONSUMERS:
        ratios = ", ".join(
            f"{p.rate:,.0f}/s: {eps(p.draining_eps[name])}/s = {p.draining_eps[name] / floors[name]:.4f}"
            for p in phases
            if p.draining_eps[name] and floors.get(name)
        )
        print(
            f"floor {name}: the balance change set-based through asyncpg, {FLOOR_BATCH} payments a statement,"
            f" 1 connection: {floors.get(name, math.nan):,.0f}/s; the consumer draining / floor: {ratios or '-'}"
        )
    print()
    print(
        "| rate | achieved | ack p50 / p99 ms | bank-sync effect p50 / p99 ms | workflow effect p50 / p99 ms"
        " | drain s | events/s saturated, bank-sync / workflow | lost | doubled |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for p in phases:
        drains = list(p.drain.values())
        drain = "not caught up" if any(math.isnan(d) for d in drains) else f"{max(drains):.1f}"
        if p.capped:
            left = " / ".join(f"{p.backlog[n]:,}" for n in CONSUMERS)
            drain += f" (at {args.drain_cap:.0f} s: {left} left)"
        lost, doubled = lost_and_doubled(p)
        print(
            f"| {p.rate:,.0f}/s | {p.achieved:,.0f}/s | {ms(median(p.ack))} / {ms(pct(p.ack, 0.99))}"
            f" | {ms(median(p.effect[BANK]))} / {ms(pct(p.effect[BANK], 0.99))}"
            f" | {ms(median(p.effect[FLOW]))} / {ms(pct(p.effect[FLOW], 0.99))}"
            f" | {drain} | {saturated(p, BANK)} / {saturated(p, FLOW)} | {lost} | {doubled} |"
        )
    now = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nwhole run: {time.monotonic() - started:.0f} s; load average now {now}")


def log_problems(work: Path) -> None:
    """What PostgreSQL's and NATS's logs say went wrong during the run: errors, deadlocks, and the
    statements slower than ``log_min_duration_statement`` (2 s in the embedded server), by table."""
    for name in ("postgres.log", "nats.log"):
        path = work / name
        if not path.exists():
            continue
        lines = path.read_text(errors="replace").splitlines()
        bad = [line for line in lines if re.search(r"\b(ERROR|FATAL|PANIC|\[ERR\]|\[WRN\])", line)]
        deadlocks = sum("deadlock detected" in line for line in lines)
        slow: dict[str, list[float]] = {}
        for n, line in enumerate(lines):
            took = re.search(r"LOG:  duration: ([0-9.]+) ms", line)
            if took:
                text = " ".join(lines[n : n + 4])
                what = re.search(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|COMMIT)\b", text)
                table = re.search(r"\b(?:FROM|INTO|UPDATE) (\w+\.\w+)", text)
                key = f"{what[1] if what else '?'} {table[1] if table else ''}".strip()
                slow.setdefault(key, []).append(float(took[1]))
        print(f"{name}: {len(bad)} error/warning lines, {deadlocks} deadlocks")
        for line in bad[:10]:
            print(f"   {line[:200]}")
        for key, took in sorted(slow.items(), key=lambda kv: -len(kv[1])):
            print(f"   slower than 2 s: {len(took)} x {key} (longest {max(took) / 1000:.1f} s)")


async def setup(
    system: System, http: aiohttp.ClientSession, args: argparse.Namespace, rates: list[float], run: str
) -> Book:
    url = system.database_url()
    await read_model_complete(url, http)
    per_loan = math.ceil((sum(int(r * args.seconds) for r in rates) + WARM_UP) / args.loans)
    book = await pick_loans(http, args.loans, per_loan)
    await assign(http, book, run)
    return book


async def bench(system: System, args: argparse.Namespace, started: float, work: Path) -> None:
    rates = [float(r) for r in args.rates.split(",")]
    run = secrets.token_hex(3).upper()
    await system.loaded()
    url = system.database_url()
    print(
        f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores",
        file=sys.stderr,
    )
    connector = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(
        system.base, connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as http:
        await token(http, system.admin)
        book = await setup(system, http, args, rates, run)
        print(
            f"{len(book.loans)} loans of as many customers, {len(book.agents)} bench agent(s); set-up done at {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        phases = []
        # Warm-up, not reported: the first notification of a loan asks bank-sync about it (then cached
        # for 5 min), connection pools fill.
        await run_rate(system, http, book, url, WARM_UP / 10, args, run, seconds=10)
        for rate in rates:
            phase = await run_rate(system, http, book, url, rate, args, run)
            phases.append(phase)
            print(
                f"rate {rate:,.0f}/s done in {phase.seconds:.0f} s (capped: {phase.capped})", file=sys.stderr
            )
            if not phase.caught_up:
                print("the consumers did not catch up: the next rates are not run", file=sys.stderr)
                break
            await asyncio.sleep(2)
        floors = await floor(url, book, max(10_000, max(p.sent for p in phases)))
    report(phases, floors, args, started)
    raw = [{"rate": p.rate, "ack": p.ack, "effect": p.effect, "codes": p.codes} for p in phases]
    (work / "effects.json").write_text(json.dumps(raw))
    print(f"every latency (seconds): {work / 'effects.json'}")


def main() -> None:
    args = options()
    started = time.monotonic()

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # so that the with-block stops crm up as Ctrl-C would

    signal.signal(signal.SIGTERM, interrupted)
    work = Path(tempfile.mkdtemp(prefix="crm-bench-effects-"))
    with System(work, CRM_PAYMENT_WEBHOOK_SECRET=SECRET) as system:
        print(f"server at {system.base}, data in {work}", file=sys.stderr)
        asyncio.run(bench(system, args, started, work))
        log_problems(work)


if __name__ == "__main__":
    main()

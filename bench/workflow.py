# ruff: noqa: E501 - long report lines
"""Benchmark of the agent's day in Collection Workflow (issue 5), against a floor measured in the same run.

    .venv/bin/python bench/workflow.py --customers 1000000 --actions 10000000

1. Generates core extracts for ``--customers`` customers into a temporary data folder and starts the
   system as ``make run`` does (``crm up --demo``), which loads them through the nightly pipeline.
2. Waits until workflow's read model has every customer and loan (filled by the load's SyncEvents),
   then seeds what an agent's day reads straight into workflow's tables with SQL (set-up, not
   measured): 300 agents, every customer assigned to one of them, and ``--actions`` historical
   actions (a fifth of them promises) spread over the last 180 days.
3. 50 simulated agents, each with its own token, each in a loop: open its queue, open the action
   history of the first customer in it, record a call on that customer. p50 / p95 of each, over
   ``--seconds``, twice: with ``--think`` seconds between an agent's steps (a person reads the
   screen; a real agent records an action every few minutes), then back to back (the capacity).
4. With ``--pages``, the same through the web UI: the simulated agents sign in through the sign-in
   page and loop over My day, the first customer's 360 page, its actions timeline (as htmx loads
   it) and a customer search; p50 / p95 per page, with and without the pause.
5. With ``--announce`` (instead of 3-4): empties workflow's read model, runs ``crm sync-announce`` and
   times until the read model holds every customer and loan again (a workflow deployed late).
6. Floor, same run: the same number of concurrent clients doing one primary-key read of an action
   straight through asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import asyncpg

from crm.demo_data.generation import generate
from crm.launch import System
from crm.platform.auth import Role, TokenService
from crm.platform.settings import PlatformSettings

AGENTS = 300
CLIENTS = 50


SEED = """
INSERT INTO workflow.agent (id, employee_id, name, email, type, team, is_active, max_customers)
SELECT gen_random_uuid(), 'BENCH' || lpad(n::text, 4, '0'), 'Agent ' || n, 'agent' || n || '@bank.example',
       'AGENT', 'EARLY_STAGE_CALL', true, 1000000
FROM generate_series(1, {agents}) AS n;

CREATE TEMP TABLE bench_agent AS
SELECT id, row_number() OVER (ORDER BY employee_id) - 1 AS n FROM workflow.agent WHERE employee_id LIKE 'BENCH%';
CREATE TEMP TABLE bench_customer AS
SELECT cif, row_number() OVER (ORDER BY cif) - 1 AS n FROM bank_sync.customer;

INSERT INTO workflow.customer_agent (id, cif, assigned_call_agent_id, start_date, is_current, reason, created_by)
SELECT gen_random_uuid(), c.cif, a.id, now() - interval '200 days', true, 'bench', 'bench'
FROM bench_customer c JOIN bench_agent a ON a.n = c.n % {agents}
WHERE NOT EXISTS (  -- the demo agent's customers (crm up --demo) stay its own
    SELECT 1 FROM workflow.customer_agent x WHERE x.cif = c.cif AND x.is_current
);

INSERT INTO workflow.action_record (id, cif, agent_id, type, subtype, action_result, action_date,
    promise_amount, promise_date, promise_status, follow_up_date, created_by, updated_by)
SELECT gen_random_uuid(), c.cif, a.id, 'CALL', 'CALL_OUTBOUND',
       CASE WHEN s.i % 5 = 0 THEN 'PROMISE_TO_PAY' WHEN s.i % 5 = 1 THEN 'NO_ANSWER' ELSE 'CONTACTED' END,
       s.at,
       CASE WHEN s.i % 5 = 0 THEN 500000.00 END,
       CASE WHEN s.i % 5 = 0 THEN (s.at + interval '7 days')::date END,
       CASE WHEN s.i % 5 = 0 THEN (CASE WHEN s.at + interval '7 days' < now() THEN 'BROKEN' ELSE 'OPEN' END) END,
       (s.at + interval '3 days')::date, 'bench', 'bench'
FROM (
    SELECT i, now() - (random() * interval '180 days') AS at, (hashint8(i) & 2147483647) % {customers} AS cn
    FROM generate_series(1, {actions}) AS i
) s
JOIN bench_customer c ON c.n = s.cn
JOIN bench_agent a ON a.n = c.n % {agents};
ANALYZE workflow.action_record; ANALYZE workflow.customer_agent; ANALYZE workflow.loan_view;
ANALYZE workflow.customer_view; ANALYZE workflow.agent; ANALYZE workflow.customer_queue_fact;
"""


async def read_model_caught_up(url: str, within: float = 3600) -> float:
    """Seconds until workflow's read model (kept by the SyncEvents of the load) holds every customer and loan."""
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        while time.perf_counter() - started < within:
            behind = await conn.fetchval(
                "SELECT (SELECT count(*) FROM bank_sync.customer) - (SELECT count(*) FROM workflow.customer_view)"
                " + (SELECT count(*) FROM bank_sync.loan) - (SELECT count(*) FROM workflow.loan_view)"
            )
            if behind == 0:
                return time.perf_counter() - started
            await asyncio.sleep(1)
        raise RuntimeError(f"the read model is still {behind} records behind")
    finally:
        await conn.close()


def refill_from_announcement(url: str, work: Path) -> tuple[float, float]:
    """Empty workflow's read model, as if deployed after bank-sync held the data; seconds ``crm
    sync-announce`` took, then seconds until the read model held every customer and loan again."""
    asyncio.run(_execute(url, "TRUNCATE workflow.customer_view, workflow.loan_view"))
    started = time.perf_counter()
    env = {**os.environ, "DATABASE_URL": url, "CRM_DATA_DIR": str(work), "CRM_LOG_LEVEL": "WARNING"}
    subprocess.run([str(Path(sys.executable).parent / "crm"), "sync-announce"], env=env, check=True)
    announced = time.perf_counter() - started
    return announced, asyncio.run(read_model_caught_up(url))


async def _execute(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def seed(url: str, customers: int, actions: int, reuse: bool = False) -> tuple[list[str], float]:
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        loaded = await conn.fetchval("SELECT count(*) FROM bank_sync.customer")
        if not reuse:
            await conn.execute(SEED.format(agents=AGENTS, customers=loaded, actions=actions))
        # As autovacuum leaves it once a bulk change has settled (the seeding rewrote every facts
        # row): without it, the queue's index-only scans visit the heap for every row.
        await conn.execute("VACUUM (ANALYZE) workflow.customer_queue_fact")
        agents = [
            str(r["id"])
            for r in await conn.fetch("SELECT id FROM workflow.agent WHERE employee_id LIKE 'BENCH%'")
        ]
        return agents, time.perf_counter() - started
    finally:
        await conn.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[max(0, int(len(ordered) * share) - 1)] * 1000


async def agents_day(
    base: str, tokens: TokenService, agents: list[str], seconds: float, clients: int, think: float = 0.0
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"queue": [], "history": [], "record": []}
    codes: dict[str, dict[int, int]] = {k: {} for k in timings}
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(
        base, connector=aiohttp.TCPConnector(limit=clients), timeout=aiohttp.ClientTimeout(total=60)
    ) as http:

        async def timed(kind: str, method: str, path: str, **kwargs) -> dict | None:
            started = time.perf_counter()
            async with http.request(method, path, **kwargs) as r:
                body = await r.json(content_type=None)
                timings[kind].append(time.perf_counter() - started)
                codes[kind][r.status] = codes[kind].get(r.status, 0) + 1
                return body if r.status < 300 else None

        async def agent(agent_id: str) -> None:
            token, _ = tokens.issue(f"bench-{agent_id}", [Role.AGENT], agent_id=agent_id)
            headers = {"Authorization": f"Bearer {token}"}
            await asyncio.sleep(random.uniform(0, 3 * think))  # agents do not all start in the same second
            while time.perf_counter() < deadline:
                queue = await timed(
                    "queue", "GET", f"/api/agents/{agent_id}/queue?pageSize=20", headers=headers
                )
                if not queue or not queue["items"]:
                    await asyncio.sleep(think)
                    continue
                cif = queue["items"][0]["cif"]
                await asyncio.sleep(think)
                await timed("history", "GET", f"/api/actions/customer/{cif}?pageSize=20", headers=headers)
                await asyncio.sleep(think)
                await timed(
                    "record",
                    "POST",
                    "/api/actions",
                    headers=headers,
                    json={
                        "cif": cif,
                        "agentId": agent_id,
                        "type": "CALL",
                        "subtype": "CALL_OUTBOUND",
                        "actionResult": "CONTACTED",
                        "notes": "bench call",
                    },
                )
                await asyncio.sleep(think)

        await asyncio.gather(*(agent(a) for a in agents[:clients]))
    for kind, seen in codes.items():
        print(f"   {kind}: answers {seen}", file=sys.stderr)
    return timings


CUSTOMER_LINK = re.compile(r'href="/customers/([^"/?]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def page_users(base: str, admin: dict[str, str], agents: list[str]) -> list[tuple[str, str]]:
    """A login (username, password) for each simulated agent, created as an ADMIN would."""
    logins = []
    async with aiohttp.ClientSession(base) as http:
        for agent_id in agents:
            username, password = f"bench.{agent_id[:8]}.{secrets.token_hex(3)}", secrets.token_urlsafe(16)
            body = {"username": username, "password": password, "roles": ["AGENT"], "agentId": agent_id}
            async with http.post("/api/auth/users", json=body, headers=admin) as r:
                assert r.status == 201, await r.text()
            logins.append((username, password))
    return logins


async def agents_screens(
    base: str, logins: list[tuple[str, str]], seconds: float, think: float = 0.0
) -> dict[str, list[float]]:
    """Each simulated agent signs in through the sign-in page, then in a loop opens My day, the first
    customer's 360 page, its actions timeline tab (as htmx loads it) and a customer search."""
    timings: dict[str, list[float]] = {"my day": [], "360": [], "timeline": [], "search": []}
    codes: dict[str, dict[int, int]] = {k: {} for k in timings}
    deadline = time.perf_counter() + seconds

    async def agent(username: str, password: str) -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(
            base, cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=60)
        ) as http:

            async def timed(kind: str, path: str, **kwargs) -> str:
                started = time.perf_counter()
                async with http.get(path, **kwargs) as r:
                    text = await r.text()
                    timings[kind].append(time.perf_counter() - started)
                    codes[kind][r.status] = codes[kind].get(r.status, 0) + 1
                    return text

            async with http.get("/login") as r:
                csrf = CSRF_FIELD.search(await r.text())
            form = {"username": username, "password": password, "csrf_token": csrf.group(1) if csrf else ""}
            async with http.post("/login", data=form, allow_redirects=False) as r:
                assert r.status == 303, await r.text()
            await asyncio.sleep(random.uniform(0, 3 * think))
            while time.perf_counter() < deadline:
                day = await timed("my day", "/my-day")
                found = CUSTOMER_LINK.search(day)
                if not found:
                    await asyncio.sleep(think or 1)
                    continue
                cif = found.group(1)
                await asyncio.sleep(think)
                await timed("360", f"/customers/{cif}")
                await timed("timeline", f"/customers/{cif}/tabs/actions", headers={"HX-Request": "true"})
                await asyncio.sleep(think)
                await timed("search", "/customers", params={"q": cif})
                await asyncio.sleep(think)

    await asyncio.gather(*(agent(u, p) for u, p in logins))
    for kind, seen in codes.items():
        print(f"   {kind}: answers {seen}", file=sys.stderr)
    return timings


async def floor(url: str, seconds: float, clients: int) -> list[float]:
    """One primary-key read of an action per request, one connection per client, straight through asyncpg."""
    conns = [await asyncpg.connect(url) for _ in range(clients)]
    ids = [r["id"] for r in await conns[0].fetch("SELECT id FROM workflow.action_record LIMIT 10000")]
    timings: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(conn: asyncpg.Connection, k: int) -> None:
        i = k
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await conn.fetchrow("SELECT * FROM workflow.action_record WHERE id = $1", ids[i % len(ids)])
            timings.append(time.perf_counter() - started)
            i += clients

    await asyncio.gather(*(client(c, k) for k, c in enumerate(conns)))
    for c in conns:
        await c.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--actions", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent simulated agents")
    parser.add_argument("--think", type=float, default=1.0, help="seconds an agent spends between two steps")
    parser.add_argument("--pages", action="store_true", help="also the agent's screens of the web UI")
    parser.add_argument(
        "--reuse",
        type=Path,
        help="the data folder of an earlier run (loaded and seeded): start it again and only measure",
    )
    parser.add_argument("--pages-only", action="store_true", help="measure the web pages, not the API")
    parser.add_argument(
        "--announce",
        action="store_true",
        help="instead of the agents' day: empty workflow's read model and time filling it again from crm sync-announce",
    )
    parser.add_argument("--workers", type=int, help="crm up --workers N (default: as make run, one per core)")
    args = parser.parse_args()

    work = args.reuse or Path(tempfile.mkdtemp(prefix="crm-bench-wf-"))
    if not args.reuse:
        started = time.perf_counter()
        today = datetime.now(PlatformSettings().tz).date()  # the business date, as the demo load expects
        generate(work / "inbox", args.customers, today, seed=7, workers=os.cpu_count() or 1)
        print(
            f"generated {args.customers:,} customers in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    jwt_secret = secrets.token_urlsafe(32)
    settings = {
        "CRM_JWT_SECRET": jwt_secret,
        # The simulated agents call around the clock and many times a day: not what is measured.
        "CRM_CONTACT_HOURS_START": "00:00:00",
        "CRM_CONTACT_HOURS_END": "23:59:59",
        "CRM_MAX_CALL_ATTEMPTS_PER_DAY": "1000000",
    }
    with System(work, workers=args.workers, **settings) as system:
        base = system.base
        started = time.perf_counter()
        admin = asyncio.run(system.loaded())
        print(f"loaded through the pipeline in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        url = system.database_url()
        if args.announce:
            announced, refilled = refill_from_announcement(url, work)
            print(
                f"crm sync-announce took {announced:.0f} s; the read model was full again {refilled:.0f} s later"
            )
            return
        caught_up = asyncio.run(read_model_caught_up(url))
        print(f"workflow's read model caught up {caught_up:.0f} s after the load", file=sys.stderr)
        agents, seeded = asyncio.run(seed(url, args.customers, args.actions, reuse=bool(args.reuse)))
        print(
            f"seeded {AGENTS} agents, assignments and {args.actions:,} actions in {seeded:.0f} s",
            file=sys.stderr,
        )
        tokens = TokenService(PlatformSettings(jwt_secret=jwt_secret, data_dir=work))
        phases = {}
        if not args.pages_only:
            asyncio.run(agents_day(base, tokens, agents, 10, args.clients))  # warm-up, not reported
            phases[f"{args.think:g} s between an agent's steps"] = asyncio.run(
                agents_day(base, tokens, agents, args.seconds, args.clients, args.think)
            )
            phases["back to back (no pause: the capacity)"] = asyncio.run(
                agents_day(base, tokens, agents, args.seconds, args.clients)
            )
        if args.pages or args.pages_only:
            logins = asyncio.run(page_users(base, admin, agents[: args.clients]))
            asyncio.run(agents_screens(base, logins, 10))  # warm-up, not reported
            phases[f"web pages, {args.think:g} s between an agent's steps"] = asyncio.run(
                agents_screens(base, logins, args.seconds, args.think)
            )
            phases["web pages, back to back"] = asyncio.run(agents_screens(base, logins, args.seconds))
        floor_timings = asyncio.run(floor(url, min(args.seconds, 20), args.clients))
        f50, f95 = percentile(floor_timings, 0.5), percentile(floor_timings, 0.95)
        print(
            f"{args.customers:,} customers, {AGENTS} agents, {args.actions:,} actions; {args.clients} concurrent agents, {args.seconds:.0f} s a phase; crm up with {args.workers or PlatformSettings().workers} worker processes"
        )
        for phase, timings in phases.items():
            print(phase)
            for kind, values in timings.items():
                p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
                print(
                    f"  {kind:<9} {len(values) / args.seconds:7.1f}/s  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                    f"p95 / floor p95 = {p95 / f95:6.1f}  (mean {statistics.mean(values or [0]) * 1000:.1f} ms)"
                )
        print(
            f"floor: primary-key read of an action through asyncpg, {args.clients} connections: p50 {f50:.2f} ms  p95 {f95:.2f} ms"
        )


if __name__ == "__main__":
    main()

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
4. With ``--pages`` (``--pages-only``: without 3), the web UI with two worker processes, page by page
   (each page is a URL: ``agent_pages()`` and ``SUPERVISOR_PAGES``, more with ``--page NAME=/path``
   and ``--supervisor-page``): the first 50 bench agents become one team; (a) one agent alone, then
   one supervisor alone, open every page in turn ``--rounds`` times: p95 per page (target < 100 ms,
   the 50-agent team dashboard < 300 ms); (b) ``--page-agents`` agents (and one supervisor) each open
   their next page every second for ``--seconds``: p95 per page (target < 200 ms). Floor: ``GET
   /health/live`` through the same server, and a primary-key read through asyncpg.
   Develop at a small scale (``--customers 20000 --actions 200000``); 1 M is for a quiet machine.
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


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
HX = {"HX-Request": "true"}
TEAM = "HIGH_VALUE"
TEAM_SIZE = 50
"""Pages mode: this many bench agents form one team, whose dashboard is measured."""


def agent_pages() -> dict[str, tuple[str, dict[str, str]]]:
    """An agent's screens, by URL: ``{cif}`` and ``{name}`` are one of the agent's own customers."""
    from crm.web.routes.customers import TAB_NAMES

    pages = {
        "my day": ("/my-day", {}),
        "search by cif": ("/customers?q={cif}", {}),
        "search by name": ("/customers?q={name}", {}),
        "customer 360": ("/customers/{cif}", {}),
        **{f"360 tab {tab}": (f"/customers/{{cif}}/tabs/{tab}", HX) for tab in TAB_NAMES},
        "record action form": ("/customers/{cif}/actions/new", {}),
        "case update form": ("/customers/{cif}/cases/new", {}),
    }
    return pages


SUPERVISOR_PAGES: dict[str, tuple[str, dict[str, str]]] = {
    "assignments": ("/assignments", {}),
    "assignments history": ("/assignments/history", {}),
    f"team dashboard ({TEAM_SIZE} agents)": (f"/team?team={TEAM}", {}),
    f"team trends ({TEAM_SIZE} agents)": (f"/team/trends?team={TEAM}", HX),
}


def extra_pages(values: list[str]) -> dict[str, tuple[str, dict[str, str]]]:
    """``NAME=URL`` options: pages added by URL (``{cif}`` / ``{name}`` filled in), htmx when NAME ends in ``(htmx)``."""
    pages = {}
    for value in values:
        name, _, url = value.partition("=")
        if not url.startswith("/"):
            raise SystemExit(f"--page/--supervisor-page takes NAME=/path, not {value!r}")
        pages[name] = (url, HX if name.endswith("(htmx)") else {})
    return pages


async def page_team(url: str, agents: list[str]) -> None:
    """The first ``TEAM_SIZE`` bench agents become one team (the others stay where the seeding put them)."""
    ids = sorted(agents)[:TEAM_SIZE]
    await _execute_args(url, "UPDATE workflow.agent SET team = $1 WHERE id = ANY($2::uuid[])", TEAM, ids)


async def _execute_args(url: str, statement: str, *args: object) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


async def own_customers(url: str, agents: list[str]) -> dict[str, dict[str, str]]:
    """One current customer of each agent (its cif and name), to fill in the pages' URLs."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT DISTINCT ON (ca.assigned_call_agent_id) ca.assigned_call_agent_id::text AS agent, ca.cif,"
            " coalesce(cv.name, ca.cif) AS name FROM workflow.customer_agent ca"
            " LEFT JOIN workflow.customer_view cv ON cv.cif = ca.cif"
            " WHERE ca.is_current AND ca.assigned_call_agent_id = ANY($1::uuid[])"
            " ORDER BY ca.assigned_call_agent_id, ca.cif",
            agents,
        )
        return {r["agent"]: {"cif": r["cif"], "name": r["name"]} for r in rows}
    finally:
        await conn.close()


async def page_users(
    base: str, admin: dict[str, str], agents: list[str], role: str = "AGENT"
) -> list[tuple[str, str, str]]:
    """A login (username, password, agent id) for each simulated agent (or a supervisor per id), created
    as an ADMIN would."""
    logins = []
    async with aiohttp.ClientSession(base) as http:
        for agent_id in agents:
            username, password = f"bench.{agent_id[:8]}.{secrets.token_hex(3)}", secrets.token_urlsafe(16)
            body: dict[str, object] = {"username": username, "password": password, "roles": [role]}
            if role == "AGENT":
                body["agentId"] = agent_id
            async with http.post("/api/auth/users", json=body, headers=admin) as r:
                assert r.status == 201, await r.text()
            logins.append((username, password, agent_id))
    return logins


class Timings:
    """Seconds per page, and the status codes seen (a page that fails is reported, not hidden)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self.codes: dict[str, dict[int, int]] = {}

    def add(self, page: str, seconds: float, status: int) -> None:
        self.seconds.setdefault(page, []).append(seconds)
        seen = self.codes.setdefault(page, {})
        seen[status] = seen.get(status, 0) + 1

    def failures(self) -> dict[str, dict[int, int]]:
        return {p: c for p, c in self.codes.items() if set(c) != {200}}


async def signed_in(base: str, username: str, password: str) -> aiohttp.ClientSession:
    """A browser-like session signed in through the sign-in page (its cookie kept)."""
    http = aiohttp.ClientSession(
        base, cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=60)
    )
    async with http.get("/login") as r:
        csrf = CSRF_FIELD.search(await r.text())
    form = {"username": username, "password": password, "csrf_token": csrf.group(1) if csrf else ""}
    async with http.post("/login", data=form, allow_redirects=False) as r:
        assert r.status == 303, await r.text()
    return http


async def open_page(
    http: aiohttp.ClientSession, timings: Timings, page: str, url: str, headers: dict[str, str]
) -> None:
    started = time.perf_counter()
    async with http.get(url, headers=headers, allow_redirects=False) as r:
        await r.read()
        timings.add(page, time.perf_counter() - started, r.status)


def filled(
    pages: dict[str, tuple[str, dict[str, str]]], customer: dict[str, str]
) -> list[tuple[str, str, dict[str, str]]]:
    return [(page, url.format(**customer), headers) for page, (url, headers) in pages.items()]


async def alone(
    base: str, login: tuple[str, str, str], pages: list[tuple[str, str, dict[str, str]]], rounds: int
) -> Timings:
    """(a) One user alone: every page in turn, back to back, ``rounds`` times (the first round warms up)."""
    timings, warm = Timings(), Timings()
    http = await signed_in(base, login[0], login[1])
    try:
        for page, url, headers in pages:
            await open_page(http, warm, page, url, headers)
        for _ in range(rounds):
            for page, url, headers in pages:
                await open_page(http, timings, page, url, headers)
    finally:
        await http.close()
    return timings


async def every_second(
    base: str,
    users: list[tuple[tuple[str, str, str], list[tuple[str, str, dict[str, str]]]]],
    seconds: float,
    period: float = 1.0,
) -> Timings:
    """(b) Each user opens its next page every ``period`` seconds (on a fixed schedule, whatever the
    answer time), cycling through its pages, for ``seconds``."""
    timings = Timings()
    sessions = [await signed_in(base, login[0], login[1]) for login, _ in users]
    deadline = time.perf_counter() + seconds

    async def user(http: aiohttp.ClientSession, pages: list[tuple[str, str, dict[str, str]]], k: int) -> None:
        await asyncio.sleep(period * k / len(users))  # spread over the second, not all at once
        due, i = time.perf_counter(), 0
        pending: set[asyncio.Task[None]] = set()
        while due < deadline:
            page, url, headers = pages[i % len(pages)]
            task = asyncio.create_task(open_page(http, timings, page, url, headers))
            pending.add(task)
            task.add_done_callback(pending.discard)
            i += 1
            due += period
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await asyncio.gather(*pending)

    try:
        await asyncio.gather(
            *(user(http, pages, k) for k, (http, (_, pages)) in enumerate(zip(sessions, users, strict=True)))
        )
    finally:
        for http in sessions:
            await http.close()
    return timings


async def http_floor(base: str, seconds: float) -> list[float]:
    """The floor of a page: ``GET /health/live`` through the same server, one client, back to back."""
    timings: list[float] = []
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(base) as http:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with http.get("/health/live") as r:
                await r.read()
            timings.append(time.perf_counter() - started)
    return timings


def report_pages(
    title: str, timings: Timings, order: list[str], target_ms: dict[str, float], floor_p95: float
) -> None:
    print(title)
    for page in sorted(timings.seconds, key=lambda p: order.index(p) if p in order else len(order)):
        values = timings.seconds[page]
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        target = target_ms.get(page, target_ms["*"])
        verdict = "ok" if p95 < target else "OVER"
        print(
            f"  {page:<34} n {len(values):5d}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  target < {target:.0f} ms {verdict:<4}"
            f"  p95 / floor p95 = {p95 / floor_p95:6.1f}"
        )
    for page, seen in timings.failures().items():
        print(f"  ! {page}: answers {seen}")


def run_pages(
    args: argparse.Namespace, base: str, admin: dict[str, str], url: str, agents: list[str]
) -> None:
    """The web UI's pages, by URL: (a) one agent alone and one supervisor alone, (b) ``--page-agents``
    agents each opening a page every second (with one supervisor doing the same), the team dashboard
    of a ``TEAM_SIZE``-agent team in both; against an HTTP floor measured in the same run."""
    asyncio.run(page_team(url, agents))
    clients = agents[: args.page_agents]
    customers = asyncio.run(own_customers(url, clients))
    clients = [a for a in clients if a in customers]
    logins = asyncio.run(page_users(base, admin, clients))
    (supervisor,) = asyncio.run(page_users(base, admin, [clients[0]], role="SUPERVISOR"))
    mine = {**agent_pages(), **extra_pages(args.page)}
    theirs = {**SUPERVISOR_PAGES, **extra_pages(args.supervisor_page)}
    first = customers[clients[0]]
    agent_alone = asyncio.run(alone(base, logins[0], filled(mine, first), args.rounds))
    supervisor_alone = asyncio.run(alone(base, supervisor, filled(theirs, first), args.rounds))
    users = [(login, filled(mine, customers[login[2]])) for login in logins]
    users.append((supervisor, filled(theirs, first)))
    loaded = asyncio.run(every_second(base, users, args.seconds))
    floor_p95 = percentile(asyncio.run(http_floor(base, 10)), 0.95)
    db_floor = asyncio.run(floor(url, 10, 1))
    print(
        f"web pages: {args.customers:,} customers, {AGENTS} agents, {args.actions:,} actions, team {TEAM} of {TEAM_SIZE} agents;"
        f" crm up with {args.workers or 2} worker processes"
    )
    team_page = f"team dashboard ({TEAM_SIZE} agents)"
    report_pages(
        f"(a) one agent alone, then one supervisor alone, {args.rounds} rounds of every page",
        merge(agent_alone, supervisor_alone),
        [*mine, *theirs],
        {"*": 100, team_page: 300},
        floor_p95,
    )
    report_pages(
        f"(b) {len(logins)} agents each opening a page every second (and one supervisor), {args.seconds:.0f} s",
        loaded,
        [*mine, *theirs],
        {"*": 200, team_page: 300},
        floor_p95,
    )
    print(
        f"floor: GET /health/live through the same server, one client: p95 {floor_p95:.2f} ms;"
        f" a primary-key read through asyncpg: p95 {percentile(db_floor, 0.95):.2f} ms"
    )


def merge(*parts: Timings) -> Timings:
    merged = Timings()
    for part in parts:
        merged.seconds.update(part.seconds)
        merged.codes.update(part.codes)
    return merged


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
    parser.add_argument(
        "--pages", action="store_true", help="also the web UI's pages, by URL (agents' and supervisors')"
    )
    parser.add_argument(
        "--page-agents", type=int, default=25, help="--pages: agents opening a page every second"
    )
    parser.add_argument(
        "--rounds", type=int, default=20, help="--pages: rounds of every page for one user alone"
    )
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        help="--pages: one more agent page, NAME=/path ({cif}, {name}: the agent's customer); repeatable",
    )
    parser.add_argument(
        "--supervisor-page", action="append", default=[], help="--pages: one more supervisor page, NAME=/path"
    )
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
    parser.add_argument(
        "--workers", type=int, help="crm up --workers N (default: as make run, one per core; --pages: 2)"
    )
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
    if (args.pages or args.pages_only) and not args.workers:
        args.workers = 2  # the web UI with two processes, as the lead measures it
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
            run_pages(args, base, admin, url, agents)
        if not phases:
            return
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

# ruff: noqa: E501 - long report lines
"""Benchmark of the customer search box on a large bank (issue 18): broad and narrow name searches,
phone and CIF searches, through bank-sync's API, against a floor measured in the same run.

    .venv/bin/python bench/search.py --customers 1000000

Set-up (not measured): an embedded PostgreSQL in a temporary folder (or ``DATABASE_URL``), a database
with bank-sync's migrations, ``--customers`` customers written by SQL with Vietnamese names drawn from
the demo data's weighted family, middle and given names (``crm.demo_data.vocab``: "Nguyễn" is about
one family name in three), one phone each; ``ANALYZE``. Then bank-sync's app in this process (its
lifespan, an embedded NATS), called through ``httpx.ASGITransport`` with an AGENT's token: the time of
each ``GET /api/customers?q=...`` from the request until its whole answer is read, ``--repeat`` times per
query after one warm-up, p50 / p95 / max.

Floor, same run, same database: the least any search for that name must do, through asyncpg: find up
to 10,001 customers whose name contains it (the trigram index's bitmap, then the rows), i.e.
``SELECT count(*) FROM (SELECT 1 FROM customer WHERE search_text(name) LIKE '%q%' LIMIT 10001) x``.
And the statement the search ran before this change, for comparison: every match ordered by
similarity, plus its exact count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from crm.demo_data import vocab
from crm.platform import migrations
from crm.platform.auth import Role, TokenService
from crm.platform.embedded import EmbeddedNats, EmbeddedPostgres
from crm.platform.settings import PlatformSettings
from crm.services import SERVICES

QUERIES = [
    ("nguyen", "one family name: a third of the bank"),
    ("nguyen van", "family and middle name"),
    ("thi lan", "middle and given name"),
    ("nguyen van an", "a full, common name"),
    ("hoang thi thu", "a full name"),
    ("0900500000", "a phone number, typed locally"),
    ("C000500000", "a CIF"),
]
BEFORE = """SELECT cif FROM bank_sync.customer WHERE bank_sync.search_text(name) LIKE '%' || $1 || '%'
            ORDER BY similarity(bank_sync.search_text(name), $1) DESC, cif LIMIT 50"""
BEFORE_COUNT = (
    "SELECT count(*) FROM bank_sync.customer WHERE bank_sync.search_text(name) LIKE '%' || $1 || '%'"
)
FLOOR = """SELECT count(*) FROM (SELECT 1 FROM bank_sync.customer
           WHERE bank_sync.search_text(name) LIKE '%' || $1 || '%' LIMIT 10001) x"""


def names(weighted: tuple[str, ...]) -> list[str]:
    return list(weighted)


async def seed(url: str, customers: int) -> float:
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """INSERT INTO bank_sync.customer (id, cif, type, name, segment, status, source_system, created_by,
                   updated_by, is_editable, last_synced_at, created_at, updated_at)
               SELECT gen_random_uuid(), 'C' || lpad(g::text, 9, '0'), 'INDIVIDUAL',
                      f[1 + (hashint4(g) & 2147483647) % cardinality(f)] || ' ' ||
                      CASE WHEN g % 2 = 0 THEN mm[1 + (hashint4(g + 1) & 2147483647) % cardinality(mm)] || ' ' ||
                                               gm[1 + (hashint4(g + 2) & 2147483647) % cardinality(gm)]
                           ELSE mf[1 + (hashint4(g + 1) & 2147483647) % cardinality(mf)] || ' ' ||
                                gf[1 + (hashint4(g + 2) & 2147483647) % cardinality(gf)] END,
                      'RETAIL', 'ACTIVE', 'T24', 'SYSTEM', 'SYSTEM', false, now(), now(), now()
               FROM generate_series(1, $1) g, (SELECT $2::text[] f, $3::text[] mm, $4::text[] gm,
                                                      $5::text[] mf, $6::text[] gf) v""",
            customers,
            names(vocab.FAMILY_NAMES),
            names(vocab.MIDDLE_MALE),
            list(vocab.GIVEN_MALE),
            names(vocab.MIDDLE_FEMALE),
            list(vocab.GIVEN_FEMALE),
        )
        await conn.execute(
            """INSERT INTO bank_sync.phone (id, cif, type, number, is_primary, is_verified, source_system,
                   created_by, updated_by, is_editable, last_synced_at, created_at, updated_at)
               SELECT gen_random_uuid(), cif, 'MOBILE', '+8490' || right(cif, 7), true, false, 'T24',
                      'SYSTEM', 'SYSTEM', false, now(), now(), now()
               FROM bank_sync.customer"""
        )
        await conn.execute("VACUUM ANALYZE bank_sync.customer")
        await conn.execute("VACUUM ANALYZE bank_sync.phone")
    finally:
        await conn.close()
    return time.perf_counter() - started


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"


async def timed_sql(url: str, statements: list[str], q: str, repeat: int) -> list[float]:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.fetch(statement, q)  # warm-up
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            for statement in statements:
                await conn.fetch(statement, q)
            samples.append(time.perf_counter() - started)
        return samples
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crm-bench-search-"))
    pg = nats = None
    url = os.environ.get("DATABASE_URL")
    if not url:
        pg = EmbeddedPostgres(work / "data")
        url = pg.start()
    nats = EmbeddedNats(work)
    nats.start()
    try:
        admin = await asyncpg.connect(url)
        database = f"bench_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{database}"')
        await admin.close()
        url = url.rsplit("/", 1)[0] + f"/{database}"
        await asyncio.to_thread(migrations.upgrade, url, "crm.bank_sync", "bank_sync")
        seconds = await seed(url, args.customers)
        print(f"{args.customers:,} customers (and a phone each) written and analyzed in {seconds:.1f} s")

        settings = PlatformSettings(
            data_dir=work, database_url=url, nats_url=nats.url(), jwt_secret="bench-" + uuid.uuid4().hex
        )
        token, _ = TokenService(settings).issue("bench-agent", [Role.AGENT])
        app = SERVICES["bank-sync"].create_app(settings)
        headers = {"Authorization": f"Bearer {token}"}
        print(
            f"\n{'query':16s} {'matches':>9s}  API (page of 50, total)                       floor (find up to 10,001)                  before (rank every match + exact count)"
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
        ):
            for q, what in QUERIES:
                answer = (await client.get("/api/customers", params={"q": q}, headers=headers)).json()
                api = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    r = await client.get("/api/customers", params={"q": q}, headers=headers)
                    r.raise_for_status()
                    api.append(time.perf_counter() - started)
                matches = f"{answer['total']:,}{'' if answer.get('totalExact', True) else '+'}"
                name_search = not q[0].isdigit() and not q.startswith("C0")
                floor = summary(await timed_sql(url, [FLOOR], q, args.repeat)) if name_search else "-"
                before = (
                    summary(await timed_sql(url, [BEFORE, BEFORE_COUNT], q, max(3, args.repeat // 4)))
                    if name_search
                    else "-"
                )
                print(f"{q:16s} {matches:>9s}  {summary(api)}  {floor:42s} {before}   ({what})")
    finally:
        nats.stop()
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    asyncio.run(main())

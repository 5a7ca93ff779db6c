# ruff: noqa: E501 - long report lines
"""Benchmark of the nightly bank sync (issue 3), against floors measured in the same run.

    .venv/bin/python bench/sync.py --customers 1000000

(a) first full load of a generated extract through the real pipeline (files -> validated rows);
(b) re-sync of the next day's snapshot with 5% of rows changed;
(c) floor: the same CSV files loaded by COPY ... FROM into empty tables with the same columns and only
    a primary key (server-side parsing, no Python object per row);
(d) the naive loop: one INSERT ... ON CONFLICT per row, on 20,000 rows, extrapolated.
Prints rows/s of each, the ratios (a)/(c), (b)/(c), (a)/(d), and peak memory of this process and of
the PostgreSQL server. Uses an embedded PostgreSQL in a temporary folder unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import psutil

from crm.bank_sync.models import platform_tables
from crm.bank_sync.sync.entities import LOAD_ORDER
from crm.bank_sync.sync.models import SyncRun
from crm.bank_sync.sync.pipeline import CASTS
from crm.bank_sync.sync.runner import SyncRunner, connector_for
from crm.demo_data.generation import generate
from crm.platform import migrations
from crm.platform.db import Database
from crm.platform.embedded import EmbeddedPostgres
from crm.platform.outbox import Outbox
from crm.platform.settings import PlatformSettings

DAY = date(2026, 11, 28)
TYPES = {**CASTS, "text": "text", "enum": "text", "bool": "boolean"}


class ServerMemory:
    """Samples the PostgreSQL server's total resident memory (all its processes) in a thread."""

    def __init__(self, url: str) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._pids: list[int] = []
        self.url = url

    async def find(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            backend = await conn.fetchval("SELECT pg_backend_pid()")
            try:
                self._root = psutil.Process(backend).parent()  # the postmaster, while this backend lives
            except psutil.Error:
                self._root = None
        finally:
            await conn.close()

    def run(self) -> None:
        while not self._stop.wait(0.2):
            if self._root is None:
                return
            try:
                procs = [self._root, *self._root.children(recursive=True)]
                # Resident memory minus what is shared (shared_buffers is counted once, not per process).
                info = [p.memory_full_info() for p in procs]
                rss = sum(i.uss for i in info) + max((i.shared for i in info), default=0)
            except psutil.Error:
                continue
            self.peak = max(self.peak, rss)

    def start(self) -> None:
        threading.Thread(target=self.run, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()


async def pipeline_run(url: str, inbox: Path, source: str, day: date) -> dict[str, dict]:
    db = Database(url, schema="bank_sync")
    try:
        async with db.transaction() as session:
            run = SyncRun(
                source_system=source, state="RUNNING", counts={}, requested_by="bench", business_date=day
            )
            session.add(run)
        done = await SyncRunner(db, Outbox(platform_tables.outbox), tz=PlatformSettings().tz).execute(
            run.id, connector_for(source, inbox_dir=inbox)
        )
        assert done.state == "SUCCEEDED", done.error
        return done.counts
    finally:
        await db.dispose()


async def floor_copy(url: str, inbox: Path, day: date) -> tuple[int, float]:
    """COPY each file's text into an empty table of the same columns with only a primary key."""
    conn = await asyncpg.connect(url)
    rows = 0
    elapsed = 0.0
    try:
        await conn.execute("DROP SCHEMA IF EXISTS bench_floor CASCADE; CREATE SCHEMA bench_floor")
        for source in ("T24", "W4"):
            folder = inbox / source / day.isoformat()
            for spec in LOAD_ORDER:
                path = folder / spec.file_name
                if not path.exists():
                    continue
                with path.open(newline="", encoding="utf-8-sig") as handle:
                    header = next(csv.reader(handle))
                known = spec.by_name()
                columns = [f'"{h}" {TYPES[known[h].kind] if h in known else "text"}' for h in header]
                key = ", ".join(f'"{f.name}"' for f in spec.fields if f.column in spec.key)
                table = f"{spec.name}_{source.lower()}"
                await conn.execute(
                    f"CREATE TABLE bench_floor.{table} ({', '.join(columns)}, PRIMARY KEY ({key}))"
                )
                started = time.perf_counter()
                status = await conn.copy_to_table(
                    table, schema_name="bench_floor", source=path, format="csv", header=True
                )
                elapsed += time.perf_counter() - started
                rows += int(status.split()[-1])
    finally:
        await conn.close()
    return rows, elapsed


async def naive_loop(url: str, inbox: Path, day: date, limit: int = 20_000) -> float:
    """The seed's loop: one INSERT ... ON CONFLICT DO UPDATE per customer row."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor.naive (cif text PRIMARY KEY, type text, name text, "
            "segment text, status text, national_id text)"
        )
        with (inbox / "T24" / day.isoformat() / "customers.csv").open(
            newline="", encoding="utf-8-sig"
        ) as handle:
            reader = csv.DictReader(handle)
            batch = [row for _, row in zip(range(limit), reader, strict=False)]
        started = time.perf_counter()
        for row in batch:
            await conn.execute(
                "INSERT INTO bench_floor.naive VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cif) DO UPDATE SET "
                "type = EXCLUDED.type, name = EXCLUDED.name, segment = EXCLUDED.segment, status = EXCLUDED.status, "
                "national_id = EXCLUDED.national_id",
                row["cif"],
                row["type"],
                row["name"],
                row["segment"],
                row["status"],
                row.get("nationalId"),
            )
        return len(batch) / (time.perf_counter() - started)
    finally:
        await conn.close()


async def timed_runs(url: str, inbox: Path, day: date, into: dict[str, dict]) -> float:
    """Both sources' runs for ``day``, one after the other; returns the wall-clock seconds."""
    started = time.perf_counter()
    for source in ("T24", "W4"):
        counts = await pipeline_run(url, inbox, source, day)
        into.update({f"{source}:{k}": v for k, v in counts.items() if v["state"] == "SUCCEEDED"})
    return time.perf_counter() - started


def total(counts: dict[str, dict]) -> int:
    return sum(c["read"] for c in counts.values())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="crm-bench-"))
    server = None
    url = os.environ.get("DATABASE_URL")
    if not url:
        server = EmbeddedPostgres(work / "data")
        url = server.start()
    try:
        bench_db = f"bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(url)
        await admin.execute(f'CREATE DATABASE "{bench_db}"')
        await admin.close()
        url = url.rsplit("/", 1)[0] + f"/{bench_db}"
        await asyncio.to_thread(migrations.upgrade, url, "crm.bank_sync", "bank_sync")

        inbox = work / "inbox"
        started = time.perf_counter()
        marker = inbox / f"generated-{args.customers}"
        if not marker.exists():  # deterministic (seed 42): a --workdir of an earlier run is reused
            generate(inbox, args.customers, DAY - timedelta(days=1), seed=42)
            generate(inbox, args.customers, DAY, seed=42, changed=0.05)
            marker.touch()
        print(
            f"two snapshots of {args.customers:,} customers ready in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )

        # The floor is measured before and after the pipeline (the server's state differs: cache, WAL,
        # checkpoints) and the faster of the two is the one compared against.
        floor_before = await floor_copy(url, inbox, DAY - timedelta(days=1))
        memory = ServerMemory(url)
        await memory.find()
        memory.start()
        first: dict[str, dict] = {}
        first_seconds = await timed_runs(url, inbox, DAY - timedelta(days=1), first)
        second: dict[str, dict] = {}
        second_seconds = await timed_runs(url, inbox, DAY, second)
        memory.stop()
        floor_after = await floor_copy(url, inbox, DAY - timedelta(days=1))
        floor_rows, floor_seconds = min(floor_before, floor_after, key=lambda f: f[1])
        naive = await naive_loop(url, inbox, DAY - timedelta(days=1))

        a = total(first) / first_seconds
        b = total(second) / second_seconds
        c = floor_rows / floor_seconds
        changed = sum(v["updated"] + v["inserted"] for v in second.values())
        print(
            f"rows in the first snapshot: {total(first):,}; changed next day: {changed:,} "
            f"({changed / total(second):.1%})"
        )
        print(
            f"(a) first full load, pipeline   {a:>10,.0f} rows/s  ({total(first):,} rows in {first_seconds:.1f} s)"
        )
        print(
            f"(b) 5%-changed re-sync          {b:>10,.0f} rows/s  ({total(second):,} rows in {second_seconds:.1f} s)"
        )
        print(
            f"(c) floor: COPY into PK tables  {c:>10,.0f} rows/s  ({floor_rows:,} rows in {floor_seconds:.1f} s; "
            f"{floor_before[1]:.1f} s before the pipeline, {floor_after[1]:.1f} s after)"
        )
        print(f"(d) naive per-row upsert        {naive:>10,.0f} rows/s  (20,000 rows, extrapolated)")
        print(
            f"(a)/(c) = {a / c:.2f}   (b)/(c) = {b / c:.2f}   (a)/(d) = {a / naive:.0f}x   (b)/(d) = {b / naive:.0f}x"
        )
        client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory: client {client_peak:,.0f} MB, PostgreSQL server {memory.peak / 2**20:,.0f} MB")
        for title, runs in (("first load", first), ("re-sync", second)):
            print(f"per entity, {title} (seconds per phase; entities of one wave load two at a time):")
            for name, v in runs.items():
                phases = " ".join(f"{p}={t:.1f}" for p, t in v["phases"].items())
                print(
                    f"   {name:<26} read {v['read']:>9,} ins {v['inserted']:>9,} upd {v['updated']:>7,} "
                    f"unch {v['unchanged']:>9,} rej {v['rejected']:>4,} {v['seconds']:>6.1f} s  {phases}"
                )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())

"""Kill the sync process in the middle of a large file: nothing partial is left, the rerun completes."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import asyncpg

from tests.bank_sync.extracts import CUSTOMER_HEADER, write_delivery

CRM = str(Path(sys.executable).parent / "crm")
ROWS = 150_000


def _big_delivery(inbox: Path) -> None:
    write_delivery(inbox, "T24", date(2026, 11, 28), {"customers": (CUSTOMER_HEADER, [])})
    folder = inbox / "T24" / "2026-11-28"
    with (folder / "customers.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CUSTOMER_HEADER)
        for i in range(ROWS):
            writer.writerow(
                [f"K{i:07d}", "INDIVIDUAL", f"Hoàng Văn Khánh {i}", "RETAIL", "ACTIVE", "", "MALE"]
            )
    import hashlib
    import json

    data = (folder / "customers.csv").read_bytes()
    manifest = {
        "sourceSystem": "T24",
        "businessDate": "2026-11-28",
        "files": {"customers.csv": {"rows": ROWS, "sha256": hashlib.sha256(data).hexdigest()}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


async def test_killed_mid_file_leaves_nothing_partial_and_the_rerun_completes(
    settings, isolated_database, tmp_path
):
    url = await isolated_database("bank-sync")
    _big_delivery(tmp_path / "inbox")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "NATS_URL": settings.nats_url,
        "CRM_DATA_DIR": str(tmp_path),
        "CRM_INBOX_DIR": str(tmp_path / "inbox"),
    }
    process = subprocess.Popen(
        [CRM, "sync", "--source", "T24"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until the load of customers.csv is under way
            busy = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND (query ILIKE 'COPY%sync_stage%' OR query ILIKE '%MERGE INTO bank_sync.customer%') "
                "AND state = 'active' AND pid <> pg_backend_pid()"
            )
            if busy:
                break
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "the load never started"
            await asyncio.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 60
        while await conn.fetchval(  # the server notices the dead client and rolls its transaction back
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state <> 'idle' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ):
            assert time.monotonic() < deadline, "the killed sync's transaction never ended"
            await asyncio.sleep(0.01)
        assert await conn.fetchval("SELECT count(*) FROM bank_sync.customer") == 0, "no partial entity"
        assert await conn.fetchval("SELECT state FROM bank_sync.sync_run") == "RUNNING"
    finally:
        await conn.close()

    # No restart, no hand: the next `crm sync` notices that the run's process is gone (its source lock
    # is free), marks it FAILED and runs. Within a minute of the kill (a run just claimed is given a
    # few seconds to take its lock), asked again until then.
    killed = time.monotonic()
    while True:
        rerun = subprocess.run([CRM, "sync", "--source", "T24"], env=env, capture_output=True, timeout=300)
        output = rerun.stdout.decode()[-2000:] + rerun.stderr.decode()[-2000:]
        if rerun.returncode == 0:
            break
        assert "already queued or running" in output, output
        assert time.monotonic() - killed < 60, "the source stayed blocked a minute after the kill"
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM bank_sync.customer") == ROWS
        states = await conn.fetch("SELECT state, error FROM bank_sync.sync_run ORDER BY created_at")
        assert [s["state"] for s in states] == ["FAILED", "SUCCEEDED"]
        assert "Interrupted" in states[0]["error"]
        counts = await conn.fetchval(
            "SELECT counts->'customers'->>'inserted' FROM bank_sync.sync_run WHERE state = 'SUCCEEDED'"
        )
        assert int(counts) == ROWS
    finally:
        await conn.close()

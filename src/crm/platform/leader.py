"""Work that one process of a service does at a time, when several run (``--workers``, replicas).

Two PostgreSQL session advisory locks, keyed by the service's name:
- start-up work (creating the bootstrap users, queueing the demo load) runs under a blocking lock,
  so a second process waits and then finds it done instead of racing it;
- background jobs (the sync worker, schedules, the pending-payment round) run in the process that
  holds the service's leader lock. The others stand by and try again every second; when the
  leader stops, or its connection to PostgreSQL is lost, the lock is released and one of them takes
  over. A schedule therefore fires once per deployment, not once per process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm.platform.db import Database
from crm.platform.logging import get_logger
from crm.platform.tasks import stop_task

log = get_logger("crm.leader")

_KEY = "hashtextextended(CAST(:key AS text), 0)"


async def _lock_connection(db: Database) -> AsyncConnection:
    conn = await db.engine.connect()
    # Session-level locks outlive transactions; autocommit keeps the connection out of one.
    await conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


@asynccontextmanager
async def exclusively(db: Database, key: str) -> AsyncIterator[None]:
    """Wait until no other process holds ``key``, hold it for the block."""
    conn = await _lock_connection(db)
    try:
        await conn.execute(text(f"SELECT pg_advisory_lock({_KEY})"), {"key": key})
        try:
            yield
        finally:
            await conn.execute(text(f"SELECT pg_advisory_unlock({_KEY})"), {"key": key})
    finally:
        await conn.close()


Job = Callable[[], Coroutine[Any, Any, None]]


async def _try_lock(conn: AsyncConnection, key: str) -> bool:
    return bool(await conn.scalar(text(f"SELECT pg_try_advisory_lock({_KEY})"), {"key": key}))


async def lead(
    db: Database,
    key: str,
    jobs: Sequence[Job],
    *,
    check_interval: float = 5.0,
    standby_interval: float = 1.0,
) -> None:
    """Run ``jobs`` while this process holds ``key``; stand by while another process does.

    Runs until cancelled. A stand-by tries the lock every ``standby_interval`` seconds on the
    connection it keeps, so it takes over about a second after the leader's connection closes. The
    leader checks the lock's connection every ``check_interval`` seconds: a lost connection means the
    lock is gone too, so the jobs are stopped before another process starts them.
    """
    while True:
        tasks: list[asyncio.Task[None]] = []
        try:
            conn = await _lock_connection(db)
            try:
                # Polling PostgreSQL's lock: nothing in this process could tell it came free.
                while not await _try_lock(conn, key):  # noqa: ASYNC110
                    await asyncio.sleep(standby_interval)
                log.info("leader_elected", key=key)
                tasks = [asyncio.create_task(job()) for job in jobs]
                while True:
                    await asyncio.sleep(check_interval)
                    await conn.execute(text("SELECT 1"))
            finally:
                try:
                    await _stop(tasks)
                finally:
                    # Closed for good, not returned to the pool: that is what releases the lock.
                    with contextlib.suppress(Exception):
                        await conn.invalidate()
                        await conn.close()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("leader_connection_lost", key=key, error=str(exc))
        await asyncio.sleep(check_interval)


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        await stop_task(task)

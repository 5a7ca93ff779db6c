"""Several processes of one service: background jobs run in one of them, start-up work one at a time.

Each process is stood in for by its own ``Database`` (its own connections, as a second worker has).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from crm.platform import leader
from crm.platform.db import Database
from crm.platform.leader import exclusively, lead


async def _until(predicate, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_one_process_runs_the_jobs_and_another_takes_over_when_it_stops(postgres_url, monkeypatch):
    key = f"test:{uuid.uuid4()}"
    attempts: dict[int, int] = {}
    try_lock = leader._try_lock
    connections: dict[int, Database] = {}
    lock_connection = leader._lock_connection

    async def connected(db: Database):
        conn = await lock_connection(db)
        connections[id(conn)] = db
        return conn

    async def counted(conn, key: str) -> bool:  # each try of a process to take the lock
        db = connections[id(conn)]
        attempts[id(db)] = attempts.get(id(db), 0) + 1
        return await try_lock(conn, key)

    monkeypatch.setattr(leader, "_lock_connection", connected)
    monkeypatch.setattr(leader, "_try_lock", counted)
    running: dict[str, int] = {"a": 0, "b": 0}

    def job(name: str):
        async def run() -> None:
            running[name] += 1
            try:
                await asyncio.Event().wait()
            finally:
                running[name] -= 1

        return run

    first, second = Database(postgres_url, schema="public"), Database(postgres_url, schema="public")
    try:
        a = asyncio.create_task(lead(first, key, [job("a")], check_interval=0.1, standby_interval=0.1))
        await _until(lambda: running["a"] == 1)
        b = asyncio.create_task(lead(second, key, [job("b")], check_interval=0.1, standby_interval=0.1))
        await _until(lambda: attempts.get(id(second), 0) >= 3)  # b tried, and tried again
        assert running == {"a": 1, "b": 0}

        await _cancel(a)  # the leader stops: its job is stopped and the lock released
        assert running["a"] == 0
        await _until(lambda: running["b"] == 1)
        await _cancel(b)
        assert running == {"a": 0, "b": 0}
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_stand_by_takes_over_within_a_second_or_two_of_the_lock_coming_free(
    postgres_url, monkeypatch
):
    """operations.md promises a take-over within 5 s. The stand-by used to try the lock every 5 s, each
    time on a new connection: a leader gone just after a try was replaced 5 s and a connection later
    (5.03 s measured in tests/cluster). It now tries every second on the connection it keeps."""
    key = f"test:{uuid.uuid4()}"
    tries: list[float] = []
    try_lock = leader._try_lock

    async def counted(conn, key: str) -> bool:
        tries.append(asyncio.get_running_loop().time())
        return await try_lock(conn, key)

    monkeypatch.setattr(leader, "_try_lock", counted)
    running: dict[str, float] = {}

    def job(name: str):
        async def run() -> None:
            running[name] = asyncio.get_running_loop().time()
            await asyncio.Event().wait()

        return run

    first, second = Database(postgres_url, schema="public"), Database(postgres_url, schema="public")
    try:
        a = asyncio.create_task(lead(first, key, [job("a")]))  # the default intervals, as deployed
        await _until(lambda: "a" in running)
        b = asyncio.create_task(lead(second, key, [job("b")]))
        await _until(lambda: len(tries) >= 2)  # a's try, then b's: refused
        await _cancel(a)  # the leader goes just after the stand-by's try
        gone = asyncio.get_running_loop().time()
        await _until(lambda: "b" in running, within=10)
        took = running["b"] - gone
        assert took < 2.0, f"taken over {took:.2f} s after the lock came free"
        await _cancel(b)
    finally:
        await first.dispose()
        await second.dispose()


async def test_start_up_work_runs_one_process_at_a_time(postgres_url):
    key = f"test:{uuid.uuid4()}"
    inside, overlaps, done = 0, 0, 0

    async def start_up(db: Database) -> None:
        nonlocal inside, overlaps, done
        async with exclusively(db, key):
            inside += 1
            overlaps = max(overlaps, inside)
            await asyncio.sleep(0.2)
            inside -= 1
            done += 1

    databases = [Database(postgres_url, schema="public") for _ in range(3)]
    try:
        await asyncio.gather(*(start_up(db) for db in databases))
        assert (done, overlaps) == (3, 1)
    finally:
        for db in databases:
            await db.dispose()

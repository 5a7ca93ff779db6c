"""Background tasks stop at shutdown even when a cancellation is lost, and shutdown never hangs."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from crm.platform import tasks
from crm.platform.tasks import stop_task


async def test_a_task_that_loses_its_first_cancellation_is_stopped_by_the_next():
    """As a consumer whose fetch dropped the cancellation: it goes on to the next round."""
    rounds: list[str] = []

    async def consumer_loop() -> None:
        while True:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                if not rounds:  # the first cancellation is swallowed, the loop fetches again
                    rounds.append("lost")
                    asyncio.current_task().uncancel()  # type: ignore[union-attr]
                    continue
                rounds.append("stopped")
                raise

    task = asyncio.create_task(consumer_loop())
    await asyncio.sleep(0)  # it starts its first round
    await asyncio.wait_for(stop_task(task, every=0.1), timeout=60)
    assert task.cancelled() and rounds == ["lost", "stopped"]


async def test_a_task_that_never_ends_is_left_behind_after_the_limit(monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(tasks, "log", SimpleNamespace(warning=lambda event, **_: said.append(event)))
    cancellations: list[int] = []
    inside = asyncio.Event()

    async def stubborn() -> None:
        while True:
            try:
                inside.set()
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                cancellations.append(1)
                asyncio.current_task().uncancel()  # type: ignore[union-attr]

    task = asyncio.create_task(stubborn())
    try:
        await inside.wait()
        # the guard only catches a hang (minutes); stop_task itself gives up after `within`
        await asyncio.wait_for(stop_task(task, within=0.5, every=0.1), timeout=60)
        assert not task.done()
        assert len(cancellations) >= 2  # cancelled again and again, not once
        assert said == ["task_not_stopped"]  # and says it left the task behind
    finally:
        task.get_coro().close()  # type: ignore[union-attr]


async def test_a_finished_or_missing_task_is_nothing_to_stop():
    async def done() -> int:
        return 1

    task = asyncio.create_task(done())
    await task
    await stop_task(task)
    await stop_task(None)
    assert task.result() == 1

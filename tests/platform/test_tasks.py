"""Background tasks stop at shutdown even when a cancellation is lost, and shutdown never hangs."""

from __future__ import annotations

import asyncio

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
    await asyncio.sleep(0.01)
    await asyncio.wait_for(stop_task(task, every=0.1), timeout=5)
    assert task.cancelled() and rounds == ["lost", "stopped"]


async def test_a_task_that_never_ends_is_left_behind_after_the_limit():
    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                asyncio.current_task().uncancel()  # type: ignore[union-attr]

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0.01)  # inside its loop
    started = asyncio.get_running_loop().time()
    await stop_task(task, within=0.5, every=0.1)
    assert not task.done() and asyncio.get_running_loop().time() - started < 2
    task.get_coro().close()  # type: ignore[union-attr]


async def test_a_finished_or_missing_task_is_nothing_to_stop():
    async def done() -> int:
        return 1

    task = asyncio.create_task(done())
    await task
    await stop_task(task)
    await stop_task(None)
    assert task.result() == 1

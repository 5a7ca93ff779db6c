"""Stopping background tasks at shutdown without ever hanging it.

One ``task.cancel()`` and ``await task`` is not enough: a cancellation can be lost. Python 3.11's
``asyncio.wait_for`` returns a result that completes at the same moment as the cancellation and drops
the cancellation (nats-py's ``next_msg`` waits that way), and the consumer loop then simply fetches
again. Seen once under load with two worker processes: Ctrl-C left a worker waiting for its consumer
forever. So the task is cancelled again every second until it ends, and left behind, with a warning,
if it still has not ended after ``within`` seconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from crm.platform.logging import get_logger

log = get_logger("crm.tasks")


async def stop_task(task: asyncio.Task[Any] | None, *, within: float = 10.0, every: float = 1.0) -> None:
    """Cancel ``task`` until it has ended (its result or error is not raised here), at most ``within`` s."""
    if task is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.warning("task_not_stopped", task=task.get_name(), seconds=within)
            return
        task.cancel()
        await asyncio.wait({task}, timeout=min(every, remaining))
    if not task.cancelled() and task.exception() is not None:
        log.warning("task_failed", task=task.get_name(), error=str(task.exception()))

"""Background jobs of promises to pay (run by the service's leader process)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any

from croniter import croniter
from fastapi import FastAPI

from crm.platform.logging import get_logger
from crm.workflow.promises.service import break_overdue_promises
from crm.workflow.settings import WorkflowSettings

log = get_logger("crm.workflow.promises")

_sleep = asyncio.sleep  # the schedule's clock (how it waits, what time it is), set by tests
_now = datetime.now


async def run_promise_check_schedule(app: FastAPI) -> None:
    """Break the promises whose date has passed unpaid, at each time of ``CRM_PROMISE_CHECK_SCHEDULE``.

    The cron expression is read in the business time zone; "today" is the business date of the
    scheduled time, so a promise dated yesterday is broken by the run just after midnight. A round
    also runs when the job starts (a new leader, a restart): one missed while the service was down
    is caught up at once instead of the next night (the round is idempotent).
    """
    settings: WorkflowSettings = app.state.settings
    if not settings.promise_check_schedule:
        return
    started = _now(settings.tz)
    await _round(app, settings, started.date())
    schedule = croniter(settings.promise_check_schedule, started)
    while True:
        due: datetime = schedule.get_next(datetime)
        await _sleep(max(0.0, (due - _now(settings.tz)).total_seconds()))
        await _round(app, settings, due.date())


async def _round(app: FastAPI, settings: WorkflowSettings, today: date) -> None:
    try:
        broken = await break_overdue_promises(app.state.db, app.state.outbox, today, tz=settings.tz)
        # One line per round: which process ran it, and that it ran once (the leader's alone).
        log.info("promise_check_round", today=today.isoformat(), broken=broken)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("promise_check_failed")


BACKGROUND: list[Callable[[FastAPI], Coroutine[Any, Any, None]]] = [run_promise_check_schedule]

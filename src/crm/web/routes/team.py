"""Pages: the supervisor's team dashboard (``/team``) and its 30-day trends (``/team/trends``).

Everything comes from the services' APIs with the supervisor's own token:

- the team's agents: workflow ``GET /api/agents?team=&isActive=true`` (one page of at most 500);
- per agent, ``GET /api/agents/:id/workload`` (today) and ``GET /api/agents/:id/performance?from=&to=``
  (the chosen period, default: this month so far, in the business time zone);
- the team's portfolio by DPD bucket: workflow ``GET /api/workflow/portfolio?team=`` (the loans of the
  customers the team's agents have now: loans, customers, outstanding and due per currency); the
  team's outstanding and due today come from the workloads' per-currency totals;
- the 30-day trends: promises made and kept summed over the team's agents, from one performance call
  per agent per window. Per day (30 windows) while that is at most ``DAILY_TREND_BUDGET`` calls, per
  week (5 windows) otherwise; loaded after the page (htmx), so the page never waits for them.

Calls run concurrently, at most ``CONCURRENCY`` at a time for one page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response

from crm.platform.business_time import business_date
from crm.platform.db import utcnow
from crm.platform.state import BusinessZone
from crm.web.backend import Backend, WebBackend
from crm.web.i18n import N_
from crm.web.labels import BUCKET_LABELS, BUCKETS, TEAM_LABELS, TEAMS
from crm.web.session import SUPERVISORS, PageRouter, SignedIn, Viewer
from crm.web.templating import is_htmx, render

router = PageRouter(tags=["web"])

CONCURRENCY = 8
"""At most this many API calls at once for one page."""
MAX_AGENTS = 500
"""The dashboard shows one page of agents (the API's largest)."""
TREND_DAYS = 30
DAILY_TREND_BUDGET = 300
"""Daily trends while agents x 30 days stays within this many calls; weekly windows beyond."""
MAX_PERIOD_DAYS = 366


T = TypeVar("T")


async def bounded(calls: Iterable[Awaitable[T]], limit: int = CONCURRENCY) -> list[T]:
    """Await ``calls`` concurrently, at most ``limit`` at a time, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(c) for c in calls)))


def today(tz: ZoneInfo) -> date:
    return business_date(utcnow(), tz)


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def period(tz: ZoneInfo, start: str | None, end: str | None) -> tuple[date, date, str | None]:
    """The chosen period (default: this month so far) and why the one asked for was refused, if it was."""
    last_default = today(tz)
    first_default = last_default.replace(day=1)
    first, last = _parse_day(start), _parse_day(end)
    if (start and first is None) or (end and last is None):
        return first_default, last_default, N_("Enter the dates as shown in the calendar (day, month, year).")
    first, last = first or first_default, last or last_default
    if first > last:
        return first_default, last_default, N_("The first day must be on or before the last day.")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        return first_default, last_default, N_("The period can be at most 366 days long.")
    return first, last, None


def _rate(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _percent(value: Decimal | None) -> str:
    return "" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}"


def _amount(amounts: Sequence[dict[str, Any]], currency: str = "VND") -> Decimal:
    return sum((Decimal(a["amount"]) for a in amounts if a.get("currency") == currency), Decimal(0))


async def team_agents(backend: Backend, viewer: Viewer, team: str | None) -> tuple[list[dict[str, Any]], int]:
    page = await backend.get(
        viewer, "/api/agents", team=team or None, isActive="true", pageSize=MAX_AGENTS, page=1
    )
    return list(page["items"]), int(page["total"])


def _add_totals(into: dict[str, dict[str, Decimal]], totals: Sequence[dict[str, Any]]) -> None:
    for total in totals:
        entry = into.setdefault(total["currency"], {"outstanding": Decimal(0), "due": Decimal(0)})
        entry["outstanding"] += Decimal(total["outstanding"])
        entry["due"] += Decimal(total["due"])


@router.get("/team", roles=SUPERVISORS)
async def dashboard(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    tz: BusinessZone,
    team: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Response:
    """The team's figures for the period: per agent, charts, and the portfolio by DPD bucket."""
    team = team if team in TEAMS else None
    first, last, period_error = period(tz, start, end)
    agents, agents_total = await team_agents(backend, viewer, team)

    def workload(agent: dict[str, Any]) -> Awaitable[Any]:
        return backend.get(viewer, f"/api/agents/{agent['id']}/workload")

    def performance(agent: dict[str, Any]) -> Awaitable[Any]:
        return backend.get(
            viewer,
            f"/api/agents/{agent['id']}/performance",
            **{"from": first.isoformat(), "to": last.isoformat()},
        )

    calls: list[Awaitable[Any]] = [workload(a) for a in agents]
    calls += [performance(a) for a in agents]
    calls.append(backend.get(viewer, "/api/workflow/portfolio", team=team))
    answers = await bounded(calls)
    workloads = answers[: len(agents)]
    performances = answers[len(agents) : 2 * len(agents)]
    portfolio = [b for b in answers[-1]["buckets"] if b["bucket"] in BUCKETS]  # the delinquent ones

    rows = []
    totals: dict[str, dict[str, Decimal]] = {}
    team_sum = {"made": 0, "kept": 0, "broken": 0, "actions": 0, "contacts": 0, "customers": 0}
    collected: dict[str, Decimal] = {}
    for agent, load, perf in zip(agents, workloads, performances, strict=True):
        _add_totals(totals, load["totals"])
        for amount in perf["amountCollected"]:
            collected[amount["currency"]] = collected.get(amount["currency"], Decimal(0)) + Decimal(
                amount["amount"]
            )
        team_sum["made"] += perf["promisesMade"]
        team_sum["kept"] += perf["promisesKept"]
        team_sum["broken"] += perf["promisesBroken"]
        team_sum["actions"] += perf["actionsTotal"]
        team_sum["contacts"] += perf["contacts"]
        team_sum["customers"] += load["assignedCustomers"]
        rows.append(
            {
                "agent": agent,
                "workload": load,
                "performance": perf,
                "contact_rate": _percent(_rate(perf["contactRate"])),
                "kept_rate": _percent(_rate(perf["keptRate"])),
            }
        )
    settled = team_sum["kept"] + team_sum["broken"]
    team_rates = {
        "contact": _percent(Decimal(team_sum["contacts"]) / team_sum["actions"])
        if team_sum["actions"]
        else "",
        "kept": _percent(Decimal(team_sum["kept"]) / settled) if settled else "",
    }
    charts = {
        "labels": [r["agent"]["name"] for r in rows],
        "promises": {
            "made": [r["performance"]["promisesMade"] for r in rows],
            "kept": [r["performance"]["promisesKept"] for r in rows],
            "broken": [r["performance"]["promisesBroken"] for r in rows],
        },
        "contactRate": [r["contact_rate"] or "0" for r in rows],
        "keptRate": [r["kept_rate"] or "0" for r in rows],
        # exact decimal strings: team.js turns them into numbers only to draw bars
        "collected": [str(_amount(r["performance"]["amountCollected"])) for r in rows],
        "buckets": {"labels": [b["bucket"] for b in portfolio], "counts": [b["loans"] for b in portfolio]},
    }
    return render(
        request,
        "team/dashboard.html",
        teams=TEAMS,
        team_labels=TEAM_LABELS,
        team=team,
        first=first,
        last=last,
        period_error=period_error,
        rows=rows,
        agents_total=agents_total,
        max_agents=MAX_AGENTS,
        totals=totals,
        collected=collected,
        team_sum=team_sum,
        team_rates=team_rates,
        portfolio=portfolio,
        bucket_labels=BUCKET_LABELS,
        charts=charts,
    )


def trend_windows(last: date, agents: int) -> tuple[str, list[tuple[date, date]]]:
    """Per day over the last 30 days when affordable, else per week (the last window may be shorter)."""
    first = last - timedelta(days=TREND_DAYS - 1)
    step = 1 if agents * TREND_DAYS <= DAILY_TREND_BUDGET else 7
    windows = []
    day = first
    while day <= last:
        end = min(day + timedelta(days=step - 1), last)
        windows.append((day, end))
        day = end + timedelta(days=1)
    return ("day" if step == 1 else "week"), windows


@router.get("/team/trends", roles=SUPERVISORS)
async def trends(
    request: Request, viewer: SignedIn, backend: WebBackend, tz: BusinessZone, team: str | None = None
) -> Response:
    """Promises made and kept by the team over the last 30 days (a fragment the dashboard loads)."""
    team = team if team in TEAMS else None
    agents, _ = await team_agents(backend, viewer, team)
    granularity, windows = trend_windows(today(tz), len(agents))

    def performance(agent: dict[str, Any], window: tuple[date, date]) -> Awaitable[Any]:
        return backend.get(
            viewer,
            f"/api/agents/{agent['id']}/performance",
            **{"from": window[0].isoformat(), "to": window[1].isoformat()},
        )

    answers = await bounded(performance(a, w) for w in windows for a in agents)
    points = []
    for index, window in enumerate(windows):
        chunk = answers[index * len(agents) : (index + 1) * len(agents)]
        points.append(
            {
                "first": window[0],
                "last": window[1],
                "made": sum(p["promisesMade"] for p in chunk),
                "kept": sum(p["promisesKept"] for p in chunk),
                "broken": sum(p["promisesBroken"] for p in chunk),
            }
        )
    chart = {
        "labels": [p["first"].strftime("%d/%m") for p in points],
        "made": [p["made"] for p in points],
        "kept": [p["kept"] for p in points],
        "broken": [p["broken"] for p in points],
    }
    return render(
        request,
        "team/trends.html" if is_htmx(request) else "team/trends_page.html",
        granularity=granularity,
        points=points,
        chart=chart,
        agents=len(agents),
        calls=len(agents) * len(windows),
    )

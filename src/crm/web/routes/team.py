"""Pages: the supervisor's team dashboard (``/team``) and its 30-day trend (``/team/trends``).

Everything comes from workflow's API with the supervisor's own token, in set-based answers whose
cost does not grow with calls per agent:

- ``GET /api/workflow/teams/figures?team=&from=&to=``: every active agent of the team (the first
  500 by name) with today's workload and the period's performance (default: this month so far, in
  the business time zone); the team's totals are summed here;
- ``GET /api/workflow/portfolio?team=``: the loans of the team's customers by DPD bucket;
- ``GET /api/workflow/teams/trend?team=&from=&to=``: promises made, kept and broken per business day
  over the last 30 days, loaded after the page (htmx), so the page never waits for it.

The first two are asked at the same time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response

from crm.platform.business_time import business_date
from crm.platform.db import utcnow
from crm.platform.state import BusinessZone
from crm.web import i18n
from crm.web.backend import WebBackend
from crm.web.i18n import N_
from crm.web.labels import BUCKET_LABELS, BUCKETS, TEAM_LABELS, TEAMS
from crm.web.session import SUPERVISORS, PageRouter, SignedIn
from crm.web.templating import is_htmx, language_of, render

router = PageRouter(tags=["web"])

CONCURRENCY = 8
"""At most this many API calls at once for one page (``bounded``; the assignments pages use it)."""
MAX_AGENTS = 500
"""The figures hold at most this many agents (the API's largest answer)."""
TREND_DAYS = 30
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
    """A day as the business writes it (``05/12/2026``), or ISO (``2026-12-05``, in links)."""
    if not value:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def period(tz: ZoneInfo, start: str | None, end: str | None) -> tuple[date, date, str | None]:
    """The chosen period (default: this month so far) and why the one asked for was refused, if it was."""
    last_default = today(tz)
    first_default = last_default.replace(day=1)
    first, last = _parse_day(start), _parse_day(end)
    if (start and first is None) or (end and last is None):
        return first_default, last_default, N_("Enter the dates as day/month/year, such as 05/12/2026.")
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
    figures, whole = await asyncio.gather(
        backend.get(
            viewer,
            "/api/workflow/teams/figures",
            team=team,
            **{"from": first.isoformat(), "to": last.isoformat()},
        ),
        backend.get(viewer, "/api/workflow/portfolio", team=team),
    )
    agents_total = int(figures["agentsTotal"])
    portfolio = [b for b in whole["buckets"] if b["bucket"] in BUCKETS]  # the delinquent ones

    rows = []
    totals: dict[str, dict[str, Decimal]] = {}
    team_sum = {"made": 0, "kept": 0, "broken": 0, "actions": 0, "contacts": 0, "customers": 0}
    collected: dict[str, Decimal] = {}
    for agent in figures["agents"]:
        load, perf = agent["workload"], agent["performance"]
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
        business_date=figures["businessDate"],
        max_agents=MAX_AGENTS,
        totals=totals,
        collected=collected,
        team_sum=team_sum,
        team_rates=team_rates,
        portfolio=portfolio,
        bucket_labels=BUCKET_LABELS,
        charts=charts,
    )


@router.get("/team/trends", roles=SUPERVISORS)
async def trends(
    request: Request, viewer: SignedIn, backend: WebBackend, tz: BusinessZone, team: str | None = None
) -> Response:
    """Promises made and kept by the team over the last 30 days (a fragment the dashboard loads)."""
    team = team if team in TEAMS else None
    last = today(tz)
    first = last - timedelta(days=TREND_DAYS - 1)
    answer = await backend.get(
        viewer, "/api/workflow/teams/trend", team=team, **{"from": first.isoformat(), "to": last.isoformat()}
    )
    points = [
        {
            "day": date.fromisoformat(d["date"]),
            "made": d["promisesMade"],
            "kept": d["promisesKept"],
            "broken": d["promisesBroken"],
        }
        for d in answer["days"]
    ]
    language = language_of(request)
    chart = {
        "labels": [i18n.day(p["day"], language) for p in points],
        "made": [p["made"] for p in points],
        "kept": [p["kept"] for p in points],
        "broken": [p["broken"] for p in points],
    }
    return render(
        request,
        "team/trends.html" if is_htmx(request) else "team/trends_page.html",
        points=points,
        chart=chart,
    )

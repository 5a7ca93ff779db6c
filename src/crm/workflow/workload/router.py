"""Routes: an agent's workload, performance and call queue (read from workflow's own tables)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Path, Query

from crm.platform.auth import Access, Caller, Role, SecureRouter
from crm.platform.business_time import business_date
from crm.platform.db import Session, utcnow
from crm.platform.schemas import Day, Moment, Page, Paging
from crm.platform.state import BusinessZone
from crm.workflow.access import READ
from crm.workflow.agents.schemas import AgentTeam
from crm.workflow.workload import service
from crm.workflow.workload import team as team_service
from crm.workflow.workload.portfolio import Portfolio, portfolio
from crm.workflow.workload.schemas import Performance, QueueItem, Workload
from crm.workflow.workload.team import TeamFigures, TeamTrend

router = SecureRouter(prefix="/api/agents", tags=["agents"])
AgentId = Annotated[uuid.UUID, Path(alias="id", description="The agent's id")]
_RESPONSES: dict[int | str, dict[str, str]] = {
    403: {"description": "an AGENT asking about another agent"},
    404: {"description": "no such agent"},
}


def clock() -> datetime:
    """The current instant (a dependency, so that tests can fix it)."""
    return utcnow()


Now = Annotated[Moment, Depends(clock)]


@router.get("/{id}/workload", access=READ, response_model=Workload, responses=_RESPONSES)
async def agent_workload(
    tz: BusinessZone, session: Session, caller: Caller, agent_id: AgentId, now: Now
) -> Workload:
    """The agent's current customers, their outstanding and due per currency, actions today, open promises."""
    await service.readable_agent(session, agent_id, caller)
    return await service.workload(session, agent_id, now=now, tz=tz)


@router.get(
    "/{id}/performance",
    access=READ,
    response_model=Performance,
    responses={**_RESPONSES, 422: {"description": "from after to, or a range over 366 days"}},
)
async def agent_performance(
    tz: BusinessZone,
    session: Session,
    caller: Caller,
    agent_id: AgentId,
    now: Now,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First business date (default: 1st of to's month)")
    ] = None,
    to_date: Annotated[
        Day | None, Query(alias="to", description="Last business date (default: today)")
    ] = None,
) -> Performance:
    """Actions by type and result, contact rate, promises made / kept / broken, amount collected."""
    await service.readable_agent(session, agent_id, caller)
    last = to_date or business_date(now, tz)
    first = from_date or last.replace(day=1)
    return await service.performance(session, agent_id, from_date=first, to_date=last, tz=tz)


@router.get("/{id}/queue", access=READ, response_model=Page[QueueItem], responses=_RESPONSES)
async def agent_queue(
    tz: BusinessZone, session: Session, caller: Caller, agent_id: AgentId, now: Now, paging: Paging
) -> Page[QueueItem]:
    """Today's call list: promises due today, broken promises, follow-ups due, then by DPD and due."""
    await service.readable_agent(session, agent_id, caller)
    items, total = await service.queue(
        session,
        agent_id,
        now=now,
        tz=tz,
        offset=paging.offset,
        limit=paging.page_size,
    )
    return Page[QueueItem](items=items, page=paging.page, page_size=paging.page_size, total=total)


team_router = SecureRouter(prefix="/api/workflow", tags=["agents"])


@team_router.get("/portfolio", access=Access.of(Role.SUPERVISOR, Role.ADMIN), response_model=Portfolio)
async def team_portfolio(session: Session, team: Annotated[AgentTeam | None, Query()] = None) -> Portfolio:
    """The loans of the customers a team's agents have now (every team without ``team``), by days-past-due
    bucket: loans, customers, outstanding and due per currency."""
    return await portfolio(session, team)


TeamQuery = Annotated[AgentTeam | None, Query(description="The agents' team (every team without it)")]
_TEAM_RESPONSES: dict[int | str, dict[str, str]] = {
    422: {"description": "an unknown team, a date not written YYYY-MM-DD, from after to, or over 366 days"}
}


@team_router.get(
    "/teams/figures",
    access=Access.of(Role.SUPERVISOR, Role.ADMIN),
    response_model=TeamFigures,
    responses=_TEAM_RESPONSES,
)
async def team_figures(
    tz: BusinessZone,
    session: Session,
    now: Now,
    team: TeamQuery = None,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First business date (default: 1st of to's month)")
    ] = None,
    to_date: Annotated[
        Day | None, Query(alias="to", description="Last business date (default: today)")
    ] = None,
) -> TeamFigures:
    """Every active agent of a team (the first 500 by name) with its workload today and its performance
    between ``from`` and ``to``: the figures of the per-agent routes, in one answer."""
    last = to_date or business_date(now, tz)
    first = from_date or last.replace(day=1)
    return await team_service.figures(session, team, from_date=first, to_date=last, now=now, tz=tz)


@team_router.get(
    "/teams/trend",
    access=Access.of(Role.SUPERVISOR, Role.ADMIN),
    response_model=TeamTrend,
    responses=_TEAM_RESPONSES,
)
async def team_trend(
    tz: BusinessZone,
    session: Session,
    now: Now,
    team: TeamQuery = None,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First business date (default: 29 days before to)")
    ] = None,
    to_date: Annotated[
        Day | None, Query(alias="to", description="Last business date (default: today)")
    ] = None,
) -> TeamTrend:
    """Promises made, kept and broken by a team's active agents on each business day, ``from`` to ``to``."""
    last = to_date or business_date(now, tz)
    first = from_date or last - timedelta(days=29)
    return await team_service.trend(session, team, from_date=first, to_date=last, tz=tz)

"""Routes: the agents who work the collection queues."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query

from crm.platform.auth import SecureRouter
from crm.platform.db import Session
from crm.platform.schemas import Page, Paging
from crm.workflow.access import ADMIN_ONLY, READ
from crm.workflow.agents import service
from crm.workflow.agents.models import Agent
from crm.workflow.agents.schemas import AgentCreate, AgentRead, AgentTeam, AgentType, AgentUpdate

router = SecureRouter(prefix="/api/agents", tags=["agents"])
AgentId = Annotated[uuid.UUID, Path(alias="id", description="The agent's id")]


@router.get("", access=READ, response_model=Page[AgentRead])
async def list_agents(
    session: Session,
    paging: Paging,
    team: Annotated[AgentTeam | None, Query()] = None,
    agent_type: Annotated[AgentType | None, Query(alias="type")] = None,
    is_active: Annotated[bool | None, Query(alias="isActive")] = None,
) -> Page[AgentRead]:
    """Agents, filtered by team, type and whether they are active, ordered by name."""
    rows, total = await service.list_agents(
        session,
        team=team,
        agent_type=agent_type,
        is_active=is_active,
        offset=paging.offset,
        limit=paging.page_size,
    )
    return Page[AgentRead].of(rows, total, paging)


@router.get("/{id}", access=READ, response_model=AgentRead)
async def get_agent(session: Session, agent_id: AgentId) -> Agent:
    """One agent by id."""
    return await service.get_agent(session, agent_id)


@router.post(
    "",
    access=ADMIN_ONLY,
    status_code=201,
    response_model=AgentRead,
    responses={409: {"description": "the employeeId (or userId) belongs to another agent"}},
)
async def create_agent(body: AgentCreate, session: Session) -> Agent:
    """Create an agent."""
    return await service.create_agent(session, body)


@router.put(
    "/{id}",
    access=ADMIN_ONLY,
    response_model=AgentRead,
    responses={404: {"description": "no such agent"}, 409: {"description": "the userId is taken"}},
)
async def update_agent(body: AgentUpdate, session: Session, agent_id: AgentId) -> Agent:
    """Update an agent: only the fields in the body change (employeeId cannot)."""
    return await service.update_agent(session, agent_id, body)

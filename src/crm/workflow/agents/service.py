"""Agents: who collects, in which team, with how many customers at most."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.errors import Conflict, NotFound
from crm.platform.problems import declare
from crm.workflow.agents.models import Agent
from crm.workflow.agents.schemas import AgentCreate, AgentTeam, AgentType, AgentUpdate

EXISTS = declare("agent.identifier_exists", "An agent with {field} {value!r} already exists.")
TAKEN = declare("agent.identifier_taken", "Another agent already has this {field}.")
NO_AGENT = declare("agent.not_found", "No agent with id {id}.")

_UNIQUE_FIELDS = {"uq_agent_employee_id": "employeeId", "uq_agent_user_id": "userId"}


def _db_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, AgentType | AgentTeam) else v for k, v in values.items()}


async def _flush(session: AsyncSession) -> None:
    """Flush; a unique key taken by a concurrent request is a 409 that names the field."""
    try:
        await session.flush()
    except IntegrityError as exc:
        for constraint, field in _UNIQUE_FIELDS.items():
            if constraint in str(exc.orig):
                raise Conflict.of(TAKEN, errors=[TAKEN.field(field, field=field)], field=field) from exc
        raise


async def _ensure_free(
    session: AsyncSession, column: Any, value: str | None, field: str, *, other_than: uuid.UUID | None = None
) -> None:
    if value is None:
        return
    query = select(Agent.id).where(column == value)
    if other_than is not None:
        query = query.where(Agent.id != other_than)
    if await session.scalar(query) is not None:
        taken = {"field": field, "value": value}
        raise Conflict.of(EXISTS, errors=[EXISTS.field(field, **taken)], **taken)


async def create_agent(session: AsyncSession, data: AgentCreate) -> Agent:
    """Create an agent; 409 if its employee id (or login) is already taken."""
    await _ensure_free(session, Agent.employee_id, data.employee_id, "employeeId")
    await _ensure_free(session, Agent.user_id, data.user_id, "userId")
    agent = Agent(**_db_values(data.model_dump()))
    session.add(agent)
    await _flush(session)
    return agent


async def get_agent(session: AsyncSession, agent_id: uuid.UUID) -> Agent:
    """One agent by id, or 404."""
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound.of(NO_AGENT, id=agent_id)
    return agent


async def update_agent(session: AsyncSession, agent_id: uuid.UUID, data: AgentUpdate) -> Agent:
    """Change the fields present in ``data``; the others keep their values."""
    agent = await get_agent(session, agent_id)
    changes = _db_values(data.model_dump(exclude_unset=True))
    if "user_id" in changes:
        await _ensure_free(session, Agent.user_id, changes["user_id"], "userId", other_than=agent.id)
    for key, value in changes.items():
        if getattr(agent, key) != value:
            setattr(agent, key, value)
    await _flush(session)
    return agent


async def list_agents(
    session: AsyncSession,
    *,
    team: AgentTeam | None = None,
    agent_type: AgentType | None = None,
    is_active: bool | None = None,
    offset: int,
    limit: int,
) -> tuple[list[Agent], int]:
    """Agents matching the filters, by name."""
    query = select(Agent)
    if team is not None:
        query = query.where(Agent.team == team.value)
    if agent_type is not None:
        query = query.where(Agent.type == agent_type.value)
    if is_active is not None:
        query = query.where(Agent.is_active == is_active)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Agent.name, Agent.employee_id).offset(offset).limit(limit))
    return list(rows), total

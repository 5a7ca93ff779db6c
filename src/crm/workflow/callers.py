"""Who is calling, in workflow's terms: an AGENT's token carries ``agentId``, the workflow Agent's id."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.auth import Principal, Role
from crm.platform.errors import Forbidden
from crm.platform.problems import declare
from crm.workflow.assignments.models import CustomerAgent

OTHER_AGENT = declare(
    "scope.other_agent", "An agent may only read its own workload, performance, queue and customers."
)
NOT_ASSIGNED = declare(
    "scope.not_assigned",
    "Customer {cif} is not assigned to you: agents here record only on their own customers.",
)


def acting_agent_id(caller: Principal) -> uuid.UUID | None:
    """The Agent id of the caller's token (``agentId``), or None when it has none or it is not a uuid."""
    if not caller.agent_id:
        return None
    try:
        return uuid.UUID(caller.agent_id)
    except ValueError:
        return None


def is_only_agent(caller: Principal) -> bool:
    """True for a caller whose only workflow role is AGENT: it acts as itself only."""
    return Role.AGENT in caller.roles and not caller.roles & {Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM}


def ensure_own_agent(caller: Principal, agent_id: uuid.UUID) -> None:
    """The one rule for what an AGENT reads of agents: its own workload, performance, queue and
    assigned customers, never another agent's (403). What is read by customer (a customer's
    actions, case, assignment history) stays open to every agent: an inbound call can be anyone's."""
    if is_only_agent(caller) and acting_agent_id(caller) != agent_id:
        raise Forbidden.of(OTHER_AGENT)


async def ensure_may_write_on(session: AsyncSession, caller: Principal, cif: str, scope: str) -> None:
    """``CRM_AGENT_WRITE_SCOPE``: ``any`` (default) lets an AGENT record actions and case status on
    any customer (an inbound call); ``assigned`` only on customers currently assigned to it, as
    call or field agent (403 otherwise). SUPERVISORs and ADMINs are never limited."""
    if scope != "assigned" or not is_only_agent(caller):
        return
    agent_id = acting_agent_id(caller)
    assigned = await session.scalar(
        select(CustomerAgent.id).where(
            CustomerAgent.cif == cif,
            CustomerAgent.is_current,
            or_(
                CustomerAgent.assigned_call_agent_id == agent_id,
                CustomerAgent.assigned_field_agent_id == agent_id,
            ),
        )
    )
    if assigned is None:
        raise Forbidden.of(NOT_ASSIGNED, cif=cif)

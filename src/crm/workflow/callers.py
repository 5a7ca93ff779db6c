"""Who is calling, in workflow's terms: an AGENT's token carries ``agentId``, the workflow Agent's id."""

from __future__ import annotations

import uuid

from crm.platform.auth import Principal, Role


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

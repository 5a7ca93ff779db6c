"""Pure rules of assigning customers: an agent's capacity.

No database and no clock: the service passes the agents and their current loads (read under lock).
An agent works at most ``maxCustomers`` customers; an assignment that would put one over is refused
with ``assignment.over_capacity`` for the field naming that agent, unless the caller overrides it (a
SUPERVISOR's decision, noted on the assignment's reason). Moving a customer between agents frees
one slot and takes another; an agent who already works the customer needs no extra slot.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crm.platform.problems import declare
from crm.workflow.agents.models import Agent
from crm.workflow.assignments.models import CustomerAgent

CALL_FIELD = "assignedCallAgentId"
FIELD_FIELD = "assignedFieldAgentId"
OVER_CAPACITY = declare(
    "assignment.over_capacity", "agent {employeeId} ({agent}) is at capacity: {load} of {max} customers"
)


@dataclass
class Capacity:
    """Agents' current loads, as the caller read them (in the service, inside one transaction that
    locks the agents' rows, so the counts hold while it assigns)."""

    agents: dict[uuid.UUID, Agent]
    loads: dict[uuid.UUID, int]
    overridden: set[uuid.UUID] = field(default_factory=set)

    def refusal(
        self, current: CustomerAgent | None, call: uuid.UUID | None, fld: uuid.UUID | None, *, override: bool
    ) -> list[dict[str, Any]]:
        """Why the change would put an agent over capacity (empty: it would not, or ``override``)."""
        self.overridden = set()
        errors = []
        for name, agent_id in ((CALL_FIELD, call), (FIELD_FIELD, fld)):
            if agent_id is None or agent_id in _agents_of(current):
                continue  # already works this customer: no extra slot
            agent = self.agents[agent_id]
            if self.loads[agent_id] + 1 > agent.max_customers:
                if override:
                    self.overridden.add(agent_id)
                    continue
                errors.append(
                    OVER_CAPACITY.field(
                        name,
                        employeeId=agent.employee_id,
                        agent=agent.name,
                        load=self.loads[agent_id],
                        max=agent.max_customers,
                    )
                )
        return errors

    def take(self, current: CustomerAgent | None, new: Iterable[uuid.UUID | None]) -> None:
        before, after = _agents_of(current), {a for a in new if a is not None}
        for agent_id in after - before:
            if agent_id in self.loads:
                self.loads[agent_id] += 1
        for agent_id in before - after:
            if agent_id in self.loads:
                self.loads[agent_id] -= 1


def _agents_of(row: CustomerAgent | None) -> set[uuid.UUID]:
    if row is None:
        return set()
    return {a for a in (row.assigned_call_agent_id, row.assigned_field_agent_id) if a is not None}

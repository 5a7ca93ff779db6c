"""The capacity rule on its own (``workflow/assignments/rules.py``): no database, no clock."""

from __future__ import annotations

import uuid

from crm.workflow.agents.models import Agent
from crm.workflow.assignments.models import CustomerAgent
from crm.workflow.assignments.rules import Capacity


def _agent(max_customers: int) -> Agent:
    return Agent(id=uuid.uuid4(), employee_id="E1", name="Trần Thị Lan", max_customers=max_customers)


def test_a_full_agent_is_refused_by_field_unless_overridden_and_a_move_frees_a_slot():
    full, free = _agent(1), _agent(5)
    capacity = Capacity({full.id: full, free.id: free}, {full.id: 1, free.id: 0})
    [refusal] = capacity.refusal(None, full.id, free.id, override=False)
    assert refusal["field"] == "assignedCallAgentId" and refusal["code"] == "assignment.over_capacity"
    assert refusal["params"] == {"employeeId": "E1", "agent": "Trần Thị Lan", "load": 1, "max": 1}
    assert capacity.refusal(None, full.id, None, override=True) == [] and capacity.overridden == {full.id}
    # the customer is already the full agent's: keeping them needs no extra slot
    current = CustomerAgent(assigned_call_agent_id=full.id, assigned_field_agent_id=None)
    assert capacity.refusal(current, full.id, free.id, override=False) == []
    capacity.take(current, (free.id, None))  # moved from the full agent to the free one
    assert capacity.loads == {full.id: 0, free.id: 1}
    assert capacity.refusal(None, full.id, None, override=False) == []

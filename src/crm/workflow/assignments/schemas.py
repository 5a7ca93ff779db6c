from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from crm.platform.buckets import DpdBucket
from crm.platform.problems import declare
from crm.platform.schemas import ApiModel, Moment, Money
from crm.workflow.agents.schemas import AgentTeam

NO_AGENT_GIVEN = declare("assignment.no_agent", "give assignedCallAgentId, assignedFieldAgentId or both")
RULE_MOVES_NONE = declare(
    "assignment.rule_moves_assigned", "onlyUnassigned must be true: a rule never moves assigned customers"
)
DPD_RANGE = declare("assignment.dpd_range", "minDpd must not be greater than maxDpd")
CIFS_OR_RULE = declare("assignment.cifs_or_rule", "give either cifs (with the agents) or a rule")
RULE_CHOOSES_AGENTS = declare(
    "assignment.rule_chooses_agents", "a rule chooses the agents itself: no agent ids or override with a rule"
)
LIMIT_FOR_RULE = declare("assignment.limit_for_rule", "limit applies to a rule only")

CIF = Field(min_length=1, max_length=64)
MAX_BULK_CIFS = 5_000
"""The longest list of customers one bulk request may assign."""


def _given(*fields: str) -> dict[str, Any]:
    """A JSON schema saying each of ``fields`` is present and not null."""
    return {"required": list(fields), "properties": {f: {"not": {"type": "null"}} for f in fields}}


def _absent_or_null(*fields: str) -> dict[str, Any]:
    return {"properties": {f: {"type": "null"} for f in fields}}


AN_AGENT = {"anyOf": [_given("assignedCallAgentId"), _given("assignedFieldAgentId")]}


class AgentsChoice(ApiModel):
    """Who works the customer: a call agent, a field agent or both (at least one)."""

    schema_rules = AN_AGENT

    assigned_call_agent_id: uuid.UUID | None = None
    assigned_field_agent_id: uuid.UUID | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=1000)
    override: bool = Field(default=False, description="Assign even when an agent is at capacity")

    @model_validator(mode="after")
    def _has_an_agent(self) -> AgentsChoice:
        if self.assigned_call_agent_id is None and self.assigned_field_agent_id is None:
            raise NO_AGENT_GIVEN.invalid()
        return self


class AssignmentCreate(AgentsChoice):
    cif: str = CIF


class AssignmentUpdate(AgentsChoice):
    """The new agents of the customer whose current assignment is changed."""


class AssignmentRead(ApiModel):
    id: uuid.UUID
    cif: str
    assigned_call_agent_id: uuid.UUID | None
    assigned_field_agent_id: uuid.UUID | None
    start_date: Moment
    end_date: Moment | None
    is_current: bool
    reason: str | None
    created_by: str
    created_at: Moment


class AssignmentRule(ApiModel):
    """Which customers a rule takes: unassigned ones, by DPD bucket and/or range, for one team."""

    bucket: DpdBucket | None = None
    team: AgentTeam
    min_dpd: int | None = Field(default=None, ge=0)
    max_dpd: int | None = Field(default=None, ge=0)
    only_unassigned: bool = Field(
        default=True,
        description="Only customers without a current assignment (the only mode)",
        json_schema_extra={"const": True},
    )

    @model_validator(mode="after")
    def _consistent(self) -> AssignmentRule:
        if not self.only_unassigned:
            raise RULE_MOVES_NONE.invalid()
        if self.min_dpd is not None and self.max_dpd is not None and self.min_dpd > self.max_dpd:
            raise DPD_RANGE.invalid()
        return self


class BulkAssign(ApiModel):
    """Either ``cifs`` with the agents for all of them, or a ``rule`` (with an optional ``limit``)."""

    schema_rules = {
        "oneOf": [
            {"allOf": [_given("cifs"), _absent_or_null("rule", "limit"), AN_AGENT]},
            {
                "allOf": [
                    _given("rule"),
                    _absent_or_null("cifs", "assignedCallAgentId", "assignedFieldAgentId"),
                    {"properties": {"override": {"const": False}}},
                ]
            },
        ]
    }

    cifs: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, min_length=1, max_length=MAX_BULK_CIFS
    )
    assigned_call_agent_id: uuid.UUID | None = None
    assigned_field_agent_id: uuid.UUID | None = None
    rule: AssignmentRule | None = None
    limit: int | None = Field(default=None, ge=1, le=MAX_BULK_CIFS)
    reason: str | None = Field(default=None, min_length=1, max_length=1000)
    override: bool = Field(default=False, description="List mode: assign even over an agent's capacity")

    @model_validator(mode="after")
    def _one_mode(self) -> BulkAssign:
        if (self.cifs is None) == (self.rule is None):
            raise CIFS_OR_RULE.invalid()
        has_agent = self.assigned_call_agent_id is not None or self.assigned_field_agent_id is not None
        if self.cifs is not None and not has_agent:
            raise NO_AGENT_GIVEN.invalid()
        if self.rule is not None and (has_agent or self.override):
            raise RULE_CHOOSES_AGENTS.invalid()
        if self.cifs is not None and self.limit is not None:
            raise LIMIT_FOR_RULE.invalid()
        return self

    def agents(self) -> AgentsChoice:
        return AgentsChoice(
            assigned_call_agent_id=self.assigned_call_agent_id,
            assigned_field_agent_id=self.assigned_field_agent_id,
            reason=self.reason,
            override=self.override,
        )


class BulkStatus(StrEnum):
    ASSIGNED = "ASSIGNED"
    UNCHANGED = "UNCHANGED"
    REFUSED = "REFUSED"


class BulkItem(ApiModel):
    cif: str
    status: BulkStatus
    assignment_id: uuid.UUID | None = None
    assigned_call_agent_id: uuid.UUID | None = None
    assigned_field_agent_id: uuid.UUID | None = None
    error: str | None = None
    code: str | None = None
    """The refusal's stable code (``assignment.over_capacity``, ``customer.unknown`` ...)."""
    params: dict[str, Any] | None = None


class BulkResult(ApiModel):
    """One line per customer, in the order they were handled; counts by status."""

    items: list[BulkItem]
    assigned: int
    unchanged: int
    refused: int


class DelinquentCustomerRead(ApiModel):
    """A delinquent customer (one open loan past due at least) with who works it now."""

    cif: str
    name: str | None = Field(description="From the read model; null until bank-sync's data arrived")
    max_dpd: int = Field(description="The days past due of its worst open loan")
    bucket: DpdBucket = Field(description="The bucket of that worst loan")
    delinquent_loans: int
    product_types: list[str]
    due_amount: Money | None = Field(
        description="Due over its delinquent loans; null when in several currencies"
    )
    currency: str | None
    assignment_id: uuid.UUID | None = Field(description="The current assignment; null: unassigned")
    assigned_call_agent_id: uuid.UUID | None
    assigned_field_agent_id: uuid.UUID | None


MAX_CURRENT_CIFS = 1_000
"""The most customers one ``POST /api/assignments/current`` asks about."""


class CurrentQuery(ApiModel):
    cifs: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_CURRENT_CIFS
    )


class CurrentAssignments(ApiModel):
    """The current assignment of each asked customer that has one (a customer not listed has none)."""

    items: list[AssignmentRead]

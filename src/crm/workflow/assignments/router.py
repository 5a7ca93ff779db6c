"""Routes: who works which customer (SCD Type 2)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query, Response

from crm.platform.auth import Access, Caller, Role, SecureRouter
from crm.platform.buckets import DpdBucket
from crm.platform.db import Session
from crm.platform.schemas import Page, Paging
from crm.platform.state import Outbox
from crm.workflow.access import READ
from crm.workflow.agents.schemas import AgentTeam
from crm.workflow.assignments import listing, service
from crm.workflow.assignments.models import CustomerAgent
from crm.workflow.assignments.schemas import (
    AssignmentCreate,
    AssignmentRead,
    AssignmentUpdate,
    BulkAssign,
    BulkResult,
    CurrentAssignments,
    CurrentQuery,
    DelinquentCustomerRead,
)
from crm.workflow.bank_data import BankData
from crm.workflow.callers import ensure_own_agent

router = SecureRouter(prefix="/api/assignments", tags=["assignments"])
ASSIGN = Access.of(Role.SUPERVISOR, Role.ADMIN)
"""Assignments are SUPERVISOR and ADMIN (docs/api.md)."""

_WRITE_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {"description": "the customer already has these agents: nothing changed"},
    409: {"description": "an agent is at capacity (send override: true to assign anyway)"},
    422: {"description": "unknown or inactive agent, or unknown customer (the field is named)"},
    503: {"description": "bank-sync could not be asked whether the customer exists"},
}


@router.get(
    "/agent/{agentId}",
    access=READ,
    response_model=Page[AssignmentRead],
    responses={403: {"description": "an AGENT asking about another agent"}},
)
async def agent_assignments(
    session: Session,
    caller: Caller,
    paging: Paging,
    agent_id: Annotated[uuid.UUID, Path(alias="agentId")],
    current: Annotated[bool, Query(description="Only the current assignments; false: all history")] = True,
) -> Page[AssignmentRead]:
    """The agent's customers (current ones, or its whole assignment history), newest first."""
    ensure_own_agent(caller, agent_id)
    rows, total = await service.agent_assignments(
        session, agent_id, current=current, offset=paging.offset, limit=paging.page_size
    )
    return Page[AssignmentRead].of(rows, total, paging)


@router.get("/customers", access=ASSIGN, response_model=Page[DelinquentCustomerRead])
async def delinquent_customers(
    session: Session,
    paging: Paging,
    bucket: Annotated[DpdBucket | None, Query(description="The bucket of the customer's worst loan")] = None,
    product_type: Annotated[
        str | None,
        Query(alias="productType", pattern=r"^[A-Z0-9_]{1,32}$", description="Has a delinquent loan of it"),
    ] = None,
    team: Annotated[
        AgentTeam | None, Query(description="Its current call or field agent is of the team")
    ] = None,
    assigned: Annotated[
        bool | None, Query(description="true: only assigned customers; false: only unassigned ones")
    ] = None,
) -> Page[DelinquentCustomerRead]:
    """Delinquent customers, paged by customer, worst first, with their agents; filters apply to all."""
    only = listing.CustomerFilter(
        bucket=bucket, product_type=product_type, team=team.value if team else None, assigned=assigned
    )
    rows, total = await listing.delinquent_customers(
        session, only, offset=paging.offset, limit=paging.page_size
    )
    return Page[DelinquentCustomerRead].of(rows, total, paging)


@router.post("/current", access=READ, response_model=CurrentAssignments)
async def current_assignments(body: CurrentQuery, session: Session) -> CurrentAssignments:
    """The current assignment of each of up to 1,000 customers (one answer instead of one call each)."""
    rows = await listing.current_of(session, body.cifs)
    return CurrentAssignments.model_validate({"items": rows})


@router.get("/customer/{cif}/history", access=READ, response_model=Page[AssignmentRead])
async def customer_history(
    session: Session, paging: Paging, cif: Annotated[str, Path(min_length=1, max_length=64)]
) -> Page[AssignmentRead]:
    """Every assignment of the customer, newest first (the first item is the current one, if any)."""
    rows, total = await service.customer_history(session, cif, offset=paging.offset, limit=paging.page_size)
    return Page[AssignmentRead].of(rows, total, paging)


@router.post("", access=ASSIGN, status_code=201, response_model=AssignmentRead, responses=_WRITE_RESPONSES)
async def assign(
    body: AssignmentCreate,
    response: Response,
    session: Session,
    caller: Caller,
    outbox: Outbox,
    bank: BankData,
) -> CustomerAgent:
    """Assign a customer: ends the current assignment and starts a new one (SCD Type 2)."""
    row, changed = await service.assign(session, outbox, bank, body, caller=caller)
    if not changed:
        response.status_code = 200
    return row


@router.post("/bulk", access=ASSIGN, response_model=BulkResult)
async def bulk_assign(
    body: BulkAssign, session: Session, caller: Caller, outbox: Outbox, bank: BankData
) -> BulkResult:
    """Assign many customers: a list with the same agents, or a rule spreading customers by free capacity."""
    if body.cifs is not None:
        return await service.bulk_assign_list(session, outbox, bank, body, caller=caller)
    return await service.bulk_assign_rule(session, outbox, body, caller=caller)


@router.put(
    "/{id:uuid}",  # only an id: PUT /bulk is a method /bulk does not allow (405), not a malformed id
    access=ASSIGN,
    response_model=AssignmentRead,
    responses={
        **_WRITE_RESPONSES,
        404: {"description": "no such assignment"},
        409: {"description": "the assignment is not current, or an agent is at capacity"},
    },
)
async def reassign(
    body: AssignmentUpdate,
    outbox: Outbox,
    session: Session,
    caller: Caller,
    assignment_id: Annotated[uuid.UUID, Path(alias="id")],
) -> CustomerAgent:
    """Change the current assignment: ends it and starts a new one with the new agents (SCD Type 2)."""
    row, _ = await service.reassign(session, outbox, assignment_id, body, caller=caller)
    return row

"""Who works a customer, as SCD Type 2 history: a change ends the current row and inserts a new one.

Locking, always in this order so that no two requests can wait on each other in a cycle:

1. the customer: ``pg_advisory_xact_lock(hashtext(cif))`` (several customers: in key order, in one
   statement). It serialises every change of one customer, including its *first* assignment, when
   there is no current row yet to ``SELECT ... FOR UPDATE``. The alternative, "insert and retry once
   when the partial unique index refuses", needs a savepoint and still races a third request; the
   advisory lock makes the second request wait and then see the first one's row as current.
2. the customer's current row, ``SELECT ... FOR UPDATE`` (already serialised by 1; it also guards
   against anything that changes the row without the advisory lock).
3. the agents who receive customers, ``SELECT ... FOR UPDATE`` in id order, *before* counting their
   current customers: two requests cannot both take an agent's last slot.

The unique index over the current rows stays the last word: whatever the code does, there is at
most one current row per customer. The lock is held until the request's transaction commits.
Calls to bank-sync happen before the first statement, so no lock is held while waiting on HTTP.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.auth import Principal
from crm.platform.db import utcnow
from crm.platform.errors import BusinessRuleViolation, Conflict, NotFound, ServiceUnavailable
from crm.platform.events import WorkflowEvent
from crm.platform.outbox import Outbox
from crm.platform.problems import declare
from crm.workflow.agents.models import Agent
from crm.workflow.agents.service import NO_AGENT
from crm.workflow.assignments.models import CustomerAgent
from crm.workflow.assignments.rules import CALL_FIELD, FIELD_FIELD, OVER_CAPACITY, Capacity
from crm.workflow.assignments.schemas import (
    AgentsChoice,
    AssignmentCreate,
    AssignmentRule,
    BulkAssign,
    BulkItem,
    BulkResult,
    BulkStatus,
)
from crm.workflow.bank_data import UNKNOWN_CUSTOMER, BankDataQueryService
from crm.workflow.readmodel.models import LoanView

OVER_CAPACITY_ANSWER = declare(
    "assignment.over_capacity_answer", "Over capacity: {reasons}. Send override: true to assign anyway."
)
NOT_IN_BANK_DATA = declare("assignment.unknown_customer", "unknown customer")
TAKEN_MEANWHILE = declare("assignment.taken_meanwhile", "assigned by another request meanwhile")
NO_FREE_CAPACITY = declare("assignment.no_free_capacity", "no free capacity in team {team}")
INACTIVE_AGENT = declare("agent.inactive", "agent {employeeId} is not active")
CANNOT_ASSIGN = declare("assignment.agent_invalid", "Cannot assign to the agent in: {fields}.")
NO_ASSIGNMENT = declare("assignment.not_found", "No assignment with id {id}.")
NOT_CURRENT = declare(
    "assignment.not_current", "Assignment {id} is not the current assignment of customer {cif}."
)

MAX_RULE_BATCH = 5_000
"""The most customers one rule request assigns."""
OVERRIDE_NOTE = "[capacity override]"
"""Added to the stored reason when ``override`` let an agent go over capacity (the audit shows it)."""

NEWEST_FIRST = (CustomerAgent.start_date.desc(), CustomerAgent.created_at.desc(), CustomerAgent.id)


# ---------------------------------------------------------------- reads


async def customer_history(
    session: AsyncSession, cif: str, *, offset: int, limit: int
) -> tuple[list[CustomerAgent], int]:
    """Every assignment row of a customer, newest first."""
    query = select(CustomerAgent).where(CustomerAgent.cif == cif)
    return await _page(session, query, offset=offset, limit=limit)


async def agent_assignments(
    session: AsyncSession, agent_id: uuid.UUID, *, current: bool, offset: int, limit: int
) -> tuple[list[CustomerAgent], int]:
    """The rows naming the agent (as call or field agent): only the current ones, or its whole history."""
    if await session.get(Agent, agent_id) is None:
        raise NotFound.of(NO_AGENT, id=agent_id)
    query = select(CustomerAgent).where(_names_agent(agent_id))
    if current:
        query = query.where(CustomerAgent.is_current)
    return await _page(session, query, offset=offset, limit=limit)


async def _page(
    session: AsyncSession, query: Select[CustomerAgent], *, offset: int, limit: int
) -> tuple[list[CustomerAgent], int]:
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(*NEWEST_FIRST).offset(offset).limit(limit))
    return list(rows), total


def _names_agent(agent_id: uuid.UUID) -> Any:
    return or_(
        CustomerAgent.assigned_call_agent_id == agent_id,
        CustomerAgent.assigned_field_agent_id == agent_id,
    )


# ---------------------------------------------------------------- the customer must exist


async def ensure_customer_exists(bank_data: BankDataQueryService, cif: str) -> None:
    """422 naming ``cif`` when bank-sync does not know the customer; 503 when bank-sync cannot answer."""
    if not await _customer_known(bank_data, cif):
        raise BusinessRuleViolation.of(
            UNKNOWN_CUSTOMER, errors=[UNKNOWN_CUSTOMER.field("cif", cif=cif)], cif=cif
        )


async def _customer_known(bank_data: BankDataQueryService, cif: str) -> bool:
    try:
        await bank_data.customer(cif)
    except NotFound:
        return False
    except ServiceUnavailable:
        raise
    return True


async def _known_customers(bank_data: BankDataQueryService, cifs: Sequence[str]) -> set[str]:
    """The cifs bank-sync knows, through its lookup route (one request per 1,000)."""
    return set(await bank_data.customers(cifs))


# ---------------------------------------------------------------- locks


async def _lock_customers(session: AsyncSession, cifs: Iterable[str]) -> None:
    """Take the customers' advisory locks, in key order (see the module docstring)."""
    keys = sorted(set(cifs))
    if not keys:
        return
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(k) FROM "
            "(SELECT DISTINCT hashtext(c) AS k FROM unnest(CAST(:cifs AS text[])) AS c ORDER BY k) AS keys"
        ),
        {"cifs": keys},
    )


async def _current_rows(session: AsyncSession, cifs: Iterable[str]) -> dict[str, CustomerAgent]:
    """The customers' current rows, locked ``FOR UPDATE``."""
    rows = await session.scalars(
        select(CustomerAgent)
        .where(CustomerAgent.cif.in_(list(cifs)), CustomerAgent.is_current)
        .order_by(CustomerAgent.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.cif: row for row in rows}


async def _lock_agents(session: AsyncSession, choice: AgentsChoice) -> dict[uuid.UUID, Agent]:
    """The chosen agents, locked in id order; 422 naming the field for an unknown or inactive one."""
    wanted = {CALL_FIELD: choice.assigned_call_agent_id, FIELD_FIELD: choice.assigned_field_agent_id}
    ids = sorted({i for i in wanted.values() if i is not None})
    agents = await _lock_agent_rows(session, select(Agent).where(Agent.id.in_(ids)))
    errors = []
    for name, agent_id in wanted.items():
        if agent_id is None:
            continue
        agent = agents.get(agent_id)
        if agent is None:
            errors.append(NO_AGENT.field(name, id=agent_id))
        elif not agent.is_active:
            errors.append(INACTIVE_AGENT.field(name, employeeId=agent.employee_id))
    if errors:
        fields = ", ".join(e["field"] for e in errors)
        raise BusinessRuleViolation.of(CANNOT_ASSIGN, errors=errors, fields=fields)
    return agents


async def _lock_agent_rows(session: AsyncSession, query: Select[Agent]) -> dict[uuid.UUID, Agent]:
    rows = await session.scalars(
        query.order_by(Agent.id).with_for_update().execution_options(populate_existing=True)
    )
    return {a.id: a for a in rows}


async def _current_loads(session: AsyncSession, agent_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many customers each agent works now (as call agent, field agent or both)."""
    ids = list(agent_ids)
    loads = dict.fromkeys(ids, 0)
    if not ids:
        return loads
    named = (
        select(CustomerAgent.cif, CustomerAgent.assigned_call_agent_id.label("agent_id"))
        .where(CustomerAgent.is_current, CustomerAgent.assigned_call_agent_id.in_(ids))
        .union(
            select(CustomerAgent.cif, CustomerAgent.assigned_field_agent_id.label("agent_id")).where(
                CustomerAgent.is_current, CustomerAgent.assigned_field_agent_id.in_(ids)
            )
        )
        .subquery()
    )
    rows = await session.execute(select(named.c.agent_id, func.count()).group_by(named.c.agent_id))
    for agent_id, count in rows.all():
        loads[agent_id] = count
    return loads


# ---------------------------------------------------------------- the SCD Type 2 change


def _refused(cif: str, *errors: dict[str, Any]) -> BulkItem:
    """A customer the bulk assignment leaves as it is, with why (its first reason's code and params)."""
    return BulkItem(
        cif=cif,
        status=BulkStatus.REFUSED,
        error="; ".join(e["message"] for e in errors),
        code=errors[0]["code"],
        params=errors[0]["params"],
    )


def _same_agents(row: CustomerAgent | None, call: uuid.UUID | None, fld: uuid.UUID | None) -> bool:
    return row is not None and (row.assigned_call_agent_id, row.assigned_field_agent_id) == (call, fld)


def _with_override_note(reason: str | None, overridden: bool) -> str | None:
    if not overridden:
        return reason
    return f"{reason} {OVERRIDE_NOTE}" if reason else OVERRIDE_NOTE


@dataclass
class _Change:
    previous: CustomerAgent | None
    row: CustomerAgent
    override: bool


def _end_and_start(
    current: CustomerAgent | None,
    cif: str,
    call: uuid.UUID | None,
    fld: uuid.UUID | None,
    *,
    reason: str | None,
    caller: Principal,
    now: datetime,
) -> CustomerAgent:
    """End ``current`` at ``now`` (the caller flushes) and return the new current row starting then."""
    if current is not None:
        # Clocks of several instances may disagree: never end a row before it started.
        now = max(now, current.start_date)
        current.end_date = now
        current.is_current = False
    return CustomerAgent(
        id=uuid.uuid4(),
        cif=cif,
        assigned_call_agent_id=call,
        assigned_field_agent_id=fld,
        start_date=now,
        end_date=None,
        is_current=True,
        reason=reason,
        created_by=caller.subject,
    )


async def _store(
    session: AsyncSession, changes: Sequence[tuple[CustomerAgent | None, CustomerAgent]]
) -> None:
    """End the old rows (one flush), then insert the new current rows: the unique index forbids overlap."""
    if any(previous is not None for previous, _ in changes):
        await session.flush()
    session.add_all([row for _, row in changes])
    await session.flush()


def _event(change: _Change) -> WorkflowEvent:
    row, previous = change.row, change.previous
    agent = row.assigned_call_agent_id or row.assigned_field_agent_id
    return WorkflowEvent(
        type="CUSTOMER_ASSIGNED",
        entity_id=str(row.id),
        agent_id=str(agent) if agent else None,
        cif=row.cif,
        details={
            "assignedCallAgentId": _str(row.assigned_call_agent_id),
            "assignedFieldAgentId": _str(row.assigned_field_agent_id),
            "previousCallAgentId": _str(previous.assigned_call_agent_id if previous else None),
            "previousFieldAgentId": _str(previous.assigned_field_agent_id if previous else None),
            "reason": row.reason,
            "override": change.override,
        },
    )


def _str(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


async def _change_one(
    session: AsyncSession,
    outbox: Outbox,
    current: CustomerAgent | None,
    cif: str,
    choice: AgentsChoice,
    *,
    caller: Principal,
) -> tuple[CustomerAgent, bool]:
    """The customer is locked: validate, check capacity, end and insert. Returns (row, changed)."""
    agents = await _lock_agents(session, choice)
    call, fld = choice.assigned_call_agent_id, choice.assigned_field_agent_id
    if current is not None and _same_agents(current, call, fld):
        return current, False
    capacity = Capacity(agents, await _current_loads(session, agents))
    errors = capacity.refusal(current, call, fld, override=choice.override)
    if errors:
        raise Conflict(
            OVER_CAPACITY_ANSWER.detail(reasons="; ".join(e["message"] for e in errors)),
            errors=errors,
            code=OVER_CAPACITY,
            params={"fields": [e["field"] for e in errors]},
        )
    reason = _with_override_note(choice.reason, bool(capacity.overridden))
    row = _end_and_start(current, cif, call, fld, reason=reason, caller=caller, now=utcnow())
    await _store(session, [(current, row)])
    await outbox.add(session, _event(_Change(current, row, bool(capacity.overridden))))
    return row, True


async def assign(
    session: AsyncSession,
    outbox: Outbox,
    bank_data: BankDataQueryService,
    data: AssignmentCreate,
    *,
    caller: Principal,
) -> tuple[CustomerAgent, bool]:
    """Make ``data`` the customer's current assignment; (row, False) when those agents already have it."""
    await ensure_customer_exists(bank_data, data.cif)
    await _lock_customers(session, [data.cif])
    current = (await _current_rows(session, [data.cif])).get(data.cif)
    return await _change_one(session, outbox, current, data.cif, data, caller=caller)


async def reassign(
    session: AsyncSession,
    outbox: Outbox,
    assignment_id: uuid.UUID,
    data: AgentsChoice,
    *,
    caller: Principal,
) -> tuple[CustomerAgent, bool]:
    """Change the current assignment ``assignment_id``: 404 when unknown, 409 when it is not current."""
    cif = await session.scalar(select(CustomerAgent.cif).where(CustomerAgent.id == assignment_id))
    if cif is None:
        raise NotFound.of(NO_ASSIGNMENT, id=assignment_id)
    await _lock_customers(session, [cif])
    current = (await _current_rows(session, [cif])).get(cif)
    if current is None or current.id != assignment_id:
        which = {"id": assignment_id, "cif": cif}
        raise Conflict.of(NOT_CURRENT, errors=[NOT_CURRENT.field("id", **which)], **which)
    return await _change_one(session, outbox, current, cif, data, caller=caller)


# ---------------------------------------------------------------- bulk


def _tally(items: list[BulkItem]) -> BulkResult:
    count = {s: sum(1 for i in items if i.status == s) for s in BulkStatus}
    return BulkResult(
        items=items,
        assigned=count[BulkStatus.ASSIGNED],
        unchanged=count[BulkStatus.UNCHANGED],
        refused=count[BulkStatus.REFUSED],
    )


async def bulk_assign_list(
    session: AsyncSession,
    outbox: Outbox,
    bank_data: BankDataQueryService,
    data: BulkAssign,
    *,
    caller: Principal,
) -> BulkResult:
    """The same agents for every listed customer; capacity counted across the batch, refusals reported."""
    assert data.cifs is not None
    cifs = list(dict.fromkeys(data.cifs))
    choice = data.agents()
    known = await _known_customers(bank_data, cifs)
    await _lock_customers(session, known)
    agents = await _lock_agents(session, choice)
    currents = await _current_rows(session, known)
    capacity = Capacity(agents, await _current_loads(session, agents))
    call, fld = data.assigned_call_agent_id, data.assigned_field_agent_id

    items: list[BulkItem] = []
    changes: list[_Change] = []
    for cif in cifs:
        if cif not in known:
            items.append(_refused(cif, NOT_IN_BANK_DATA.field("cif")))
            continue
        current = currents.get(cif)
        if _same_agents(current, call, fld):
            assert current is not None
            items.append(_item(current, BulkStatus.UNCHANGED))
            continue
        errors = capacity.refusal(current, call, fld, override=data.override)
        if errors:
            items.append(_refused(cif, *errors))
            continue
        overridden = bool(capacity.overridden)
        capacity.take(current, (call, fld))
        reason = _with_override_note(data.reason, overridden)
        row = _end_and_start(current, cif, call, fld, reason=reason, caller=caller, now=utcnow())
        changes.append(_Change(current, row, overridden))
        items.append(_item(row, BulkStatus.ASSIGNED))
    await _publish(session, outbox, changes)
    return _tally(items)


def _item(row: CustomerAgent, status: BulkStatus) -> BulkItem:
    return BulkItem(
        cif=row.cif,
        status=status,
        assignment_id=row.id,
        assigned_call_agent_id=row.assigned_call_agent_id,
        assigned_field_agent_id=row.assigned_field_agent_id,
    )


async def _publish(session: AsyncSession, outbox: Outbox, changes: list[_Change]) -> None:
    if not changes:
        return
    await _store(session, [(c.previous, c.row) for c in changes])
    await outbox.add(session, *(_event(c) for c in changes))


def _as_field_agent(team: str) -> bool:
    """Rule assignments make the team's agents field agents for ``*_FIELD`` teams, call agents otherwise."""
    return team.endswith("_FIELD")


def _rule_candidates(rule: AssignmentRule, limit: int) -> Select[str]:
    """Unassigned customers of the read model whose highest DPD over their loans matches the rule."""
    max_dpd = func.max(LoanView.dpd)
    conditions = []
    if rule.bucket is not None:
        low, high = rule.bucket.dpd_range
        conditions.append(max_dpd >= low)
        if high is not None:
            conditions.append(max_dpd <= high)
    if rule.min_dpd is not None:
        conditions.append(max_dpd >= rule.min_dpd)
    if rule.max_dpd is not None:
        conditions.append(max_dpd <= rule.max_dpd)
    assigned = select(CustomerAgent.id).where(CustomerAgent.cif == LoanView.cif, CustomerAgent.is_current)
    query = select(LoanView.cif).where(~assigned.exists()).group_by(LoanView.cif)
    if conditions:
        query = query.having(*conditions)
    return query.order_by(max_dpd.desc(), LoanView.cif).limit(limit)


async def bulk_assign_rule(
    session: AsyncSession, outbox: Outbox, data: BulkAssign, *, caller: Principal
) -> BulkResult:
    """Spread unassigned customers matching the rule over the team's active agents, most free capacity first.

    Customers are taken most overdue first, as many as the team has free slots (and ``limit``);
    each goes to the agent with the most free capacity at that moment, so the load evens out
    (a weighted round robin) and no agent goes over its capacity.
    """
    rule = data.rule
    assert rule is not None
    team_agents = select(Agent).where(Agent.team == rule.team.value, Agent.is_active)
    # A first, unlocked look tells how many customers can be placed at most.
    agents = {a.id: a for a in await session.scalars(team_agents)}
    loads = await _current_loads(session, agents)
    free_slots = sum(max(a.max_customers - loads[i], 0) for i, a in agents.items())
    limit = min(data.limit or MAX_RULE_BATCH, MAX_RULE_BATCH, free_slots)
    if limit == 0:
        return _tally([])
    cifs = list(await session.scalars(_rule_candidates(rule, limit)))

    await _lock_customers(session, cifs)
    agents = await _lock_agent_rows(session, team_agents)
    already = await _current_rows(session, cifs)
    loads = await _current_loads(session, agents)
    heap = [(-(a.max_customers - loads[i]), a.name, str(i)) for i, a in agents.items()]
    heap = [entry for entry in heap if entry[0] < 0]
    heapq.heapify(heap)

    as_field = _as_field_agent(rule.team.value)
    reason = data.reason or _rule_reason(rule)
    items: list[BulkItem] = []
    changes: list[_Change] = []
    for cif in cifs:
        if cif in already:
            items.append(_refused(cif, TAKEN_MEANWHILE.field("cif")))
            continue
        if not heap:
            items.append(_refused(cif, NO_FREE_CAPACITY.field("team", team=rule.team.value)))
            continue
        free, name, agent_key = heapq.heappop(heap)
        if free + 1 < 0:
            heapq.heappush(heap, (free + 1, name, agent_key))
        agent_id = uuid.UUID(agent_key)
        call, fld = (None, agent_id) if as_field else (agent_id, None)
        row = _end_and_start(None, cif, call, fld, reason=reason, caller=caller, now=utcnow())
        changes.append(_Change(None, row, False))
        items.append(_item(row, BulkStatus.ASSIGNED))
    await _publish(session, outbox, changes)
    return _tally(items)


def _rule_reason(rule: AssignmentRule) -> str:
    parts = [f"team {rule.team.value}"]
    if rule.bucket is not None:
        parts.append(f"bucket {rule.bucket.value}")
    if rule.min_dpd is not None:
        parts.append(f"dpd >= {rule.min_dpd}")
    if rule.max_dpd is not None:
        parts.append(f"dpd <= {rule.max_dpd}")
    return "rule: " + ", ".join(parts)

"""Demo mode (``crm up --demo``, what ``make run`` runs): an agent with customers to call.

The demo ``agent`` login (identity) acts as the workflow agent ``DEMO_AGENT_ID``, created here at
start-up. Once the demo extracts have reached workflow's read model, the agent is given the most
delinquent customers nobody has yet, through the ordinary bulk assignment (SCD2 rows and
CUSTOMER_ASSIGNED events), so that its queue, the UI's "My day", has work in it.
"""

from __future__ import annotations

import asyncio
import uuid

from fastapi import FastAPI
from sqlalchemy import func, select

from crm.platform.auth import Principal, Role
from crm.platform.logging import get_logger
from crm.platform.settings import DEMO_AGENT_ID
from crm.workflow.agents.models import Agent
from crm.workflow.assignments.models import CustomerAgent
from crm.workflow.assignments.schemas import BulkAssign
from crm.workflow.assignments.service import bulk_assign_list
from crm.workflow.readmodel.models import LoanView

log = get_logger("crm.workflow.demo")

DEMO_CUSTOMERS = 60
CALLER = Principal(subject="system:demo", roles=frozenset({Role.SYSTEM}))
_sleep = asyncio.sleep


async def ensure_demo_agent(app: FastAPI) -> None:
    """Create the demo agent, in demo mode only."""
    if not app.state.settings.demo:
        return
    agent_id = uuid.UUID(DEMO_AGENT_ID)
    async with app.state.db.transaction() as session:
        if await session.get(Agent, agent_id) is None:
            session.add(
                Agent(
                    id=agent_id,
                    employee_id="DEMO001",
                    name="Nguyễn Văn An",
                    email="agent@demo.example",
                    type="AGENT",
                    team="EARLY_STAGE_CALL",
                    is_active=True,
                    max_customers=200,
                    user_id="agent",
                )
            )
            log.info("demo_agent_created", agent_id=DEMO_AGENT_ID)


async def demo_agent_waiting(app: FastAPI) -> str | None:
    """Readiness in demo mode: "loading" until the demo agent has been given its customers (an
    assignment naming it, current or not: moving them later does not make the system unready)."""
    if not app.state.settings.demo or getattr(app.state, "demo_assigned", False):
        return None
    async with app.state.db.transaction() as session:
        given = await session.scalar(
            select(CustomerAgent.cif)
            .where(CustomerAgent.assigned_call_agent_id == uuid.UUID(DEMO_AGENT_ID))
            .limit(1)
        )
    if given is None:
        return "loading"
    app.state.demo_assigned = True
    return None


async def give_demo_agent_customers(
    app: FastAPI, *, poll_seconds: float = 5, within_seconds: float = 1800
) -> None:
    """Once the read model has loans, assign the most delinquent unassigned customers to the demo
    agent, unless it already has customers (a restart changes nothing)."""
    if not app.state.settings.demo:
        return
    agent_id = uuid.UUID(DEMO_AGENT_ID)
    waited = 0.0
    while waited < within_seconds:
        async with app.state.db.transaction() as session:
            mine = await session.scalar(
                select(func.count())
                .select_from(CustomerAgent)
                .where(CustomerAgent.is_current, CustomerAgent.assigned_call_agent_id == agent_id)
            )
            if mine:
                return
            assigned = select(CustomerAgent.cif).where(CustomerAgent.is_current)
            worst = (
                await session.scalars(
                    select(LoanView.cif)
                    .where(LoanView.dpd > 0, LoanView.cif.not_in(assigned))
                    .group_by(LoanView.cif)
                    .order_by(func.max(LoanView.dpd).desc(), LoanView.cif)
                    .limit(DEMO_CUSTOMERS)
                )
            ).all()
            if worst:
                result = await bulk_assign_list(
                    session,
                    app.state.outbox,
                    app.state.bank_data,
                    BulkAssign(cifs=list(worst), assigned_call_agent_id=agent_id, reason="demo"),
                    caller=CALLER,
                )
                log.info("demo_customers_assigned", assigned=result.assigned)
                return
        await _sleep(poll_seconds)
        waited += poll_seconds

"""Case status updates: each one is a row; the current status is the latest value of each field."""

from __future__ import annotations

from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.auth import Principal
from crm.platform.db import utcnow
from crm.platform.events import WorkflowEvent
from crm.platform.outbox import Outbox
from crm.workflow.cases.models import STATUS_FIELDS, CustomerCaseAction
from crm.workflow.cases.schemas import CaseActionCreate, CaseStatus
from crm.workflow.vocabularies.service import check_case_statuses

NEWEST_FIRST = (
    CustomerCaseAction.action_date.desc(),
    CustomerCaseAction.created_at.desc(),
    CustomerCaseAction.id,
)


async def record_case_action(
    session: AsyncSession, outbox: Outbox, data: CaseActionCreate, *, caller: Principal
) -> CustomerCaseAction:
    """Store one status update and, when it sets a status, stage a STATUS_CHANGED event with it.

    Each status must be an active code of its vocabulary (422 naming the field otherwise)."""
    statuses = data.status_values()
    await check_case_statuses(session, statuses)
    action = CustomerCaseAction(
        cif=data.cif,
        action_date=data.action_date or utcnow(),
        notes=data.notes,
        created_by=caller.subject,
        **statuses,
    )
    session.add(action)
    await session.flush()
    if statuses:
        event = WorkflowEvent(
            type="STATUS_CHANGED",
            entity_id=str(action.id),
            agent_id=caller.agent_id,
            cif=action.cif,
            details={to_camel(name): value for name, value in statuses.items()},
        )
        await outbox.add(session, event)
    return action


async def current_status(session: AsyncSession, cif: str) -> CaseStatus:
    """The latest non-null value of each status field over the customer's whole history."""
    columns: list[Any] = []
    for name in STATUS_FIELDS:
        column = getattr(CustomerCaseAction, name)
        latest = array_agg(aggregate_order_by(column, *NEWEST_FIRST)).filter(column.is_not(None))
        columns.append(latest[1].label(name))
    row = (await session.execute(select(*columns).where(CustomerCaseAction.cif == cif))).one()
    return CaseStatus.model_validate(row._mapping)


async def case_history(
    session: AsyncSession, cif: str, *, offset: int, limit: int
) -> tuple[list[CustomerCaseAction], int]:
    """The customer's status updates, newest first."""
    query = select(CustomerCaseAction).where(CustomerCaseAction.cif == cif)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(*NEWEST_FIRST).offset(offset).limit(limit))
    return list(rows), total

"""Routes: a customer's case status and its history."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from crm.platform.auth import Caller, SecureRouter
from crm.platform.db import Session
from crm.platform.schemas import Paging
from crm.platform.state import Outbox
from crm.workflow.access import READ, WRITE
from crm.workflow.callers import ensure_may_write_on
from crm.workflow.cases import service
from crm.workflow.cases.models import CustomerCaseAction
from crm.workflow.cases.schemas import CaseActionCreate, CaseActionRead, CustomerCase
from crm.workflow.settings import Settings

router = SecureRouter(prefix="/api/cases", tags=["cases"])


@router.post("", access=WRITE, status_code=201, response_model=CaseActionRead)
async def record_case_action(
    body: CaseActionCreate, session: Session, caller: Caller, settings: Settings, outbox: Outbox
) -> CustomerCaseAction:
    """Record a case action: a status update of a customer's case (statuses, notes or both)."""
    await ensure_may_write_on(session, caller, body.cif, settings.agent_write_scope)
    return await service.record_case_action(session, outbox, body, caller=caller)


@router.get("/customer/{cif}", access=READ, response_model=CustomerCase)
async def customer_case(
    session: Session, paging: Paging, cif: Annotated[str, Path(min_length=1, max_length=64)]
) -> CustomerCase:
    """A customer's current case status (latest value of each field) and its updates, newest first."""
    current = await service.current_status(session, cif)
    rows, total = await service.case_history(session, cif, offset=paging.offset, limit=paging.page_size)
    return CustomerCase(
        cif=cif,
        current=current,
        history=[CaseActionRead.model_validate(r) for r in rows],
        page=paging.page,
        page_size=paging.page_size,
        total=total,
    )

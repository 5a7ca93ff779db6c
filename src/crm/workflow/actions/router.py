"""Routes: actions agents record, and their promises."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Response

from crm.platform.auth import Caller, SecureRouter
from crm.platform.db import Session
from crm.platform.schemas import Day, Page, Paging
from crm.platform.state import Outbox
from crm.workflow.access import READ, WRITE
from crm.workflow.actions import service
from crm.workflow.actions.models import ActionRecord
from crm.workflow.actions.schemas import ActionCreate, ActionRead, ResultUpdate
from crm.workflow.bank_data import BankData
from crm.workflow.settings import Settings

router = SecureRouter(prefix="/api/actions", tags=["actions"])


def _history_filter(
    action_type: Annotated[str | None, Query(alias="type", min_length=1, max_length=64)] = None,
    date_from: Annotated[
        Day | None, Query(alias="from", description="First business date, inclusive")
    ] = None,
    date_to: Annotated[Day | None, Query(alias="to", description="Last business date, inclusive")] = None,
) -> service.HistoryFilter:
    return service.HistoryFilter(action_type, date_from, date_to)


HistoryFilter = Annotated[service.HistoryFilter, Depends(_history_filter)]


@router.post(
    "",
    access=WRITE,
    status_code=201,
    response_model=ActionRead,
    responses={
        200: {"description": "this Idempotency-Key was used before by the caller: the action it recorded"},
        403: {"description": "an AGENT recording for another agent, or overriding the contact rules"},
        422: {"description": "a field breaks a vocabulary, promise or contact rule (it is named)"},
        503: {"description": "bank data could not be reached"},
    },
)
async def record_action(
    body: ActionCreate,
    response: Response,
    session: Session,
    caller: Caller,
    outbox: Outbox,
    bank: BankData,
    settings: Settings,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="The same caller's same key answers the action first recorded with it (200), once",
        ),
    ] = None,
) -> ActionRecord:
    """Record an action on a customer (and loan); checked against vocabularies and contact rules."""
    if idempotency_key is not None:
        earlier = await service.recorded_with_key(session, caller, idempotency_key)
        if earlier is not None:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
            return earlier
    return await service.record_action(
        session, outbox, bank, settings, body, caller=caller, idempotency_key=idempotency_key
    )


@router.put(
    "/{id}/result",
    access=WRITE,
    response_model=ActionRead,
    responses={
        403: {"description": "an AGENT updating another agent's action"},
        404: {"description": "no such action"},
        409: {"description": "the action's promise is already KEPT or BROKEN"},
    },
)
async def update_result(
    body: ResultUpdate,
    settings: Settings,
    session: Session,
    caller: Caller,
    action_id: Annotated[uuid.UUID, Path(alias="id")],
) -> ActionRecord:
    """Change an action's result, notes and promise."""
    return await service.update_result(session, settings, action_id, body, caller=caller)


@router.get("/customer/{cif}", access=READ, response_model=Page[ActionRead])
async def customer_actions(
    settings: Settings,
    session: Session,
    paging: Paging,
    cif: Annotated[str, Path(min_length=1, max_length=64)],
    only: HistoryFilter,
) -> Page[ActionRead]:
    """A customer's actions, newest first, optionally of one type and between two business dates."""
    rows, total = await service.list_actions(session, settings, only, paging, cif=cif)
    return Page[ActionRead].of(rows, total, paging)


@router.get("/loan/{accountNumber}", access=READ, response_model=Page[ActionRead])
async def loan_actions(
    settings: Settings,
    session: Session,
    paging: Paging,
    account_number: Annotated[str, Path(alias="accountNumber", min_length=1, max_length=64)],
    only: HistoryFilter,
) -> Page[ActionRead]:
    """A loan's actions, newest first, optionally of one type and between two business dates."""
    rows, total = await service.list_actions(
        session, settings, only, paging, loan_account_number=account_number
    )
    return Page[ActionRead].of(rows, total, paging)

"""Routes: recording and looking up payments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Path, Query, Request, Response

from crm.payments.access import READ, WRITE
from crm.payments.ledger import service
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentCreate, PaymentRead
from crm.platform.auth import Caller, SecureRouter
from crm.platform.business_time import day_bounds
from crm.platform.db import Session
from crm.platform.errors import BadRequest
from crm.platform.schemas import Page, Paging

router = SecureRouter(prefix="/api/payments", tags=["payments"])
Key = Annotated[str, Path(min_length=1, max_length=64)]
FromDate = Annotated[date | None, Query(alias="from", description="First business date, inclusive")]
ToDate = Annotated[date | None, Query(alias="to", description="Last business date, inclusive")]


def _range(
    request: Request, date_from: date | None, date_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """Business dates (in the business time zone) to a half-open UTC range."""
    if date_from and date_to and date_from > date_to:
        raise BadRequest(
            "'from' is after 'to'.", errors=[{"field": "from", "message": "must not be after 'to'"}]
        )
    tz = request.app.state.settings.tz
    start = day_bounds(date_from, tz)[0] if date_from else None
    end = day_bounds(date_to, tz)[1] if date_to else None
    return start, end


@router.get("/loan/{accountNumber}", access=READ, response_model=Page[PaymentRead])
async def payments_of_loan(
    request: Request,
    session: Session,
    paging: Paging,
    account_number: Annotated[str, Path(alias="accountNumber", min_length=1, max_length=64)],
    date_from: FromDate = None,
    date_to: ToDate = None,
) -> Page[PaymentRead]:
    """Payments of a loan, newest first."""
    start, end = _range(request, date_from, date_to)
    rows, total = await service.list_payments(
        session,
        loan_account_number=account_number,
        date_from=start,
        date_to=end,
        offset=paging.offset,
        limit=paging.page_size,
    )
    return Page[PaymentRead].of(rows, total, paging)


@router.get("/customer/{cif}", access=READ, response_model=Page[PaymentRead])
async def payments_of_customer(
    request: Request,
    session: Session,
    paging: Paging,
    cif: Key,
    date_from: FromDate = None,
    date_to: ToDate = None,
) -> Page[PaymentRead]:
    """Payments of a customer, newest first."""
    start, end = _range(request, date_from, date_to)
    rows, total = await service.list_payments(
        session, cif=cif, date_from=start, date_to=end, offset=paging.offset, limit=paging.page_size
    )
    return Page[PaymentRead].of(rows, total, paging)


@router.post(
    "",
    access=WRITE,
    status_code=201,
    response_model=PaymentRead,
    responses={
        200: {"description": "already recorded with the same content"},
        409: {"description": "reference number exists with other content"},
    },
)
async def record_payment(
    body: PaymentCreate, request: Request, response: Response, session: Session, caller: Caller
) -> Payment:
    """Record a payment; repeating the same payment is answered 200 with the stored one."""
    payment, created = await service.record_payment(
        session, request.app.state.outbox, body, actor=caller.subject
    )
    if not created:
        response.status_code = 200
    return payment


@router.get("/{referenceNumber}", access=READ, response_model=PaymentRead)
async def get_payment(
    session: Session,
    reference_number: Annotated[str, Path(alias="referenceNumber", min_length=1, max_length=64)],
) -> Payment:
    """One payment by its reference number."""
    return await service.get_payment(session, reference_number)

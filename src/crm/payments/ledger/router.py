"""Routes: recording and looking up payments."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Path, Query, Response

from crm.payments.access import READ, WRITE
from crm.payments.ledger import service
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentCreate, PaymentRead
from crm.platform.auth import Caller, SecureRouter
from crm.platform.business_time import check_period, day_bounds
from crm.platform.db import Session
from crm.platform.schemas import Day, Moment, Page, Paging
from crm.platform.state import BusinessZone, Outbox

router = SecureRouter(prefix="/api/payments", tags=["payments"])
Key = Annotated[str, Path(min_length=1, max_length=64)]
FromDate = Annotated[Day | None, Query(alias="from", description="First business date, inclusive")]
ToDate = Annotated[Day | None, Query(alias="to", description="Last business date, inclusive")]


def _range(tz: ZoneInfo, date_from: Day | None, date_to: Day | None) -> tuple[Moment | None, Moment | None]:
    """Business dates (in the business time zone) to a half-open UTC range."""
    check_period(date_from, date_to)  # the one rule every list by period applies
    start = day_bounds(date_from, tz)[0] if date_from else None
    end = day_bounds(date_to, tz)[1] if date_to else None
    return start, end


@router.get("/loan/{accountNumber}", access=READ, response_model=Page[PaymentRead])
async def payments_of_loan(
    tz: BusinessZone,
    session: Session,
    paging: Paging,
    account_number: Annotated[str, Path(alias="accountNumber", min_length=1, max_length=64)],
    date_from: FromDate = None,
    date_to: ToDate = None,
) -> Page[PaymentRead]:
    """Payments of a loan, newest first."""
    start, end = _range(tz, date_from, date_to)
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
    tz: BusinessZone,
    session: Session,
    paging: Paging,
    cif: Key,
    date_from: FromDate = None,
    date_to: ToDate = None,
) -> Page[PaymentRead]:
    """Payments of a customer, newest first."""
    start, end = _range(tz, date_from, date_to)
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
    body: PaymentCreate, response: Response, session: Session, caller: Caller, outbox: Outbox
) -> Payment:
    """Record a payment; repeating the same payment is answered 200 with the stored one."""
    payment, created = await service.record_payment(session, outbox, body, actor=caller.subject)
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

"""Routes: running a business date's reconciliation and reading its stored report (JSON or CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response

from crm.payments.access import READ, RECONCILE
from crm.payments.reconciliation import service
from crm.payments.reconciliation.schemas import ReconciliationReportRead, ReconciliationRequest
from crm.payments.settings import Settings
from crm.platform.auth import Caller, SecureRouter
from crm.platform.db import Session
from crm.platform.negotiation import preferred
from crm.platform.schemas import Day
from crm.platform.state import Outbox

router = SecureRouter(prefix="/api/payments/reconciliation", tags=["reconciliation"])
BusinessDate = Annotated[Day, Path(alias="date", description="Business date, YYYY-MM-DD")]


@router.post(
    "",
    access=RECONCILE,
    response_model=ReconciliationReportRead,
    responses={422: {"description": "no usable payments extract of the core for that date"}},
)
async def reconcile(
    body: ReconciliationRequest, session: Session, caller: Caller, settings: Settings, outbox: Outbox
) -> ReconciliationReportRead:
    """Reconcile a business date with the core's payments extract; imports what the CRM lacks."""
    return await service.reconcile(
        session,
        outbox,
        settings.inbox,
        body.business_date,
        tz=settings.tz,
        actor=caller.subject,
    )


@router.get(
    "/{date}",
    access=READ,
    response_model=ReconciliationReportRead,
    responses={
        200: {"content": {"text/csv": {}}, "description": "the report; CSV with Accept: text/csv"},
        404: {"description": "no report for that date"},
    },
)
async def get_report(
    request: Request, session: Session, business_date: BusinessDate
) -> ReconciliationReportRead | Response:
    """The stored reconciliation report of a date; CSV (a line per discrepancy) with Accept: text/csv."""
    report = await service.get_report(session, business_date)
    if preferred(request.headers.get("accept"), ["application/json", "text/csv"]) == "text/csv":
        return Response(
            service.report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="reconciliation-{business_date}.csv"'},
        )
    return report

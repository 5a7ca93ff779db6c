"""Admin pages: reconciliation reports of a business date (with CSV), and a payment by its reference."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from crm.platform.state import BusinessZone
from crm.web.backend import BackendError, WebBackend
from crm.web.routes.admin_common import LABELS, admin_router, form_fields
from crm.web.routes.admin_texts import admin_texts
from crm.web.session import ADMINS, SignedIn
from crm.web.templating import language_of, render

router = admin_router()
RECEIPT_STATUSES = ("COMPLETED", "REVERSED")


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _binary(answer: Any, media_type: str, filename: str, disposition: str) -> Response:
    """A non-JSON answer of a service handed on to the browser under our own filename."""
    if not isinstance(answer, httpx.Response):
        raise BackendError(502, "Unexpected answer", f"The service did not answer {media_type}.")
    headers = {"Content-Disposition": f'{disposition}; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(
        answer.content, media_type=answer.headers.get("content-type", media_type), headers=headers
    )


@router.get("/admin/reconciliation", roles=ADMINS)
async def reconciliation(
    request: Request, viewer: SignedIn, backend: WebBackend, tz: BusinessZone, date: str = "", ran: str = ""
) -> Response:
    """Choose a business date; its stored report (if any), a button to run one and the CSV."""
    chosen = _date(date)
    report, missing = None, False
    if chosen:
        try:
            report = await backend.get(viewer, f"/api/payments/reconciliation/{chosen.isoformat()}")
        except BackendError as exc:
            if exc.status != 404:
                raise
            missing = True
    # The day to reconcile is normally yesterday's: the core's extract of a business day comes after it ends.
    yesterday = datetime.now(tz).date() - timedelta(days=1)
    return render(
        request,
        "admin/reconciliation.html",
        chosen=chosen.isoformat() if chosen else "",
        default=yesterday.isoformat(),
        invalid=bool(date) and chosen is None,
        report=report,
        missing=missing,
        ran=ran,
        labels=LABELS,
        texts=admin_texts(viewer.language),
    )


@router.post("/admin/reconciliation", roles=ADMINS)
async def run_reconciliation(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Reconcile a business date (``POST /api/payments/reconciliation``); a refusal in words."""
    fields = await form_fields(request)
    chosen = _date(fields.get("date", ""))
    if chosen is None:
        return RedirectResponse("/admin/reconciliation?date=invalid", status_code=303)
    try:
        await backend.post(viewer, "/api/payments/reconciliation", json={"date": chosen.isoformat()})
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            raise
        return render(
            request,
            "admin/reconciliation.html",
            status_code=exc.status,
            chosen=chosen.isoformat(),
            default=chosen.isoformat(),
            invalid=False,
            report=None,
            missing=False,
            problem=exc.message(language_of(request)),
            labels=LABELS,
            texts=admin_texts(viewer.language),
        )
    return RedirectResponse(f"/admin/reconciliation?date={chosen.isoformat()}&ran=1", status_code=303)


@router.get("/admin/reconciliation/{business_date}.csv", roles=ADMINS)
async def reconciliation_csv(
    request: Request, viewer: SignedIn, backend: WebBackend, business_date: date
) -> Response:
    """The stored report as CSV, asked of payments with ``Accept: text/csv`` and the admin's token."""
    answer = await backend.request(
        viewer,
        "GET",
        f"/api/payments/reconciliation/{business_date.isoformat()}",
        headers={"Accept": "text/csv"},
    )
    return _binary(answer, "text/csv", f"reconciliation-{business_date.isoformat()}.csv", "attachment")


@router.get("/admin/payments", roles=ADMINS)
async def payment_lookup(request: Request, viewer: SignedIn, backend: WebBackend, ref: str = "") -> Response:
    """A payment by its reference number, with a link to its receipt."""
    ref = ref.strip()[:64]
    payment, missing = None, False
    if ref:
        try:
            payment = await backend.get(viewer, f"/api/payments/{quote(ref, safe='')}")
        except BackendError as exc:
            if exc.status not in (404, 422):
                raise
            missing = True
    return render(
        request,
        "admin/payment.html",
        ref=ref,
        payment=payment,
        missing=missing,
        receipt=payment is not None and payment["status"] in RECEIPT_STATUSES,
        labels=LABELS,
    )


@router.get("/admin/payments/receipt", roles=ADMINS)
async def receipt(request: Request, viewer: SignedIn, backend: WebBackend, ref: str) -> Response:
    """The payment's receipt PDF, asked of payments with the user's token."""
    answer = await backend.request(
        viewer,
        "GET",
        f"/api/payments/receipt/{quote(ref.strip()[:64], safe='')}",
        headers={"Accept": "application/pdf"},
    )
    filename = "receipt-" + re.sub(r"[^A-Za-z0-9._-]", "_", ref) + ".pdf"
    return _binary(answer, "application/pdf", filename, "inline")

"""Route: a payment's receipt, as PDF or (``Accept: application/json``) as JSON."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

from fastapi import Path, Request, Response
from fastapi.responses import JSONResponse

from crm.payments.access import READ
from crm.payments.ledger.schemas import PaymentChannel, PaymentStatus
from crm.payments.receipts import service
from crm.payments.receipts.pdf import Receipt, render_pdf
from crm.payments.settings import Settings
from crm.platform.auth import SecureRouter
from crm.platform.db import Session
from crm.platform.negotiation import preferred
from crm.platform.schemas import ApiModel, Moment, Money

router = SecureRouter(prefix="/api/payments/receipt", tags=["payments"])
PDF = "application/pdf"
JSON = "application/json"


class ReceiptRead(ApiModel):
    bank_name: str
    reference_number: str
    cif: str
    loan_account_number: str
    amount: Money
    currency: str
    amount_in_figures: str
    amount_in_words: str
    payment_date: Moment
    """In the business time zone, as printed."""
    payment_channel: PaymentChannel
    status: PaymentStatus
    status_reason: str | None
    verification_code: str
    issued_at: Moment


def wants_json(accept: str | None) -> bool:
    """JSON only when the client prefers it to PDF; the PDF is the receipt, so it wins ties."""
    return preferred(accept, [PDF, JSON]) == JSON


def _filename(reference_number: str) -> str:
    return "receipt-" + re.sub(r"[^A-Za-z0-9._-]", "_", reference_number) + ".pdf"


@router.get(
    "/{referenceNumber}",
    access=READ,
    response_model=ReceiptRead,
    responses={
        200: {
            "description": "the receipt: a one-page PDF, or its data with `Accept: application/json`",
            "content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
        },
        404: {"description": "no payment with this reference number"},
        409: {"description": "the payment is PENDING or FAILED: no receipt"},
    },
)
async def get_receipt(
    request: Request,
    session: Session,
    settings: Settings,
    reference_number: Annotated[str, Path(alias="referenceNumber", min_length=1, max_length=64)],
) -> Response:
    """The receipt of a COMPLETED or REVERSED payment: PDF, or JSON with `Accept: application/json`."""
    receipt: Receipt = await service.get_receipt(session, reference_number, settings)
    headers = {"Vary": "Accept", "Cache-Control": "no-store"}
    if wants_json(request.headers.get("accept")):
        body = ReceiptRead.model_validate(receipt).model_dump(mode="json", by_alias=True)
        return JSONResponse(body, headers=headers)
    content = await asyncio.to_thread(render_pdf, receipt)
    headers["Content-Disposition"] = f'inline; filename="{_filename(receipt.reference_number)}"'
    return Response(content, media_type=PDF, headers=headers)

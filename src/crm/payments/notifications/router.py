"""``POST /api/payments/notification``: real-time payments from processors, signed, not logged in."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from crm.payments.notifications import service
from crm.payments.notifications.jobs import Loans, PgPool
from crm.payments.notifications.schemas import NotificationAnswer, PaymentNotification
from crm.payments.notifications.signature import HEADER, verify
from crm.payments.settings import Settings
from crm.platform.auth import Access, SecureRouter
from crm.platform.errors import Unauthorized
from crm.platform.logging import get_logger
from crm.platform.state import Db, Outbox

log = get_logger("crm.payments.notifications")
router = SecureRouter(prefix="/api/payments", tags=["payments"])
SIGNED = Access.signed(HEADER, "HMAC-SHA256 of t.body with CRM_PAYMENT_WEBHOOK_SECRET")


@router.post(
    "/notification",
    access=SIGNED,
    status_code=201,
    response_model=NotificationAnswer,
    responses={
        200: {
            "description": "already known: acknowledged, no second effect (or a status change applied)",
            "model": NotificationAnswer,
        },
        401: {"description": "signature missing, wrong, or older than the tolerance: nothing stored"},
        409: {"description": "the reference number is known with another loan, customer or amount"},
        422: {"description": "a field or a business rule refused (named in `errors`)"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentNotification"}}},
        }
    },
)
async def notification(
    request: Request, settings: Settings, db: Db, pool: PgPool, outbox: Outbox, loans: Loans
) -> Response:
    """A payment processor's notification of a payment (signed, see docs/api.md)."""
    body = await request.body()
    # The signature first: an unsigned request learns nothing, not even what is wrong with its body.
    try:
        verify(
            request.headers.get(HEADER),
            body,
            settings.webhook_secrets(),
            now=time.time(),
            tolerance=settings.signature_tolerance_seconds,
        )
    except Unauthorized as exc:
        # One line, no traceback and none of what was sent: an outsider cannot flood the logs.
        log.warning("notification_refused", reason=exc.detail)
        raise
    try:
        data = PaymentNotification.model_validate_json(body)
    except ValidationError as exc:
        # The platform's handler makes it the usual problem: 400 for broken JSON, 422 naming fields.
        raise RequestValidationError(exc.errors(include_url=False)) from None
    rules = service.Rules(settings.currencies(), timedelta(seconds=settings.payment_clock_skew_seconds))
    received = await service.receive(
        db,
        pool,
        outbox,
        loans,
        data,
        rules=rules,
        now=datetime.now(UTC),
        request=request,
    )
    receipt = f"/api/payments/receipt/{received.payment.reference_number}" if data.requires_receipt else None
    # Both parts are validated already: put together without validating again.
    answer = NotificationAnswer.model_construct(**dict(received.payment), receipt_url=receipt)
    # Serialised once, here (the hot path): the response model above still documents it.
    return Response(
        answer.model_dump_json(by_alias=True),
        status_code=201 if received.created else 200,
        media_type="application/json",
    )

"""A payment processor's notification: a Payment, plus whether the payer wants a receipt."""

from __future__ import annotations

from pydantic import Field

from crm.payments.ledger.schemas import PaymentCreate, PaymentRead, PaymentSource


class PaymentNotification(PaymentCreate):
    source_system: PaymentSource = Field(
        default=PaymentSource.OTHER, description="The core system that booked it; OTHER for a processor"
    )
    requires_receipt: bool = False


class NotificationAnswer(PaymentRead):
    receipt_url: str | None = Field(
        default=None, description="Where the PDF receipt is, when one was asked for"
    )

"""The event a payment announces in its status (PaymentEvent, docs/data-model.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentStatus
from crm.platform.events import PaymentEvent

EVENT_TYPE = {
    PaymentStatus.COMPLETED: "PAYMENT_RECEIVED",
    PaymentStatus.FAILED: "PAYMENT_FAILED",
    PaymentStatus.REVERSED: "PAYMENT_REVERSED",
}
_FIELDS = ("reference_number", "loan_account_number", "cif", "amount", "currency", "status", "payment_date")


def payment_event(payment: Payment | Mapping[str, Any]) -> PaymentEvent | None:
    """The event of a stored payment, or of the values of one about to be stored; None for a status
    nobody is told about (PENDING)."""
    values = payment if isinstance(payment, Mapping) else {f: getattr(payment, f) for f in _FIELDS}
    event_type = EVENT_TYPE.get(PaymentStatus(values["status"]))
    if event_type is None:
        return None
    return PaymentEvent(
        type=event_type,
        payment_reference_number=values["reference_number"],
        loan_account_number=values["loan_account_number"],
        cif=values["cif"],
        amount=values["amount"],
        currency=values["currency"],
        status=values["status"],
        payment_date=values["payment_date"],
    )

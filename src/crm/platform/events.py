"""Event schemas that cross service boundaries (versioned; the only shared data shape besides HTTP).

Subjects are ``crm.<family>.<type in lower case>``, e.g. ``crm.payment.payment_received``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter
from pydantic.alias_generators import to_camel

MoneyStr = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")]


class Event(BaseModel):
    """Fields every event carries; ``eventId`` is what consumers de-duplicate on."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)
    family: ClassVar[str] = "event"

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    version: int = 1

    @property
    def subject(self) -> str:
        return f"crm.{self.family}.{self.type.lower()}"

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()


class SyncEvent(Event):
    family: ClassVar[str] = "sync"
    type: Literal["ENTITY_UPDATED", "SYNC_COMPLETED", "SYNC_FAILED"]
    entity_type: str
    source_system: str
    affected_records: list[str] | None = None
    run_id: str


class PaymentEvent(Event):
    family: ClassVar[str] = "payment"
    type: Literal["PAYMENT_RECEIVED", "PAYMENT_FAILED", "PAYMENT_REVERSED"]
    payment_reference_number: str
    loan_account_number: str
    cif: str
    amount: MoneyStr
    currency: str = "VND"
    status: str
    payment_date: datetime | None = None


class WorkflowEvent(Event):
    family: ClassVar[str] = "workflow"
    type: Literal["ACTION_RECORDED", "CUSTOMER_ASSIGNED", "STATUS_CHANGED", "PROMISE_BROKEN", "PROMISE_KEPT"]
    entity_id: str
    agent_id: str | None = None
    cif: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


AnyEvent = SyncEvent | PaymentEvent | WorkflowEvent
FAMILIES: dict[str, type[Event]] = {"sync": SyncEvent, "payment": PaymentEvent, "workflow": WorkflowEvent}
STREAMS: dict[str, str] = {
    "CRM_SYNC": "crm.sync.>",
    "CRM_PAYMENT": "crm.payment.>",
    "CRM_WORKFLOW": "crm.workflow.>",
}
DEAD_LETTER_STREAM = ("CRM_DEAD_LETTER", "crm.dead_letter.>")


def parse_event(subject: str, data: bytes) -> Event:
    """Decode a message by its subject's family; raises ``ValueError`` for an unknown or bad event."""
    parts = subject.split(".")
    if len(parts) < 3 or parts[0] != "crm" or parts[1] not in FAMILIES:
        raise ValueError(f"not a CRM event subject: {subject}")
    model: type[Event] = FAMILIES[parts[1]]
    return TypeAdapter(model).validate_json(data)

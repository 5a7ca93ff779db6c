"""Case status updates. The allowed statuses are data: the vocabulary tables an ADMIN edits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from crm.platform.problems import declare
from crm.platform.schemas import ApiModel, AwareMoment, Moment
from crm.workflow.actions.schemas import IN_FUTURE

NOTHING_TO_RECORD = declare("case.nothing_to_record", "give at least one status field or notes")

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of our clock a client's ``actionDate`` may be."""


StatusCode = Annotated[str, Field(min_length=1, max_length=64)]
"""A case status value: an active code of its vocabulary (``GET /api/vocabularies``), checked by the
service against the vocabulary tables an ADMIN edits."""


class CaseStatus(ApiModel):
    """The five case status fields; in ``current`` each is the latest value ever set (or null)."""

    customer_status: StatusCode | None = None
    collateral_status: StatusCode | None = None
    processing_state_status: StatusCode | None = None
    lending_violation_status: StatusCode | None = None
    recovery_ability_status: StatusCode | None = None


class CaseActionCreate(CaseStatus):
    cif: str = Field(min_length=1, max_length=64)
    action_date: AwareMoment | None = Field(
        default=None, description="When the update happened; now when left out. Not in the future."
    )
    notes: str | None = Field(default=None, min_length=1, max_length=4000)

    @field_validator("action_date")
    @classmethod
    def _not_in_future(cls, value: Moment | None) -> Moment | None:
        if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
            raise IN_FUTURE.invalid()
        return value

    @model_validator(mode="after")
    def _has_content(self) -> CaseActionCreate:
        if self.notes is None and not self.status_values():
            raise NOTHING_TO_RECORD.invalid()
        return self

    def status_values(self) -> dict[str, str]:
        """The status fields this update sets, by column name."""
        return {name: value for name in CaseStatus.model_fields if (value := getattr(self, name)) is not None}


class CaseActionRead(CaseStatus):
    id: uuid.UUID
    cif: str
    action_date: Moment
    notes: str | None
    created_by: str
    created_at: Moment


class CustomerCase(ApiModel):
    """A customer's case: the current status and the status updates, newest first (paged)."""

    cif: str
    current: CaseStatus
    history: list[CaseActionRead]
    page: int
    page_size: int
    total: int

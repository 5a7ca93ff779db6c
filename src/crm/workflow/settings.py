"""Collection Workflow settings."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from croniter import croniter
from fastapi import Depends
from pydantic import field_validator

from crm.platform.settings import PlatformSettings
from crm.platform.state import settings_of


class WorkflowSettings(PlatformSettings):
    bank_sync_url: str | None = None
    """Where bank-sync answers customer and loan lookups (default: ``CRM_BASE_URL``; in-process
    under ``crm up``)."""
    bank_sync_timeout_seconds: float = 2.0
    bank_data_cache_seconds: float = 60.0
    """How long a customer or loan fetched from bank-sync is reused when recording actions."""
    agent_write_scope: Literal["any", "assigned"] = "any"
    """``CRM_AGENT_WRITE_SCOPE``: ``any`` lets an AGENT record actions and case status on every
    customer (inbound calls); ``assigned`` only on the customers currently assigned to it."""
    promise_horizon_days: int = 30
    """``CRM_PROMISE_HORIZON_DAYS``: how far ahead (business days from today) a promise date may be."""
    contact_hours_start: time = time(7, 0)
    """``CRM_CONTACT_HOURS_START``: earliest business-time hour a CALL or VISIT may be made."""
    contact_hours_end: time = time(21, 0)
    """``CRM_CONTACT_HOURS_END``: latest business-time hour a CALL or VISIT may be made."""
    max_call_attempts_per_day: int = 5
    """``CRM_MAX_CALL_ATTEMPTS_PER_DAY``: CALLs per customer per business day before a SUPERVISOR must
    override."""
    promise_check_schedule: str | None = "5 0 * * *"
    """``CRM_PROMISE_CHECK_SCHEDULE``: cron expression, business time zone, of the round that marks
    promises whose date has passed unpaid as BROKEN (empty: no schedule)."""

    @field_validator("promise_check_schedule")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value and not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value or None


Settings = Annotated[WorkflowSettings, Depends(settings_of)]
"""The service's settings, as a route asks for them (``crm.platform.state``)."""

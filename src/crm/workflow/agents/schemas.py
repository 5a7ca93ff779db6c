from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import Field

from crm.platform.schemas import ApiModel, Moment, not_null

_NOT_SPACE = r"[^@\s\x1c-\x1f\u0085\ufeff]"  # \s of Python and of JavaScript differ on these five
EMAIL_PATTERN = rf"^{_NOT_SPACE}+@{_NOT_SPACE}+\.{_NOT_SPACE}+$"
PHONE_PATTERN = r"^\+?[0-9][0-9 .-]{4,18}[0-9]$"
EMPLOYEE_ID_PATTERN = r"^[A-Za-z0-9._-]+$"
USER_ID_PATTERN = r"^[A-Za-z0-9._@-]+$"


class AgentType(StrEnum):
    AGENT = "AGENT"
    SUPERVISOR = "SUPERVISOR"
    ADMIN = "ADMIN"


class AgentTeam(StrEnum):
    EARLY_STAGE_CALL = "EARLY_STAGE_CALL"
    EARLY_STAGE_FIELD = "EARLY_STAGE_FIELD"
    MID_STAGE_CALL = "MID_STAGE_CALL"
    MID_STAGE_FIELD = "MID_STAGE_FIELD"
    LATE_STAGE_CALL = "LATE_STAGE_CALL"
    LATE_STAGE_FIELD = "LATE_STAGE_FIELD"
    LEGAL = "LEGAL"
    RESTRUCTURING = "RESTRUCTURING"
    SPECIAL_ASSETS = "SPECIAL_ASSETS"
    HIGH_VALUE = "HIGH_VALUE"
    OTHER = "OTHER"


class AgentCreate(ApiModel):
    employee_id: str = Field(min_length=1, max_length=64, pattern=EMPLOYEE_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    type: AgentType
    team: AgentTeam
    is_active: bool = True
    max_customers: int = Field(ge=0, le=100_000)
    user_id: str | None = Field(default=None, min_length=3, max_length=64, pattern=USER_ID_PATTERN)


class AgentUpdate(ApiModel):
    """A partial update: only the fields present in the body change; ``phone``/``userId`` null clears them.

    The employee id is the agent's natural key and cannot be changed.
    """

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    type: AgentType | None = None
    team: AgentTeam | None = None
    is_active: bool | None = None
    max_customers: int | None = Field(default=None, ge=0, le=100_000)
    user_id: str | None = Field(default=None, min_length=3, max_length=64, pattern=USER_ID_PATTERN)

    _not_null = not_null("name", "email", "type", "team", "is_active", "max_customers")


class AgentRead(ApiModel):
    id: uuid.UUID
    employee_id: str
    name: str
    email: str
    phone: str | None
    type: AgentType
    team: AgentTeam
    is_active: bool
    max_customers: int
    user_id: str | None
    created_at: Moment
    updated_at: Moment

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from crm.platform.auth import Role
from crm.platform.schemas import ApiModel


class UserCreate(ApiModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=10, max_length=256)
    roles: list[Role] = Field(min_length=1)
    agent_id: str | None = Field(default=None, max_length=64)

    @field_validator("roles")
    @classmethod
    def _unique(cls, roles: list[Role]) -> list[Role]:
        return sorted(set(roles))


class UserUpdate(ApiModel):
    """A partial update: only the fields present change; ``agentId`` null unlinks the agent."""

    roles: list[Role] | None = Field(default=None, min_length=1)
    agent_id: str | None = Field(default=None, max_length=64)
    is_active: bool | None = None

    @field_validator("roles")
    @classmethod
    def _unique(cls, roles: list[Role] | None) -> list[Role]:
        if roles is None:  # only when sent as null: an absent field is not validated
            raise ValueError("a user needs at least one role; leave the field out to keep them")
        return sorted(set(roles))

    @field_validator("is_active")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        if value is None:
            raise ValueError("true or false; leave the field out to keep it")
        return value


class UserRead(ApiModel):
    id: uuid.UUID
    username: str
    roles: list[Role]
    agent_id: str | None
    is_active: bool
    created_at: datetime


class Token(BaseModel):
    """OAuth2 token response (snake_case, as RFC 6749 names its fields)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(ApiModel):
    username: str
    roles: list[Role]
    agent_id: str | None

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field, field_validator

from crm.platform.auth import Role
from crm.platform.schemas import ApiModel, Moment, not_null


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
        assert roles is not None  # refused before: a user keeps at least one role
        return sorted(set(roles))

    _not_null = not_null("roles", "is_active")


class UserRead(ApiModel):
    id: uuid.UUID
    username: str
    roles: list[Role]
    agent_id: str | None
    is_active: bool
    created_at: Moment


class Token(BaseModel):
    """OAuth2 token response (snake_case, as RFC 6749 names its fields)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(ApiModel):
    username: str
    roles: list[Role]
    agent_id: str | None

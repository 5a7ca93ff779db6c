"""Users: creation, password checks, the bootstrap admin and demo users."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.identity.users.models import User
from crm.platform.auth import Role
from crm.platform.errors import BusinessRuleViolation, Conflict, NotFound, Unauthorized
from crm.platform.problems import declare

WRONG_CREDENTIALS = declare("auth.wrong_credentials", "Wrong username or password.")
USERNAME_TAKEN = declare("user.username_taken", "A user named {username!r} already exists.")
NO_USER = declare("user.not_found", "No user {username!r}.")
NOT_ON_YOURSELF = declare(
    "user.not_on_yourself", "An administrator cannot remove its own ADMIN role or deactivate itself."
)

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so an unknown name costs as much as a wrong
    password (made at first use, not at import: hashing is deliberately slow)."""
    return _hasher.hash("not-a-real-password")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify(hash_: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher.verify, hash_, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    """The active user with this name and password, or 401 (the same answer for either mistake)."""
    user = await session.scalar(select(User).where(User.username == username))
    ok = await _verify(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or not user.is_active:
        raise Unauthorized.of(WRONG_CREDENTIALS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    return user


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    roles: Iterable[str],
    agent_id: str | None,
    created_by: str,
) -> User:
    """Create a user; 409 if the name is taken."""
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict.of(USERNAME_TAKEN, username=username)
    user = User(
        username=username,
        password_hash=await hash_password(password),
        roles=sorted(set(roles)),
        agent_id=agent_id,
        created_by=created_by,
    )
    session.add(user)
    await session.flush()
    return user


async def ensure_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    roles: Iterable[str],
    agent_id: str | None = None,
) -> bool:
    """Create the user if missing (bootstrap and demo); True when it was created. An existing user
    keeps its password and roles; its agent link follows ``agent_id`` when one is given (the demo
    agent's id changed once: from an employee id to the workflow agent's uuid)."""
    existing = await session.scalar(select(User).where(User.username == username))
    if existing is not None:
        if agent_id is not None and existing.agent_id != agent_id:
            existing.agent_id = agent_id
        return False
    await create_user(
        session, username=username, password=password, roles=roles, agent_id=agent_id, created_by="SYSTEM"
    )
    return True


async def update_user(session: AsyncSession, username: str, changes: dict[str, Any], changed_by: str) -> User:
    """Apply ``changes`` (roles, agent_id, is_active) to a user; 404 when unknown. An ADMIN cannot
    take away its own ADMIN role or deactivate itself (there would be no one left to undo it)."""
    user = await session.scalar(select(User).where(User.username == username).with_for_update())
    if user is None:
        raise NotFound.of(NO_USER, username=username)
    if username == changed_by and (
        changes.get("is_active") is False or ("roles" in changes and Role.ADMIN not in changes["roles"])
    ):
        field = "roles" if "roles" in changes else "isActive"
        raise BusinessRuleViolation.of(NOT_ON_YOURSELF, errors=[NOT_ON_YOURSELF.field(field)])
    if "roles" in changes:
        user.roles = [str(r) for r in changes["roles"]]
    if "agent_id" in changes:
        user.agent_id = changes["agent_id"]
    if "is_active" in changes and changes["is_active"] is not None:
        user.is_active = changes["is_active"]
    await session.flush()
    return user

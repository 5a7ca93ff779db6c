"""Routes: tokens and users."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request, Response
from sqlalchemy import func, select

from crm.identity.settings import Settings
from crm.identity.users import service, throttle
from crm.identity.users.models import User
from crm.identity.users.schemas import Me, Token, UserCreate, UserRead, UserUpdate
from crm.platform.auth import Access, Caller, Role, SecureRouter
from crm.platform.db import Session
from crm.platform.errors import NotFound, Unauthorized
from crm.platform.problems import declare
from crm.platform.schemas import Page, Paging
from crm.platform.state import Db, Tokens

NO_LOCKOUT = declare("lockout.not_found", "No failed sign-ins are counted for {username!r}.")
NO_ADDRESS_LOCKOUT = declare(
    "lockout.address_not_found", "No failed sign-ins are counted for address {address!r}."
)

router = SecureRouter(prefix="/api/auth", tags=["auth"])
ADMIN = Access.of(Role.ADMIN)
ANY_USER = Access.of(*Role)


CLIENT_ADDRESS = "X-Client-Address"
"""The address of the person signing in, when a service (the web UI) signs in on their behalf; only
believed from a caller with a SYSTEM token, else anyone could pick a fresh address per attempt."""


def _client_address(request: Request) -> str:
    principal = getattr(request.state, "principal", None)
    forwarded = request.headers.get(CLIENT_ADDRESS, "")[:64]
    if forwarded and principal is not None and Role.SYSTEM in principal.roles:
        return forwarded
    return request.client.host if request.client else "unknown"


@router.post(
    "/token",
    access=Access.anyone(),
    response_model=Token,
    responses={
        401: {"description": "wrong username or password, or the user is not active"},
        429: {"description": "too many failed sign-ins of this username or address (Retry-After)"},
    },
)
async def issue_token(
    request: Request,
    session: Session,
    db: Db,
    settings: Settings,
    tokens: Tokens,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    grant_type: Annotated[str, Form(pattern="^password$")] = "password",
) -> Token:
    """Exchange a username and password for a bearer token (OAuth2 password grant); repeated failures
    of a username or from an address are refused for a while (429 with Retry-After)."""
    address = _client_address(request)
    await throttle.check(session, username, address)
    try:
        user = await service.authenticate(session, username, password)
    except Unauthorized:
        # Its own transaction: the request's rolls back with the 401 it answers.
        async with db.transaction() as counting:
            await throttle.failed(counting, settings.sign_in_policy(), username, address)
        raise
    await throttle.succeeded(session, username)
    token, ttl = tokens.issue(user.username, user.roles, agent_id=user.agent_id)
    return Token(access_token=token, expires_in=ttl)


@router.post("/users", access=ADMIN, status_code=201, response_model=UserRead)
async def create_user(body: UserCreate, session: Session, caller: Caller) -> User:
    """Create a login user with roles (and the agent it acts as)."""
    return await service.create_user(
        session,
        username=body.username,
        password=body.password,
        roles=[r.value for r in body.roles],
        agent_id=body.agent_id,
        created_by=caller.subject,
    )


@router.get("/users", access=ADMIN, response_model=Page[UserRead])
async def list_users(session: Session, paging: Paging) -> Page[UserRead]:
    """List login users."""
    total = await session.scalar(select(func.count()).select_from(User)) or 0
    rows = (
        await session.scalars(
            select(User).order_by(User.username).offset(paging.offset).limit(paging.page_size)
        )
    ).all()
    return Page[UserRead].of(rows, total, paging)


@router.put("/users/{username}", access=ADMIN, response_model=UserRead)
async def update_user(
    body: UserUpdate, session: Session, caller: Caller, username: Annotated[str, Path(max_length=64)]
) -> User:
    """Change a user's roles, the agent it acts as, or whether it may sign in (its next token shows it)."""
    return await service.update_user(session, username, body.model_dump(exclude_unset=True), caller.subject)


@router.delete("/users/{username}/lockout", access=ADMIN, status_code=204)
async def unlock_user(session: Session, username: Annotated[str, Path(max_length=64)]) -> Response:
    """Lift the sign-in lockout of a username (audited); 404 when it is not locked out or counted."""
    if not await throttle.unlock(session, "username", username):
        raise NotFound.of(NO_LOCKOUT, username=username)
    return Response(status_code=204)


@router.delete("/lockouts/address/{address}", access=ADMIN, status_code=204)
async def unlock_address(session: Session, address: Annotated[str, Path(max_length=64)]) -> Response:
    """Lift the sign-in lockout of a client address (audited); 404 when none is counted."""
    if not await throttle.unlock(session, "address", address):
        raise NotFound.of(NO_ADDRESS_LOCKOUT, address=address)
    return Response(status_code=204)


@router.get("/me", access=ANY_USER, response_model=Me)
async def me(caller: Caller) -> Me:
    """Who the bearer of this token is."""
    return Me(username=caller.subject, roles=sorted(caller.roles), agent_id=caller.agent_id)

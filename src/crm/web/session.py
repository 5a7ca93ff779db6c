"""Signed-in sessions of the web UI: the cookie, timeouts, CSRF tokens and who may open a page.

The cookie (``crm_session``: HttpOnly, SameSite=Strict, Secure over TLS) carries a random id; the
``web.session`` row holds the user's API token, roles and the session's CSRF token under the id's
SHA-256, so a copy of the table cannot be replayed as cookies. A session ends after
``CRM_SESSION_IDLE_MINUTES`` without a request, ``CRM_SESSION_ABSOLUTE_HOURS`` after sign-in (or
when its API token expires, if sooner), or at sign-out (the row is deleted).

Every page is declared on a :class:`PageRouter` with the roles that may open it
(``@pages.get("/team", roles=SUPERVISORS)``): the router checks the session (no session: to the
sign-in page) and the roles (403 page) before the page runs, and checks the CSRF token of every
form post (field ``csrf_token``, or header ``X-CSRF-Token`` for htmx requests). That check leaves
the viewer and the web settings on ``request.state`` for rendering the page (``crm.web.templating``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert

from crm.platform.auth import Access, Role, SecureRouter
from crm.platform.db import Database, utcnow
from crm.platform.state import Db
from crm.web.models import Preference, WebSession
from crm.web.settings import Settings, WebSettings

COOKIE = "crm_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LANGUAGES = ("vi", "en")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

AGENTS = (Role.AGENT,)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
ADMINS = (Role.ADMIN,)
STAFF = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a request."""

    username: str
    roles: frozenset[Role]
    agent_id: str | None
    token: str
    csrf_token: str
    language: str
    display_name: str | None = None
    """The agent's name for an agent; the header shows the username when absent."""

    def can(self, roles: Iterable[Role]) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_agent(self) -> bool:
        return Role.AGENT in self.roles and self.agent_id is not None


class LoginRequired(Exception):
    """No valid session: the page answers with the sign-in page (303), coming back afterwards."""

    def __init__(self, next_path: str, reason: str | None = None) -> None:
        self.next_path, self.reason = next_path, reason


class PageForbidden(Exception):
    """Signed in, but the page is not for the user's roles: the 403 page."""


class CsrfRefused(Exception):
    """A form posted without the session's CSRF token: 403, nothing done."""


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


async def sign_in(
    db: Database,
    settings: WebSettings,
    *,
    username: str,
    roles: Iterable[str],
    agent_id: str | None,
    token: str,
    token_expires_in: int,
    display_name: str | None = None,
) -> str:
    """Store a new session; the cookie value (the only copy of the session id)."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    expires = min(
        now + timedelta(hours=settings.session_absolute_hours), now + timedelta(seconds=token_expires_in)
    )
    async with db.transaction() as session:
        await session.execute(delete(WebSession).where(WebSession.expires_at < now))  # tidy up
        session.add(
            WebSession(
                id_hash=_hash(session_id),
                username=username,
                roles=" ".join(sorted(roles)),
                agent_id=agent_id,
                token=token,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
                display_name=display_name,
            )
        )
    return session_id


async def sign_out(db: Database, session_id: str | None) -> None:
    if session_id:
        async with db.transaction() as session:
            await session.execute(delete(WebSession).where(WebSession.id_hash == _hash(session_id)))


async def load(db: Database, settings: WebSettings, session_id: str | None) -> Viewer | None:
    """The session's user, if the session is still alive (and mark it used); ``None`` otherwise."""
    if not session_id:
        return None
    now = utcnow()
    async with db.transaction() as session:
        row = (
            await session.execute(
                update(WebSession)
                .where(*_alive(session_id, settings, now))
                .values(last_seen_at=now)
                .returning(
                    WebSession.username,
                    WebSession.roles,
                    WebSession.agent_id,
                    WebSession.token,
                    WebSession.csrf_token,
                    WebSession.display_name,
                )
            )
        ).one_or_none()
        if row is None:
            return None
        language = await session.scalar(
            select(Preference.language).where(Preference.username == row.username)
        )
    roles = frozenset(Role(r) for r in row.roles.split() if r in Role.__members__)
    return Viewer(
        username=row.username,
        roles=roles,
        agent_id=row.agent_id,
        token=row.token,
        csrf_token=row.csrf_token,
        language=language or settings.default_language,
        display_name=row.display_name,
    )


def _alive(session_id: str, settings: WebSettings, now: datetime) -> list[Any]:
    return [
        WebSession.id_hash == _hash(session_id),
        WebSession.expires_at > now,
        WebSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes),
    ]


async def is_alive(db: Database, settings: WebSettings, session_id: str | None) -> bool:
    """Whether the session is still alive, without counting the check as use (an open page's live
    stream must not keep an idle session alive)."""
    if not session_id:
        return False
    async with db.transaction() as session:
        found = await session.scalar(
            select(WebSession.id_hash).where(*_alive(session_id, settings, utcnow()))
        )
    return found is not None


async def remember_language(db: Database, username: str, language: str) -> None:
    statement = insert(Preference).values(username=username, language=language, updated_at=utcnow())
    async with db.transaction() as session:
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[Preference.username],
                set_={"language": statement.excluded.language, "updated_at": text("now()")},
            )
        )


def cookie_secure(request: Request, settings: WebSettings) -> bool:
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def session_id(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


async def _csrf_presented(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)  # Starlette keeps the parsed form for the page
        return value if isinstance(value, str) else None
    return None


def viewer_dependency(roles: tuple[Role, ...] | None) -> Callable[..., Any]:
    """Check the session (and its roles and CSRF token) before a page runs; the viewer."""

    async def check(request: Request, settings: Settings, db: Db) -> Viewer | None:
        request.state.settings = settings  # for rendering the page (``crm.web.templating``)
        viewer = await load(db, settings, session_id(request))
        request.state.viewer = viewer
        if roles is None:
            return viewer
        if viewer is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(path if request.method in SAFE_METHODS else "/")
        if not viewer.can(roles):
            raise PageForbidden()
        if request.method not in SAFE_METHODS:
            presented = await _csrf_presented(request)
            if not presented or not secrets.compare_digest(presented, viewer.csrf_token):
                raise CsrfRefused()
        return viewer

    return check


def current_viewer(request: Request) -> Viewer:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    assert viewer is not None, "only on pages declared with roles"
    return viewer


SignedIn = Annotated[Viewer, Depends(current_viewer)]
"""The signed-in user of a page declared with roles."""


class PageRouter(SecureRouter):
    """Pages: ``roles=`` says who may open one (``None``: anyone, e.g. the sign-in page)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        roles: tuple[Role, ...] | None = kwargs.pop("roles", None)
        if "access" in kwargs:
            raise TypeError(f"Page {path}: say roles=..., not access=")
        kwargs["access"] = Access.anyone() if roles is None else Access.session(*roles)
        kwargs["dependencies"] = [Depends(viewer_dependency(roles)), *(kwargs.get("dependencies") or [])]
        kwargs.setdefault("include_in_schema", False)
        kwargs.setdefault("response_model", None)
        super().add_api_route(path, endpoint, **kwargs)

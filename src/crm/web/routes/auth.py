"""Sign in (through the auth service), sign out, and the language switch."""

from __future__ import annotations

import os
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from crm.platform.auth import Role
from crm.platform.errors import Unauthorized
from crm.platform.state import Db, Tokens
from crm.web import session as sessions
from crm.web.backend import Backend, BackendError, WebBackend
from crm.web.i18n import N_
from crm.web.session import LANGUAGES, STAFF, LoginRequired, PageForbidden, PageRouter, SignedIn, Viewer
from crm.web.settings import Settings, WebSettings
from crm.web.templating import LANGUAGE_COOKIE, nav_for, render

router = PageRouter(tags=["web"])
LOGIN_CSRF_COOKIE = "crm_login_csrf"


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no ``//host`` or scheme): where to go after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def demo_password_file(settings: WebSettings) -> str | None:
    """Demo mode: where the demo users' password is kept (``crm up --demo`` also prints it), unless
    it was set by ``CRM_DEMO_PASSWORD``; None otherwise."""
    if not settings.demo or os.environ.get("CRM_DEMO_PASSWORD"):
        return None
    return str((settings.data_dir / "secrets" / "demo-password").resolve())


async def _display_name(backend: Backend, token: str, agent_id: str | None) -> str | None:
    """The agent's name for the header (its own record, with its own token); None when unreadable."""
    if agent_id is None:
        return None
    try:
        agent = await backend.request(
            None, "GET", f"/api/agents/{agent_id}", headers={"Authorization": f"Bearer {token}"}
        )
    except (BackendError, LoginRequired, PageForbidden):
        return None
    name = agent.get("name") if isinstance(agent, dict) else None
    return str(name) if name else None


def _login_page(
    request: Request,
    settings: WebSettings,
    *,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        next_path=next_path,
        error=error,
        login_csrf=token,
        demo_password_file=demo_password_file(settings),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=sessions.cookie_secure(request, settings),
        path="/login",
    )
    return response


@router.get("/login", roles=None)
async def login_form(
    request: Request,
    settings: Settings,
    next: str | None = None,
    reason: str | None = None,
    lang: str | None = None,
) -> Response:
    """The sign-in page (``?lang=vi|en`` switches its language before anyone is signed in)."""
    error = {"expired": N_("Your session has ended. Please sign in again.")}.get(reason or "")
    response = _login_page(request, settings, next_path=_safe_next(next), error=error)
    if lang in LANGUAGES:
        _language_cookie(response, lang)
    return response


@router.post("/login", roles=None)
async def login(
    request: Request,
    backend: WebBackend,
    tokens: Tokens,
    db: Db,
    settings: Settings,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the user with the auth service and start a session."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        raise sessions.CsrfRefused()
    if not username or not password:
        return _login_page(
            request,
            settings,
            next_path=_safe_next(next),
            error=N_("Enter your username and password."),
            status_code=422,
        )
    try:
        answer = await backend.post(
            None,
            "/api/auth/token",
            json=None,
            data={"username": username, "password": password},
            # The throttle counts the browser's address, not this server's: told as SYSTEM, so
            # that the identity service believes it.
            headers={
                "Authorization": f"Bearer {tokens.system_token('web')}",
                "X-Client-Address": request.client.host if request.client else "unknown",
            },
        )
    except BackendError as exc:
        if exc.status == 429:
            return _login_page(
                request,
                settings,
                next_path=_safe_next(next),
                error=N_("Too many failed sign-ins. Wait a few minutes, then try again."),
                status_code=429,
            )
        if exc.status in (400, 401, 422):
            return _login_page(
                request,
                settings,
                next_path=_safe_next(next),
                error=N_("Wrong username or password."),
                status_code=401,
            )
        raise
    try:
        principal = tokens.verify(answer["access_token"])
    except Unauthorized:
        return _login_page(
            request,
            settings,
            next_path=_safe_next(next),
            error=N_("Wrong username or password."),
            status_code=401,
        )
    cookie = await sessions.sign_in(
        db,
        settings,
        username=principal.subject,
        roles=[str(r) for r in principal.roles],
        agent_id=principal.agent_id,
        token=answer["access_token"],
        token_expires_in=int(answer.get("expires_in") or 3600),
        display_name=await _display_name(backend, answer["access_token"], principal.agent_id),
    )
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:  # the language picked on the sign-in page carries into the session
        await sessions.remember_language(db, principal.subject, chosen)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        secure=sessions.cookie_secure(request, settings),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", roles=STAFF)
async def logout(request: Request, db: Db) -> Response:
    """End the session (also on the server: the cookie no longer opens anything)."""
    await sessions.sign_out(db, sessions.session_id(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.post("/language", roles=STAFF)
async def choose_language(
    request: Request, viewer: SignedIn, db: Db, language: Annotated[str, Form(pattern="^(vi|en)$")]
) -> Response:
    """Switch the UI's language; remembered for the user."""
    await sessions.remember_language(db, viewer.username, language)
    back = _safe_next(request.headers.get("referer", "/").split(request.url.netloc, 1)[-1])
    response = RedirectResponse(back, status_code=303)
    _language_cookie(response, language)
    return response


def _language_cookie(response: Response, language: str) -> None:
    """The browser's language before sign-in (the sign-in page), the same as the user's choice."""
    response.set_cookie(LANGUAGE_COOKIE, language, samesite="strict", httponly=True, max_age=365 * 86400)


def landing_page(viewer: Viewer | None) -> str:
    """Where a user starts (also after signing in): an agent on My day, an admin on the admin
    overview, a supervisor on the team dashboard, anyone else on the first page they may open."""
    entries = [entry.path for entry in nav_for(viewer)]
    if viewer is None or not entries:
        return "/login"
    if viewer.is_agent:
        return "/my-day"
    for role, path in ((Role.ADMIN, "/admin"), (Role.SUPERVISOR, "/team")):
        if role in viewer.roles and path in entries:
            return path
    return entries[0]


@router.get("/", roles=None)
async def home(request: Request) -> Response:
    """The user's own start page (:func:`landing_page`), or the sign-in page."""
    return RedirectResponse(landing_page(request.state.viewer), status_code=303)


def login_redirect(next_path: str, reason: str | None = None) -> str:
    query = f"?next={quote(next_path)}" + (f"&reason={reason}" if reason else "")
    return f"/login{query}"

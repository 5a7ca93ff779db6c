"""Admin pages: the workflow's agents (``/api/agents``) and the login users (``/api/auth/users``).

Users are listed, created and edited (roles, the agent they act as, whether they may sign in:
``PUT /api/auth/users/:username``).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from crm.web.backend import Backend, BackendError, WebBackend
from crm.web.i18n import N_
from crm.web.labels import TEAMS
from crm.web.routes.admin_common import (
    AGENT_TYPES,
    LABELS,
    ROLES,
    admin_router,
    form_fields,
    form_list,
    or_none,
    pager,
    whole_number,
)
from crm.web.session import ADMINS, SignedIn, Viewer
from crm.web.templating import language_of, render

router = admin_router()


@router.get("/admin/agents", roles=ADMINS)
async def agents(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    team: str = "",
    type: str = "",
    active: str = "",
    page: int = 1,
    pageSize: int = 50,
    created: str = "",
    saved: str = "",
) -> Response:
    """Agents, paged, filtered by team, type and whether they are active."""
    team = team if team in TEAMS else ""
    type = type if type in AGENT_TYPES else ""
    active = active if active in ("true", "false") else ""
    answer = await backend.get(
        viewer,
        "/api/agents",
        team=team,
        type=type,
        isActive=active,
        page=max(page, 1),
        pageSize=min(max(pageSize, 1), 200),
    )
    return render(
        request,
        "admin/agents.html",
        agents=answer["items"],
        paging=pager(answer, "/admin/agents", team=team, type=type, active=active),
        filters={"team": team, "type": type, "active": active},
        created=created,
        saved=saved,
        labels=LABELS,
    )


def _agent_form(
    request: Request,
    *,
    agent: dict[str, Any] | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    problem: BackendError | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin/agent_form.html",
        status_code=status_code,
        agent=agent,
        values=values,
        errors=errors or {},
        problem=problem,
        labels=LABELS,
    )


def _agent_body(fields: dict[str, str], *, creating: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": fields.get("name", ""),
        "email": fields.get("email", ""),
        "phone": or_none(fields.get("phone")),
        "type": fields.get("type", ""),
        "team": fields.get("team", ""),
        "isActive": fields.get("isActive") == "true",
        "maxCustomers": whole_number(fields.get("maxCustomers", "")),  # the API checks the rest
        "userId": or_none(fields.get("userId")),
    }
    if creating:
        body["employeeId"] = fields.get("employeeId", "")
    return body


def _refused(request: Request, exc: BackendError) -> dict[str, str]:
    """The refusals by field (a conflict names the field it is about), in the viewer's language."""
    return exc.field_messages(language_of(request))


@router.get("/admin/agents/new", roles=ADMINS)
async def new_agent(request: Request) -> Response:
    return _agent_form(request, agent=None, values={"isActive": True, "type": "AGENT", "maxCustomers": 200})


@router.post("/admin/agents/new", roles=ADMINS)
async def create_agent(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Create an agent; the API's refusals are shown next to the fields."""
    fields = await form_fields(request)
    body = _agent_body(fields, creating=True)
    try:
        created = await backend.post(viewer, "/api/agents", json=body)
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            raise
        return _agent_form(
            request,
            agent=None,
            values=body,
            errors=_refused(request, exc),
            problem=exc,
            status_code=exc.status,
        )
    return RedirectResponse(f"/admin/agents?created={created['employeeId']}", status_code=303)


@router.get("/admin/agents/{agent_id}", roles=ADMINS)
async def edit_agent(
    request: Request, viewer: SignedIn, backend: WebBackend, agent_id: uuid.UUID
) -> Response:
    agent = await backend.get(viewer, f"/api/agents/{agent_id}")
    return _agent_form(request, agent=agent, values=agent)


@router.post("/admin/agents/{agent_id}", roles=ADMINS)
async def update_agent(
    request: Request, viewer: SignedIn, backend: WebBackend, agent_id: uuid.UUID
) -> Response:
    """Save an agent (``PUT /api/agents/:id``); employeeId does not change."""
    agent = await backend.get(viewer, f"/api/agents/{agent_id}")
    fields = await form_fields(request)
    body = _agent_body(fields, creating=False)
    try:
        await backend.put(viewer, f"/api/agents/{agent_id}", json=body)
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            raise
        return _agent_form(
            request,
            agent=agent,
            values=body,
            errors=_refused(request, exc),
            problem=exc,
            status_code=exc.status,
        )
    return RedirectResponse(f"/admin/agents?saved={agent['employeeId']}", status_code=303)


async def _agent_choices(backend: Backend, viewer: Viewer) -> list[dict[str, Any]]:
    answer = await backend.get(viewer, "/api/agents", isActive="true", pageSize=500)
    return list(answer["items"])


def _users_page(
    request: Request,
    answer: dict[str, Any],
    choices: list[dict[str, Any]],
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: BackendError | None = None,
    created: str = "",
    saved: str = "",
    status_code: int = 200,
) -> Response:
    names = {agent["id"]: agent["name"] for agent in choices}
    return render(
        request,
        "admin/users.html",
        status_code=status_code,
        users=answer["items"],
        paging=pager(answer, "/admin/users"),
        agents=choices,
        agent_names=names,
        values=values or {"roles": ["AGENT"]},
        errors=errors or {},
        problem=problem,
        created=created,
        saved=saved,
        roles=[role for role in ROLES if role != "SYSTEM"],
        labels=LABELS,
    )


@router.get("/admin/users", roles=ADMINS)
async def users(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    page: int = 1,
    pageSize: int = 50,
    created: str = "",
    saved: str = "",
) -> Response:
    """Login users with their roles and agent, and a form to create one."""
    answer = await backend.get(
        viewer, "/api/auth/users", page=max(page, 1), pageSize=min(max(pageSize, 1), 200)
    )
    return _users_page(request, answer, await _agent_choices(backend, viewer), created=created, saved=saved)


@router.post("/admin/users", roles=ADMINS)
async def create_user(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Create a login user (``POST /api/auth/users``)."""
    fields = await form_fields(request)
    body = {
        "username": fields.get("username", ""),
        "password": fields.get("password", ""),
        "roles": [role for role in await form_list(request, "roles") if role in ROLES],
        "agentId": or_none(fields.get("agentId")),
    }
    try:
        await backend.post(viewer, "/api/auth/users", json=body)
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            raise
        language = language_of(request)
        errors = exc.field_messages(language) or (
            {"username": exc.message(language)} if exc.status == 409 else {}
        )
        answer = await backend.get(viewer, "/api/auth/users")
        kept = {**body, "password": ""}  # a password is never sent back to the browser
        choices = await _agent_choices(backend, viewer)
        return _users_page(
            request, answer, choices, values=kept, errors=errors, problem=exc, status_code=exc.status
        )
    return RedirectResponse(f"/admin/users?created={body['username']}", status_code=303)


def _user_form(
    request: Request,
    user: dict[str, Any],
    choices: list[dict[str, Any]],
    *,
    errors: dict[str, str] | None = None,
    problem: BackendError | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin/user_form.html",
        status_code=status_code,
        user=user,
        agents=choices,
        errors=errors or {},
        problem=problem,
        roles=[role for role in ROLES if role != "SYSTEM"],
        labels=LABELS,
    )


async def _user(backend: Backend, viewer: Viewer, username: str) -> dict[str, Any]:
    """The user from identity's list (it has no single-user read); 404 page when unknown."""
    page = 1
    while True:
        answer = await backend.get(viewer, "/api/auth/users", page=page, pageSize=500)
        found = next((u for u in answer["items"] if u["username"] == username), None)
        if found is not None:
            return dict(found)
        if page * 500 >= int(answer["total"]):
            raise BackendError(404, N_("No such user"), username)
        page += 1


@router.get("/admin/users/{username}", roles=ADMINS)
async def edit_user(request: Request, viewer: SignedIn, backend: WebBackend, username: str) -> Response:
    """A user's roles, agent and sign-in, to change."""
    user = await _user(backend, viewer, username)
    return _user_form(request, user, await _agent_choices(backend, viewer))


@router.post("/admin/users/{username}", roles=ADMINS)
async def save_user(request: Request, viewer: SignedIn, backend: WebBackend, username: str) -> Response:
    """Save a user's roles, agent and sign-in (``PUT /api/auth/users/:username``)."""
    fields = await form_fields(request)
    body = {
        "roles": [role for role in await form_list(request, "roles") if role in ROLES],
        "agentId": or_none(fields.get("agentId")),
        "isActive": fields.get("isActive") == "on",
    }
    try:
        await backend.put(viewer, f"/api/auth/users/{quote(username, safe='')}", json=body)
    except BackendError as exc:
        if exc.status not in (400, 422):
            raise
        user = {**await _user(backend, viewer, username), **body}
        choices = await _agent_choices(backend, viewer)
        return _user_form(
            request, user, choices, errors=_refused(request, exc), problem=exc, status_code=exc.status
        )
    return RedirectResponse(f"/admin/users?saved={quote(username)}", status_code=303)

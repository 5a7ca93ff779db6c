"""Rendering pages: Jinja2 templates with the viewer's language, money and date filters, navigation.

``render(request, "my_day.html", queue=...)`` gives every template ``viewer``, ``_`` (gettext in
the viewer's language), ``csrf_token``, ``nav`` (only the entries the viewer's roles may open) and
the filters ``money``, ``number``, ``when``, ``day``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from crm.platform.auth import Role
from crm.web import i18n, labels
from crm.web.i18n import N_
from crm.web.session import ADMINS, AGENTS, STAFF, SUPERVISORS, Viewer
from crm.web.settings import WebSettings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["money"] = i18n.money
TEMPLATES.env.filters["number"] = i18n.number
TEMPLATES.env.globals["vocab_label"] = labels.vocabulary_label_here
TEMPLATES.env.globals["segment_label"] = labels.segment_label
TEMPLATES.env.globals["assignment_reason"] = labels.assignment_reason


@dataclass(frozen=True)
class NavEntry:
    path: str
    label: str  # message id, translated when rendered
    roles: tuple[Role, ...]


NAVIGATION = (
    NavEntry("/my-day", N_("My day"), AGENTS),
    NavEntry("/customers", N_("Customers"), STAFF),
    NavEntry("/team", N_("Team"), SUPERVISORS),
    NavEntry("/assignments", N_("Assignments"), SUPERVISORS),
    NavEntry("/admin", N_("Admin"), ADMINS),
)


def nav_for(viewer: Viewer | None) -> list[NavEntry]:
    return [entry for entry in NAVIGATION if viewer is not None and viewer.can(entry.roles)]


LANGUAGE_COOKIE = "crm_lang"


def _settings(request: Request) -> WebSettings:
    """The web settings the page's session check was given (``crm.web.session``)."""
    settings: WebSettings | None = getattr(request.state, "settings", None)
    assert settings is not None, "only on pages of a PageRouter"
    return settings


def language_of(request: Request) -> str:
    """The signed-in user's language; before sign-in, the one chosen on the sign-in page."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if viewer is not None:
        return viewer.language
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in i18n.LOCALES:
        return chosen
    return _settings(request).default_language


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    language = language_of(request)
    tz = _settings(request).tz
    values = {
        "viewer": viewer,
        "language": language,
        "_": i18n.gettext_for(language),
        "csrf_token": viewer.csrf_token if viewer else "",
        "nav": nav_for(viewer),
        "when": lambda value: i18n.when(value, tz, language),
        "day": lambda value: i18n.day(value, language),
        "current_path": request.url.path,
        **context,
    }
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"

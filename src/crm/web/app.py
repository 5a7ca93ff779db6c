"""The web UI deployable (``crm serve web``; under ``crm up`` it answers every path the APIs don't)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from crm.platform.service import ServiceSpec, create_service_app
from crm.web.backend import Backend, BackendError
from crm.web.i18n import N_
from crm.web.models import Base
from crm.web.notifications import follow_events, stop_following
from crm.web.problems import explain_fields
from crm.web.routes import actions, admin, assignments, customers, my_day, team
from crm.web.routes.auth import login_redirect
from crm.web.routes.auth import router as auth_router
from crm.web.session import CsrfRefused, LoginRequired, PageForbidden
from crm.web.settings import WebSettings
from crm.web.templating import is_htmx, language_of, render

HERE = Path(__file__).parent
ASSETS = HERE / "assets" / "node_modules"


async def _open_backend(app: FastAPI) -> None:
    app.state.backend = Backend(app)


async def _close_backend(app: FastAPI) -> None:
    backend: Backend | None = getattr(app.state, "backend", None)
    if backend is not None:
        await backend.close()


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="web",
        title="Collection CRM - web UI",
        package="crm.web",
        metadata=Base.metadata,
        routers=[
            auth_router,
            my_day.router,
            customers.router,
            actions.router,
            team.router,
            assignments.router,
            admin.router,
        ],
        on_startup=[_open_backend, follow_events],
        on_shutdown=[stop_following, _close_backend],
    )


def _install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = login_redirect(exc.next_path, exc.reason)
        if is_htmx(request):  # a partial update cannot show the sign-in page: the whole window goes
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, exc: PageForbidden) -> Response:
        return render(
            request,
            "error.html",
            status_code=403,
            code=403,
            message=N_("This page is not available for your role."),
        )

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return render(
            request,
            "error.html",
            status_code=403,
            code=403,
            message=N_("The form has expired. Reload the page and try again."),
        )

    @app.exception_handler(BackendError)
    async def backend_error(request: Request, exc: BackendError) -> Response:
        status = exc.status if 400 <= exc.status < 600 else 502
        template = "partials/error.html" if is_htmx(request) else "error.html"
        language = language_of(request)  # the problem by its code, never the API's English wording
        detail = " ".join(explain_fields(exc.field_codes(), language))
        return render(
            request, template, status_code=status, code=status, message=exc.message(language), detail=detail
        )


def create_app(
    settings: WebSettings | None = None, *, migrate: bool = False, standalone: bool = True
) -> FastAPI:
    """The web UI's only entry point."""
    app = create_service_app(spec(), settings or WebSettings(), migrate=migrate, standalone=standalone)
    _install_page_errors(app)
    app.mount("/static/web", StaticFiles(directory=HERE / "static"), name="web-static")
    app.mount("/static/vendor", StaticFiles(directory=ASSETS, check_dir=False), name="web-vendor")
    return app

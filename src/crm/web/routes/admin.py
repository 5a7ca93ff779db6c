"""Pages: the administrator's screens under ``/admin`` (ADMIN only).

The index links to each screen; the screens live in ``admin_*.py`` and their routes are gathered
here, so that ``app.py`` registers one ``router``. Everything goes through the services' APIs with
the admin's own token.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from crm.web.backend import BackendError, WebBackend
from crm.web.i18n import N_
from crm.web.problems import explain_fields
from crm.web.routes import (
    admin_agents,
    admin_consumers,
    admin_dead_letters,
    admin_payments,
    admin_sync,
    admin_vocabularies,
)
from crm.web.routes.admin_common import ROLES, pager
from crm.web.routes.admin_texts import RECORD_TYPES, admin_texts
from crm.web.session import ADMINS, PageRouter, SignedIn
from crm.web.templating import language_of, render

router = PageRouter(tags=["web"])


@router.get("/admin", roles=ADMINS)
async def admin_index(request: Request) -> Response:
    """Links to every admin screen."""
    return render(request, "admin/index.html")


AUDIT_SOURCES = {
    "workflow": ("/api/workflow/audit", N_("Collection workflow")),
    "bank-sync": ("/api/bank-sync/audit", N_("Bank synchronization")),
    "payments": ("/api/payments/audit", N_("Payments")),
    "identity": ("/api/auth/audit", N_("Users and sign-in")),
}
AUDIT_FILTERS = ("actor", "entityType", "entityKey", "action", "from", "to")


@router.get("/admin/audit", roles=ADMINS)
async def audit(
    request: Request, viewer: SignedIn, backend: WebBackend, service: str = "workflow", page: int = 1
) -> Response:
    """One service's audit trail (each service keeps its own), newest first, with filters."""
    source = service if service in AUDIT_SOURCES else "workflow"
    filters = {k: request.query_params.get(k, "").strip() for k in AUDIT_FILTERS}
    error: list[str] | None = None
    answer: dict[str, Any] = {"items": [], "total": 0, "page": 1, "pageSize": 50}
    try:
        answer = await backend.get(
            viewer, AUDIT_SOURCES[source][0], page=max(page, 1), pageSize=50, **filters
        )
    except BackendError as exc:
        if exc.status not in (400, 422):
            raise
        language = language_of(request)
        error = explain_fields(exc.field_codes(), language) or [exc.message(language)]
    return render(
        request,
        "admin/audit.html",
        record_types=RECORD_TYPES,
        roles=ROLES,
        texts=admin_texts(viewer.language),
        sources=AUDIT_SOURCES,
        source=source,
        filters=filters,
        entries=answer["items"],
        error=error,
        paging=pager(answer, "/admin/audit", service=source, **filters),
    )


for _screen in (
    admin_agents,
    admin_vocabularies,
    admin_sync,
    admin_payments,
    admin_dead_letters,
    admin_consumers,
):
    router.routes.extend(_screen.router.routes)  # each route keeps its own role and CSRF checks

"""Pages: the administrator's screens under ``/admin`` (ADMIN only).

The index links to each screen; the screens live in ``admin_*.py`` and their routes are gathered
here, so that ``app.py`` registers one ``router``. Everything goes through the services' APIs with
the admin's own token.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from crm.web.routes import admin_agents, admin_payments, admin_sync, admin_vocabularies
from crm.web.session import ADMINS, PageRouter
from crm.web.templating import render

router = PageRouter(tags=["web"])


@router.get("/admin", roles=ADMINS)
async def admin_index(request: Request) -> Response:
    """Links to every admin screen."""
    return render(request, "admin/index.html")


@router.get("/admin/audit", roles=ADMINS)
async def audit(request: Request) -> Response:
    """The audit log: no service exposes its audit trail over HTTP yet, so nothing is shown."""
    return render(request, "admin/audit.html")


for _screen in (admin_agents, admin_vocabularies, admin_sync, admin_payments):
    router.routes.extend(_screen.router.routes)  # each route keeps its own role and CSRF checks

"""Admin page: each service's event consumers, the events waiting for each and how old the oldest is
(what the service's ``/health/ready`` and ``/metrics`` say, read from its ``<prefix>/consumers``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from crm.web.backend import BackendError, WebBackend
from crm.web.i18n import N_
from crm.web.routes.admin_common import admin_router
from crm.web.session import ADMINS, SignedIn
from crm.web.templating import render

router = admin_router()

SERVICES = {
    "workflow": ("/api/workflow/consumers", N_("Collection workflow")),
    "bank-sync": ("/api/bank-sync/consumers", N_("Bank synchronization")),
    "payments": ("/api/payments/consumers", N_("Payments")),
    "identity": ("/api/auth/consumers", N_("Users and sign-in")),
}
STATUSES = {"ok": N_("Up to date"), "behind": N_("Behind"), "unknown": N_("Unknown")}


@router.get("/admin/consumers", roles=ADMINS)
async def consumers(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Every service's consumers with their pending events and lag (a service that cannot answer, said so)."""
    services: list[dict[str, Any]] = []
    for key, (path, label) in SERVICES.items():
        try:
            answer = await backend.get(viewer, path)
        except BackendError:
            services.append({"key": key, "label": label, "reachable": False, "consumers": []})
            continue
        services.append({"key": key, "label": label, "reachable": True, **answer})
    return render(request, "admin/consumers.html", services=services, statuses=STATUSES)

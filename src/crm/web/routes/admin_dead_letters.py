"""Admin page: the events consumers gave up on, per service, with their error and masked payload,
replayed one by one or all at once (each replay is audited by the service that owns it)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from crm.web.backend import BackendError, WebBackend
from crm.web.i18n import N_
from crm.web.routes.admin_common import admin_router, form_fields
from crm.web.session import ADMINS, SignedIn
from crm.web.templating import render

router = admin_router()

SERVICES = {
    "workflow": ("/api/workflow/dead-letters", N_("Collection workflow")),
    "bank-sync": ("/api/bank-sync/dead-letters", N_("Bank synchronization")),
    "payments": ("/api/payments/dead-letters", N_("Payments")),
    "identity": ("/api/auth/dead-letters", N_("Users and sign-in")),
}


@router.get("/admin/dead-letters", roles=ADMINS)
async def dead_letters(
    request: Request, viewer: SignedIn, backend: WebBackend, replayed: str = "", missing: str = ""
) -> Response:
    """Every service's dead letters, oldest first."""
    letters = []
    for key, (path, _label) in SERVICES.items():
        for letter in await backend.get(viewer, path):
            letters.append({**letter, "serviceKey": key})
    return render(
        request,
        "admin/dead_letters.html",
        letters=letters,
        services=SERVICES,
        replayed=replayed,
        missing=missing,
    )


@router.post("/admin/dead-letters/replay", roles=ADMINS)
async def replay(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Replay one dead letter (``sequence``) or all of a service (``all``), then back to the list."""
    fields = await form_fields(request)
    service = fields.get("service", "")
    if service not in SERVICES:
        return RedirectResponse("/admin/dead-letters", status_code=303)
    path = SERVICES[service][0]
    sequence = fields.get("sequence", "")
    try:
        if sequence.isascii() and sequence.isdigit():
            await backend.post(viewer, f"{path}/{int(sequence)}/replay")
            done = 1
        else:
            done = len((await backend.post(viewer, f"{path}/replay"))["replayed"])
    except BackendError as exc:
        if exc.status != 404:
            raise
        return RedirectResponse(f"/admin/dead-letters?missing={sequence}", status_code=303)
    return RedirectResponse(f"/admin/dead-letters?replayed={done}", status_code=303)

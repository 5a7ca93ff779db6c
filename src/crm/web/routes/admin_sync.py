"""Admin pages: bank-sync's sources, asking for a run, following it and browsing its rejected rows."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from crm.web.backend import Backend, BackendError, WebBackend
from crm.web.i18n import gettext_for
from crm.web.routes.admin_common import (
    ACTIVE_RUN_STATES,
    ENTITIES,
    LABELS,
    SOURCES,
    admin_router,
    form_fields,
    pager,
)
from crm.web.routes.admin_texts import admin_texts
from crm.web.session import ADMINS, SignedIn, Viewer
from crm.web.templating import render

router = admin_router()


async def _sync_page(
    request: Request,
    backend: Backend,
    viewer: Viewer,
    *,
    problem: str = "",
    queued: str = "",
    status_code: int = 200,
) -> Response:
    status = await backend.get(viewer, "/api/sync/status")
    sources = [
        {**source, "lastRun": _with_rejected(source["lastRun"]) if source.get("lastRun") else None}
        for source in status["sources"]
    ]
    return render(
        request,
        "admin/sync.html",
        status_code=status_code,
        sources=sources,
        source_codes=SOURCES,
        problem=problem,
        queued=queued,
        active=ACTIVE_RUN_STATES,
        labels=LABELS,
        texts=admin_texts(viewer.language),
    )


def _with_rejected(run: dict[str, Any]) -> dict[str, Any]:
    """The run with ``rejectedRows``: its entities' rejected rows together (a success with rejected
    rows is shown as a warning, not as a plain success)."""
    counts = run.get("counts") or {}
    rejected = sum(int(c.get("rejected") or 0) for c in counts.values() if isinstance(c, dict))
    return {**run, "rejectedRows": rejected}


@router.get("/admin/sync", roles=ADMINS)
async def sync_status(request: Request, viewer: SignedIn, backend: WebBackend, queued: str = "") -> Response:
    """Each source's last run and entities, and the form that asks for a new run."""
    return await _sync_page(request, backend, viewer, queued=queued)


@router.post("/admin/sync/run", roles=ADMINS)
async def request_run(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Queue a run (``POST /api/sync/run``) and go to it; a refusal (409: one is running) in words."""
    fields = await form_fields(request)
    body: dict[str, Any] = {}
    source = fields.get("sourceSystem", "")
    if source in SOURCES:
        body["sourceSystem"] = source
    business_date = fields.get("businessDate", "")
    if business_date:
        try:
            body["businessDate"] = date.fromisoformat(business_date).isoformat()
        except ValueError:
            problem = gettext_for(viewer.language)("The business date is not a valid date.")
            return await _sync_page(request, backend, viewer, problem=problem, status_code=422)
    try:
        queued = await backend.post(viewer, "/api/sync/run", json=body)
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            raise
        _ = gettext_for(viewer.language)
        if exc.code == "sync.already_running":
            problem = _(
                "A run for %(source)s is already queued or running. Wait for it to end, then try again.",
                source=source or _("All sources"),
            )
        else:
            problem = exc.message(viewer.language)
        return await _sync_page(request, backend, viewer, problem=problem, status_code=exc.status)
    if isinstance(queued, list):
        return RedirectResponse(f"/admin/sync?queued={len(queued)}", status_code=303)
    return RedirectResponse(f"/admin/sync/runs/{queued['runId']}", status_code=303)


COUNT_COLUMNS = ("read", "inserted", "updated", "unchanged", "rejected", "stale")


def _counts(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's counts per entity (state, rows read, inserted, ..., and why an entity failed)."""
    counts = run.get("counts") or {}
    lines = []
    for entity in ENTITIES:
        found = counts.get(entity)
        if isinstance(found, dict):
            lines.append(
                {
                    "entity": entity,
                    "state": found.get("state"),
                    "error": found.get("error"),
                    **{column: found.get(column) for column in COUNT_COLUMNS},
                }
            )
    return lines


@router.get("/admin/sync/runs/{run_id}", roles=ADMINS)
async def run_page(request: Request, viewer: SignedIn, backend: WebBackend, run_id: uuid.UUID) -> Response:
    """One run; while it is queued or running its state refreshes itself every 2 seconds."""
    run = _with_rejected(await backend.get(viewer, f"/api/sync/runs/{run_id}"))
    return render(
        request,
        "admin/sync_run.html",
        run=run,
        counts=_counts(run),
        active=ACTIVE_RUN_STATES,
        labels=LABELS,
        texts=admin_texts(viewer.language),
    )


@router.get("/admin/sync/runs/{run_id}/state", roles=ADMINS)
async def run_state(request: Request, viewer: SignedIn, backend: WebBackend, run_id: uuid.UUID) -> Response:
    """The run's state block (polled by the run page with htmx)."""
    run = _with_rejected(await backend.get(viewer, f"/api/sync/runs/{run_id}"))
    return render(
        request,
        "admin/_run_state.html",
        run=run,
        counts=_counts(run),
        active=ACTIVE_RUN_STATES,
        labels=LABELS,
        texts=admin_texts(viewer.language),
    )


@router.get("/admin/sync/runs/{run_id}/rejects", roles=ADMINS)
async def rejects(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    run_id: uuid.UUID,
    entityType: str = "",
    page: int = 1,
    pageSize: int = 50,
) -> Response:
    """The rows a run did not load: entity, line, reason and the row as delivered."""
    entity = entityType if entityType in ENTITIES else ""
    run = await backend.get(viewer, f"/api/sync/runs/{run_id}")
    answer = await backend.get(
        viewer,
        f"/api/sync/runs/{run_id}/rejects",
        entityType=entity,
        page=max(page, 1),
        pageSize=min(max(pageSize, 1), 200),
    )
    items = [
        {**item, "row_text": json.dumps(item.get("row"), ensure_ascii=False, indent=1)}
        for item in answer["items"]
    ]
    return render(
        request,
        "admin/sync_rejects.html",
        run=run,
        rejects=items,
        entity=entity,
        entities=ENTITIES,
        paging=pager(answer, f"/admin/sync/runs/{run_id}/rejects", entityType=entity),
        labels=LABELS,
        texts=admin_texts(viewer.language),
    )

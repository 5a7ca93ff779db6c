"""Admin pages: the workflow's vocabularies (action types, subtypes, results, case statuses)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from crm.web.backend import Backend, BackendError, WebBackend
from crm.web.routes.admin_common import LABELS, admin_router, form_fields, or_none, whole_number
from crm.web.session import ADMINS, SignedIn, Viewer
from crm.web.templating import language_of, render

router = admin_router()
CASE_STATUS_FIELDS = {
    "customerStatus": "CUSTOMER_STATUS",
    "collateralStatus": "COLLATERAL_STATUS",
    "processingStateStatus": "PROCESSING_STATE_STATUS",
    "lendingViolationStatus": "LENDING_VIOLATION_STATUS",
    "recoveryAbilityStatus": "RECOVERY_ABILITY_STATUS",
}


def _groups(vocabularies: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every entry by kind, in the order of ``VOCABULARY_KINDS``."""
    groups: dict[str, list[dict[str, Any]]] = {
        "ACTION_TYPE": vocabularies["actionTypes"],
        "ACTION_SUBTYPE": vocabularies["actionSubtypes"],
        "ACTION_RESULT": vocabularies["actionResults"],
    }
    for field, kind in CASE_STATUS_FIELDS.items():
        groups[kind] = vocabularies["caseStatuses"].get(field, [])
    return groups


async def _page(
    request: Request,
    backend: Backend,
    viewer: Viewer,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    done: str = "",
    status_code: int = 200,
) -> Response:
    vocabularies = await backend.get(viewer, "/api/vocabularies", includeInactive="true")
    return render(
        request,
        "admin/vocabularies.html",
        status_code=status_code,
        groups=_groups(vocabularies),
        types=vocabularies["actionTypes"],
        values=values or {"kind": "ACTION_RESULT", "sortOrder": 0},
        errors=errors or {},
        problem=problem,
        done=done,
        labels=LABELS,
    )


FORM_FIELDS = {"en": "label", "vi": "labelVi"}
"""The form's name of a field the API names ``labels.en`` / ``labels.vi``."""


def _form_errors(exc: BackendError, language: str) -> dict[str, str]:
    return {FORM_FIELDS.get(name, name): text for name, text in exc.field_messages(language).items()}


def _flags(fields: dict[str, str]) -> dict[str, Any]:
    """The form's fields as the API's body; both labels are required by the form (``labels``)."""
    return {
        "label": fields.get("label", ""),
        "labels": {"en": fields.get("label", ""), "vi": fields.get("labelVi", "")},
        "isPromise": fields.get("isPromise") == "true",
        "isContact": fields.get("isContact") == "true",
        "followUpDays": whole_number(fields.get("followUpDays")),
        "sortOrder": whole_number(fields.get("sortOrder")) or 0,
    }


@router.get("/admin/vocabularies", roles=ADMINS)
async def vocabularies(request: Request, viewer: SignedIn, backend: WebBackend, done: str = "") -> Response:
    """Every vocabulary with its entries (retired ones too), and forms to add and link entries."""
    return await _page(request, backend, viewer, done=done)


@router.post("/admin/vocabularies", roles=ADMINS)
async def create_entry(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    fields = await form_fields(request)
    body = {
        "kind": fields.get("kind", ""),
        "code": fields.get("code", ""),
        **_flags(fields),
        "parentType": or_none(fields.get("parentType")),
    }
    try:
        await backend.post(viewer, "/api/vocabularies", json=body)
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            raise
        language = language_of(request)
        errors = _form_errors(exc, language) or ({"code": exc.message(language)} if exc.status == 409 else {})
        return await _page(
            request,
            backend,
            viewer,
            values=body,
            errors=errors,
            problem=exc.message(language),
            status_code=exc.status,
        )
    return RedirectResponse(f"/admin/vocabularies?done={quote(body['code'])}", status_code=303)


def _entry_path(kind: str, code: str) -> str:
    return f"/api/vocabularies/{quote(kind, safe='')}/{quote(code, safe='')}"


async def _entry(backend: Backend, viewer: Viewer, kind: str, code: str) -> dict[str, Any]:
    vocabularies = await backend.get(viewer, "/api/vocabularies", includeInactive="true")
    for entry in _groups(vocabularies).get(kind, []):
        if entry["code"] == code:
            return dict(entry)
    raise BackendError(404, "Not found", f"No entry {code} in {kind}.")


def _edit_page(
    request: Request,
    entry: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin/vocabulary_entry.html",
        status_code=status_code,
        entry=entry,
        values=values,
        errors=errors or {},
        problem=problem,
        labels=LABELS,
    )


@router.get("/admin/vocabularies/{kind}/{code}", roles=ADMINS)
async def edit_entry(
    request: Request, viewer: SignedIn, backend: WebBackend, kind: str, code: str
) -> Response:
    entry = await _entry(backend, viewer, kind, code)
    return _edit_page(request, entry, entry)


@router.post("/admin/vocabularies/{kind}/{code}", roles=ADMINS)
async def update_entry(
    request: Request, viewer: SignedIn, backend: WebBackend, kind: str, code: str
) -> Response:
    """Save an entry's label, flags, order and whether it is active (``PUT``)."""
    entry = await _entry(backend, viewer, kind, code)
    fields = await form_fields(request)
    body = {**_flags(fields), "isActive": fields.get("isActive") == "true"}
    if kind != "ACTION_RESULT":  # the flags mean something only for results: left as they are
        body = {key: body[key] for key in ("label", "labels", "sortOrder", "isActive")}
    try:
        await backend.put(viewer, _entry_path(kind, code), json=body)
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            raise
        return _edit_page(
            request,
            entry,
            {**entry, **body},
            _form_errors(exc, language_of(request)),
            exc.message(language_of(request)),
            exc.status,
        )
    return RedirectResponse(f"/admin/vocabularies?done={quote(code)}", status_code=303)


@router.post("/admin/vocabularies/{kind}/{code}/retire", roles=ADMINS)
async def retire_entry(
    request: Request, viewer: SignedIn, backend: WebBackend, kind: str, code: str
) -> Response:
    """Retire an entry (``DELETE``: it stays on the records that use it)."""
    await backend.request(viewer, "DELETE", _entry_path(kind, code))
    return RedirectResponse(f"/admin/vocabularies?done={quote(code)}", status_code=303)


@router.post("/admin/vocabularies/links", roles=ADMINS)
async def link(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Allow (or no longer allow) a subtype or result with an action type."""
    fields = await form_fields(request)
    type_code, kind, code = fields.get("type", ""), fields.get("kind", ""), fields.get("code", "")
    path = (
        f"/api/vocabularies/ACTION_TYPE/{quote(type_code, safe='')}/links/"
        f"{quote(kind, safe='')}/{quote(code, safe='')}"
    )
    method = "DELETE" if fields.get("unlink") == "true" else "POST"
    try:
        await backend.request(viewer, method, path)
    except BackendError as exc:
        if exc.status not in (400, 404, 409, 422):
            raise
        return await _page(
            request, backend, viewer, problem=exc.message(language_of(request)), status_code=exc.status
        )
    return RedirectResponse(f"/admin/vocabularies?done={quote(type_code)}", status_code=303)

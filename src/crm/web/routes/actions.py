"""Pages: record an action on a customer (with its promise) and update the customer's case status.

Both are partials of the customer 360 page (loaded there by htmx) and also full pages when opened
directly. Everything goes through the workflow API with the user's own token: ``POST /api/actions``
checks the vocabularies, the promise horizon and the contact rules; its refusals (422, per field) are
turned into sentences shown next to the field they concern.

Who records: an AGENT records as itself (its ``agentId``); a SUPERVISOR or ADMIN chooses the agent
(the customer's current call agent, else field agent, is preselected) and may tick "override the
contact rules" (``overrideContactRules``, which the API allows them only).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from crm.platform.auth import Role
from crm.platform.state import BusinessZone
from crm.web.backend import Backend, BackendError, WebBackend
from crm.web.i18n import N_, gettext_for, money
from crm.web.i18n import day as format_day
from crm.web.problems import explain, has_text
from crm.web.session import SUPERVISORS, PageRouter, SignedIn, Viewer
from crm.web.templating import is_htmx, language_of, render

router = PageRouter(tags=["web"])

RECORDERS = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
CASE_FIELDS = (
    ("customerStatus", "Customer status"),
    ("collateralStatus", "Collateral status"),
    ("processingStateStatus", "Processing state"),
    ("lendingViolationStatus", "Lending violation"),
    ("recoveryAbilityStatus", "Recovery ability"),
)
FORM_FIELDS = (
    "agentId",
    "type",
    "subtype",
    "actionResult",
    "loanAccountNumber",
    "promiseAmount",
    "promiseDate",
    "actionDate",
    "notes",
    "visitLatitude",
    "visitLongitude",
    "visitAddress",
    "overrideContactRules",
    "idempotencyKey",
)
ERROR_FIELDS = {*FORM_FIELDS, "cif", "form"}


# --- money and dates typed by people -------------------------------------------------------------

_GROUPED_DOTS = re.compile(r"^\d{1,3}(\.\d{3})+(,\d{1,2})?$")
_GROUPED_COMMAS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d{1,2})?$")
_PLAIN = re.compile(r"^\d+([.,]\d{1,2})?$")


def parse_amount(typed: str) -> Decimal | None:
    """The amount a person typed (``1.250.000``, ``1 250 000 ₫``, ``1250000,50``), or ``None``.

    Dots are thousands separators in VND style (comma for decimals); ``1,250,000.50`` is read too.
    """
    text = re.sub(r"[\s\u00a0]|₫|đ|VND", "", typed.strip(), flags=re.IGNORECASE)
    if _GROUPED_DOTS.match(text):
        text = text.replace(".", "").replace(",", ".")
    elif _GROUPED_COMMAS.match(text):
        text = text.replace(",", "")
    elif _PLAIN.match(text):
        text = text.replace(",", ".")
    else:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def business_moment(typed: str, tz: ZoneInfo) -> datetime | None:
    """A ``datetime-local`` value read in the business time zone (aware), or ``None``."""
    try:
        naive = datetime.fromisoformat(typed)
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=tz)


# --- refusals in words a person understands --------------------------------------------------------

FIELD_PROMPTS = {
    "actionDate": N_("Enter the date and time of the action."),
    "type": N_("Choose a type of action."),
    "promiseDate": N_("Enter the date the customer promised to pay."),
    "promiseAmount": N_("Enter the promised amount."),
    "actionResult": N_("Choose a result."),
    "subtype": N_("This subtype cannot be chosen for this type of action."),
    "loanAccountNumber": N_("This loan is not a loan of the customer."),
    "agentId": N_("Choose an active agent."),
    "visitLatitude": N_("Enter a latitude between -90 and 90 and a longitude between -180 and 180."),
    "visitLongitude": N_("Enter a latitude between -90 and 90 and a longitude between -180 and 180."),
    "visitAddress": N_("The address is too long (at most 500 characters)."),
    "notes": N_("The notes are too long (at most 4000 characters)."),
    "cif": N_("This customer is not in the bank data."),
}
"""What to do about a field whose error has no rule of its own (a missing or malformed value)."""

BY_FIELD = {
    ("promiseDate", "promise.not_a_promise"): N_("Only a promise to pay has a promise date."),
    ("promiseAmount", "promise.not_a_promise"): N_("Only a promise to pay has an amount."),
    ("promiseAmount", "field.greater_than"): N_("The amount must be greater than 0."),
}
"""Where one code reads better said for the field it is about."""


def friendly(field_name: str, code: str, params: Mapping[str, Any], language: str, today: date) -> str:
    """The API's refusal of a field (its code and params), said for the person filling the form."""
    _ = gettext_for(language)
    if (field_name, code) in BY_FIELD:
        return _(BY_FIELD[field_name, code])
    if code == "contact.calls_exhausted" and params.get("day") == today.isoformat():
        return _("This customer has already been called %(made)s times today.", made=params.get("made"))
    if has_text(code) and not code.startswith("field."):
        return explain(code, params, language)
    if field_name in FIELD_PROMPTS:
        return _(FIELD_PROMPTS[field_name])
    return explain(code, params, language)


def case_friendly(field_name: str, code: str, params: Mapping[str, Any], language: str) -> str:
    _ = gettext_for(language)
    if field_name == "notes":
        return _("The notes are too long (at most 4000 characters).")
    if field_name in {name for name, _label in CASE_FIELDS}:
        return _("Choose a value from the list.")
    return explain(code, params, language)


_KEY = re.compile(r"^[0-9a-f-]{36}$")
"""A form's idempotency key: a UUID made when the (fresh) form is drawn, kept while it is refused."""


# --- the data a form needs -------------------------------------------------------------------------


@dataclass
class ActionForm:
    cif: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notice: str | None = None


def _is_supervisor(viewer: Viewer) -> bool:
    return viewer.can(SUPERVISORS)


def _first(items: list[dict[str, Any]], code: str | None) -> dict[str, Any] | None:
    return next((item for item in items if item["code"] == code), None)


async def _action_context(backend: Backend, viewer: Viewer, form: ActionForm) -> dict[str, Any]:
    vocab = await backend.reference(viewer, "/api/vocabularies")
    types: list[dict[str, Any]] = vocab["actionTypes"]
    values = form.values
    chosen_type = _first(types, values.get("type")) or _first(types, "CALL") or (types[0] if types else None)
    if chosen_type is not None:
        values["type"] = chosen_type["code"]
    subtypes = chosen_type["subtypes"] if chosen_type else []
    results = chosen_type["results"] if chosen_type else []
    if not _first(subtypes, values.get("subtype")):
        values["subtype"] = ""
    result = _first(results, values.get("actionResult"))
    loans = (await backend.get(viewer, f"/api/customers/{quote(form.cif)}/loans", pageSize=100))["items"]
    if "loanAccountNumber" not in values and loans:
        worst = max(loans, key=lambda loan: (loan.get("dpd") or 0, loan.get("dueAmount") or "0"))
        values["loanAccountNumber"] = worst["accountNumber"]
    agents: list[dict[str, Any]] = []
    if _is_supervisor(viewer):
        agents = (await backend.get(viewer, "/api/agents", isActive="true", pageSize=500))["items"]
        if not values.get("agentId"):
            values["agentId"] = await _current_agent(backend, viewer, form.cif) or ""
    if not _KEY.match(values.get("idempotencyKey", "")):
        values["idempotencyKey"] = str(uuid.uuid4())
    return {
        "form": form,
        "idempotency_key": values["idempotencyKey"],
        "values": values,
        "errors": form.errors,
        "types": types,
        "subtypes": subtypes,
        "results": results,
        "is_promise": bool(result and result["isPromise"]),
        "is_visit": values.get("type") == "VISIT",
        "loans": loans,
        "agents": agents,
        "can_override": _is_supervisor(viewer),
        "no_agent": not _is_supervisor(viewer) and not viewer.agent_id,
    }


async def _current_agent(backend: Backend, viewer: Viewer, cif: str) -> str | None:
    history = await backend.get(viewer, f"/api/assignments/customer/{quote(cif)}/history", pageSize=20)
    for item in history["items"]:
        if item.get("isCurrent"):
            return item.get("assignedCallAgentId") or item.get("assignedFieldAgentId")
    return None


async def _customer(backend: Backend, viewer: Viewer, cif: str) -> dict[str, Any]:
    customer: dict[str, Any] = await backend.get(viewer, f"/api/customers/{quote(cif)}")
    return customer


async def _render_action(
    request: Request,
    backend: Backend,
    viewer: Viewer,
    form: ActionForm,
    *,
    status_code: int = 200,
    partial: str | None = None,
) -> Response:
    context = await _action_context(backend, viewer, form)
    if partial is not None:
        return render(request, partial, **context)
    if is_htmx(request):
        return render(request, "actions/record_form.html", **context)
    context["customer"] = await _customer(backend, viewer, form.cif)
    return render(request, "actions/record_page.html", status_code=status_code, **context)


def _form_values(data: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(data[name]).strip() for name in FORM_FIELDS if data.get(name) is not None}


# --- record an action ------------------------------------------------------------------------------


@router.get("/customers/{cif}/actions/new", roles=RECORDERS)
async def new_action(request: Request, viewer: SignedIn, backend: WebBackend, cif: str) -> Response:
    """The record-action form (a partial for htmx, else a page); query values prefill it."""
    form = ActionForm(cif=cif, values=_form_values(request.query_params))
    return await _render_action(request, backend, viewer, form)


@router.get("/customers/{cif}/actions/choices", roles=RECORDERS)
async def action_choices(request: Request, viewer: SignedIn, backend: WebBackend, cif: str) -> Response:
    """The part of the form that depends on the type and result (subtypes, results, promise, visit)."""
    form = ActionForm(cif=cif, values=_form_values(request.query_params))
    part = "actions/promise.html" if request.query_params.get("part") == "promise" else "actions/choices.html"
    return await _render_action(request, backend, viewer, form, partial=part)


def _action_body(request: Request, viewer: Viewer, form: ActionForm, tz: ZoneInfo) -> dict[str, Any] | None:
    """The ``POST /api/actions`` body, or ``None`` with ``form.errors`` filled."""
    _ = gettext_for(language_of(request))
    values, errors = form.values, form.errors
    body: dict[str, Any] = {
        "cif": form.cif,
        "type": values.get("type", ""),
        "actionResult": values.get("actionResult", ""),
    }
    agent_id = values.get("agentId") if _is_supervisor(viewer) else viewer.agent_id
    if not agent_id:
        errors["agentId"] = _("Choose an active agent.")
    body["agentId"] = agent_id
    if not body["type"]:
        errors["type"] = _("Choose a type of action.")
    if not body["actionResult"]:
        errors["actionResult"] = _("Choose a result.")
    for name in ("subtype", "loanAccountNumber", "notes", "visitAddress", "promiseDate"):
        if values.get(name):
            body[name] = values[name]
    if values.get("promiseAmount"):
        amount = parse_amount(values["promiseAmount"])
        if amount is None:
            errors["promiseAmount"] = _("Enter an amount such as 1.250.000.")
        elif amount <= 0:
            errors["promiseAmount"] = _("The amount must be greater than 0.")
        else:
            body["promiseAmount"] = str(amount)
    if values.get("actionDate"):
        moment = business_moment(values["actionDate"], tz)
        if moment is None:
            errors["actionDate"] = _("Enter the date and time of the action.")
        else:
            body["actionDate"] = moment.isoformat()
    for name in ("visitLatitude", "visitLongitude"):
        if values.get(name):
            try:
                body[name] = str(Decimal(values[name].replace(",", ".")))
            except InvalidOperation:
                errors[name] = _("Enter a latitude between -90 and 90 and a longitude between -180 and 180.")
    if values.get("type") != "VISIT":
        for name in ("visitLatitude", "visitLongitude", "visitAddress"):
            body.pop(name, None)
    if _is_supervisor(viewer) and values.get("overrideContactRules"):
        body["overrideContactRules"] = True
    return None if errors else body


def _success_notice(request: Request, action: Mapping[str, Any]) -> str:
    language = language_of(request)
    _ = gettext_for(language)
    if action.get("promiseAmount"):
        return _(
            "Action recorded: a promise of %(amount)s by %(day)s.",
            amount=money(action["promiseAmount"]),
            day=format_day(action.get("promiseDate"), language),
        )
    return _("Action recorded.")


@router.post("/customers/{cif}/actions", roles=RECORDERS)
async def record_action(
    request: Request, viewer: SignedIn, backend: WebBackend, tz: BusinessZone, cif: str
) -> Response:
    """Record the action through ``POST /api/actions``; refusals inline, next to their field."""
    data = await request.form()
    form = ActionForm(cif=cif, values=_form_values(data))
    htmx = is_htmx(request)
    if data.get("refresh"):  # without JavaScript: "Update the choices" after changing the type or result
        return await _render_action(request, backend, viewer, form)
    body = _action_body(request, viewer, form, tz)
    if body is not None:
        try:
            # The same key for every submit of this form: a second submit (a double click, a retry
            # after a lost answer) gets the first one's action back instead of recording it twice.
            typed_key = form.values.get("idempotencyKey", "")
            key = {"Idempotency-Key": typed_key} if _KEY.match(typed_key) else {}
            action = await backend.post(viewer, "/api/actions", json=body, headers=key)
        except BackendError as exc:
            if exc.code == NOT_ASSIGNED:
                form.errors["form"] = _not_assigned(request)
            elif exc.status != 422:
                raise
            else:
                _explain(request, form, exc, tz)
        else:
            if not htmx:
                return RedirectResponse(f"/customers/{quote(cif)}?tab=actions", status_code=303)
            fresh = ActionForm(cif=cif, values={"type": form.values.get("type", "")})
            fresh.notice = _success_notice(request, action)
            response = await _render_action(request, backend, viewer, fresh)
            response.headers["HX-Trigger"] = "action-recorded"
            return response
    # htmx swaps only 2xx answers: the form with its refusals comes back as 200 to htmx, 422 otherwise
    return await _render_action(request, backend, viewer, form, status_code=200 if htmx else 422)


NOT_ASSIGNED = "scope.not_assigned"  # CRM_AGENT_WRITE_SCOPE=assigned, a customer of someone else


def _not_assigned(request: Request) -> str:
    return explain(NOT_ASSIGNED, {}, language_of(request))


def _explain(request: Request, form: ActionForm, exc: BackendError, tz: ZoneInfo) -> None:
    language = language_of(request)
    _ = gettext_for(language)
    today = datetime.now(tz).date()
    for name, (code, params) in exc.field_codes().items():
        target = name if name in ERROR_FIELDS else "form"
        form.errors.setdefault(target, friendly(name, code, params, language, today))
    if not form.errors:
        form.errors["form"] = _("The action could not be recorded: %(reason)s", reason=exc.message(language))


# --- case status -----------------------------------------------------------------------------------


async def _render_case(
    request: Request,
    backend: Backend,
    viewer: Viewer,
    cif: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    vocab = await backend.reference(viewer, "/api/vocabularies")
    case = await backend.get(viewer, f"/api/cases/customer/{quote(cif)}", pageSize=1)
    choices = vocab["caseStatuses"]
    current = case["current"]
    dimensions = [
        {
            "name": name,
            "label": label,
            "entries": choices.get(name, []),
            "current": _first(choices.get(name, []), current.get(name))
            or ({"code": current[name], "label": current[name]} if current.get(name) else None),
        }
        for name, label in CASE_FIELDS
    ]
    context = {
        "cif": cif,
        "dimensions": dimensions,
        "values": values or {},
        "errors": errors or {},
        "notice": notice,
    }
    if is_htmx(request):
        return render(request, "actions/case_form.html", status_code=status_code, **context)
    context["customer"] = await _customer(backend, viewer, cif)
    return render(request, "actions/case_page.html", status_code=status_code, **context)


@router.get("/customers/{cif}/cases/new", roles=RECORDERS)
async def new_case_status(request: Request, viewer: SignedIn, backend: WebBackend, cif: str) -> Response:
    """The case-status form: the five status fields (each optional) and notes."""
    return await _render_case(request, backend, viewer, cif)


@router.post("/customers/{cif}/cases", roles=RECORDERS)
async def update_case_status(request: Request, viewer: SignedIn, backend: WebBackend, cif: str) -> Response:
    """Record a case status update through ``POST /api/cases``."""
    _ = gettext_for(language_of(request))
    data = await request.form()
    names = [name for name, _label in CASE_FIELDS]
    values = {name: str(data[name]).strip() for name in [*names, "notes"] if data.get(name)}
    errors: dict[str, str] = {}
    htmx = is_htmx(request)
    if not values:
        errors["form"] = _("Choose at least one status or write a note.")
    else:
        try:
            await backend.post(viewer, "/api/cases", json={"cif": cif, **values})
        except BackendError as exc:
            if exc.code == NOT_ASSIGNED:
                errors["form"] = _not_assigned(request)
            elif exc.status != 422:
                raise
            language = language_of(request)
            for name, (code, params) in exc.field_codes().items():
                errors.setdefault(
                    name if name in {*names, "notes"} else "form", case_friendly(name, code, params, language)
                )
            if not errors:
                errors["form"] = _(
                    "The case status could not be updated: %(reason)s", reason=exc.message(language)
                )
        else:
            if not htmx:
                return RedirectResponse(f"/customers/{quote(cif)}?tab=case", status_code=303)
            response = await _render_case(request, backend, viewer, cif, notice=_("Case status updated."))
            response.headers["HX-Trigger"] = "case-updated"
            return response
    return await _render_case(
        request, backend, viewer, cif, values=values, errors=errors, status_code=200 if htmx else 422
    )

"""Pages: searching customers, the customer list, and the customer 360 page (header, tabs, receipts).

Everything comes from the services' APIs with the user's own token: bank-sync (customer, contacts,
loans, collaterals), payments (payments, receipts) and workflow (actions, case status, assignments,
agents, the customer list and its facts). The 360 header's calls run concurrently.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from crm.platform.auth import Role
from crm.web.backend import Backend, BackendError, WebBackend
from crm.web.i18n import N_, gettext_for
from crm.web.labels import (
    BUCKET_LABELS,
    PAYMENT_CHANNEL_LABELS,
    PRODUCT_LABELS,
    SEGMENT_LABELS,
    TEAM_LABELS,
    dpd_badge,
    vocabulary_label,
)
from crm.web.problems import explain
from crm.web.routes.customer_rows import (
    PROMISE_LABELS,
    SORT_LABELS,
    facts_of,
    records_of,
    row,
)
from crm.web.session import STAFF, PageRouter, SignedIn, Viewer
from crm.web.templating import is_htmx, language_of, render

router = PageRouter(tags=["web"])

Cif = Annotated[str, Path(min_length=1, max_length=64)]
PAGE_SIZE = 20
TAB_PAGE_SIZE = 50
TABS: tuple[tuple[str, str], ...] = (
    ("contacts", N_("Contacts")),
    ("references", N_("References")),
    ("loans", N_("Loans")),
    ("collaterals", N_("Collaterals")),
    ("payments", N_("Payments")),
    ("actions", N_("Actions")),
    ("case", N_("Case status")),
    ("assignments", N_("Assignment history")),
)
TAB_NAMES = tuple(name for name, _ in TABS)

LABELS: dict[str, str] = {
    # customer / loan / payment statuses and kinds
    "ACTIVE": N_("Active"),
    "INACTIVE": N_("Inactive"),
    "OPEN": N_("Open"),
    "CLOSED": N_("Closed"),
    "CURRENT": N_("Current"),
    "DELINQUENT": N_("Delinquent"),
    "DEFAULT": N_("Default"),
    "PENDING": N_("Pending"),
    "COMPLETED": N_("Completed"),
    "FAILED": N_("Failed"),
    "REVERSED": N_("Reversed"),
    "KEPT": N_("Kept"),
    "BROKEN": N_("Broken"),
    "INDIVIDUAL": N_("Individual"),
    "ORGANIZATION": N_("Organization"),
    # phone and address types
    "MOBILE": N_("Mobile"),
    "HOME": N_("Home"),
    "WORK": N_("Work"),
    "EMERGENCY": N_("Emergency"),
    "FAX": N_("Fax"),
    "OTHER": N_("Other"),
    "BILLING": N_("Billing"),
    "MAILING": N_("Mailing"),
    "PROPERTY": N_("Property"),
    "TEMPORARY": N_("Temporary"),
    # relationships
    "GUARANTOR": N_("Guarantor"),
    "SPOUSE": N_("Spouse"),
    "FAMILY_MEMBER": N_("Family member"),
    "BUSINESS_PARTNER": N_("Business partner"),
    "EMPLOYER": N_("Employer"),
    "EMPLOYEE": N_("Employee"),
    "FRIEND": N_("Friend"),
    "COLLEAGUE": N_("Colleague"),
    "LEGAL_REPRESENTATIVE": N_("Legal representative"),
    "EMERGENCY_CONTACT": N_("Emergency contact"),
    **PRODUCT_LABELS,
    # collaterals
    "REAL_ESTATE": N_("Real estate"),
    "VEHICLE": N_("Vehicle"),
    "DEPOSIT": N_("Deposit"),
    "EQUIPMENT": N_("Equipment"),
    **PAYMENT_CHANNEL_LABELS,
    **SEGMENT_LABELS,
}

CASE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("customerStatus", "customer_status", "Customer status"),
    ("collateralStatus", "collateral_status", "Collateral status"),
    ("processingStateStatus", "processing_state_status", "Processing state"),
    ("lendingViolationStatus", "lending_violation_status", "Lending violation"),
    ("recoveryAbilityStatus", "recovery_ability_status", "Recovery ability"),
)


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def totals(loans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outstanding and due of the customer's open loans, per currency (VND first)."""
    by_currency: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"outstanding": Decimal(0), "due": Decimal(0)}
    )
    for loan in loans:
        if loan.get("status") == "CLOSED":
            continue
        sums = by_currency[loan.get("currency") or "VND"]
        sums["outstanding"] += _decimal(loan.get("outstanding"))
        sums["due"] += _decimal(loan.get("dueAmount"))
    if not by_currency:  # a customer without loans owes 0 ₫
        by_currency["VND"] = {"outstanding": Decimal(0), "due": Decimal(0)}
    order = sorted(by_currency, key=lambda c: (c != "VND", c))
    return [{"currency": c, **by_currency[c]} for c in order]


def _pages(page: int, total: int, page_size: int) -> dict[str, Any]:
    last = max(1, -(-total // page_size))
    first_shown = max(1, min(page - 3, last - 6))
    return {
        "page": page,
        "last": last,
        "total": total,
        "numbers": list(range(first_shown, min(last, first_shown + 6) + 1)),
    }


async def _quietly(coro: Any, default: Any = None) -> Any:
    """A call whose failure must not break the page (a name, a label): its answer or ``default``."""
    try:
        return await coro
    except BackendError:
        return default


async def agent_names(backend: Backend, viewer: Viewer, ids: set[str]) -> dict[str, str]:
    """``{agent id: name}`` of the agents (those that cannot be read are left out)."""
    wanted = sorted(i for i in ids if i)
    found = await asyncio.gather(*(_quietly(backend.reference(viewer, f"/api/agents/{i}")) for i in wanted))
    return {i: str(agent["name"]) for i, agent in zip(wanted, found, strict=True) if agent}


async def _labels(backend: Backend, viewer: Viewer) -> dict[str, Any]:
    """Labels of the vocabularies (action types, results, case statuses), by kind and code, in the
    viewer's language."""
    vocab = await _quietly(backend.reference(viewer, "/api/vocabularies", includeInactive="true"), {}) or {}
    actions: dict[str, str] = {}
    results = [(e["code"], e["label"]) for e in vocab.get("actionResults", [])]
    for entry in [
        *vocab.get("actionTypes", []),
        *vocab.get("actionSubtypes", []),
        *vocab.get("actionResults", []),
    ]:
        actions.setdefault(entry["code"], vocabulary_label(entry, viewer.language))
    cases: dict[str, dict[str, str]] = {
        field: {
            e["code"]: vocabulary_label(e, viewer.language)
            for e in (vocab.get("caseStatuses") or {}).get(field, [])
        }
        for field, _, _ in CASE_FIELDS
    }
    return {"actions": actions, "cases": cases, "results": results}


def _path(cif: str) -> str:
    return f"/customers/{quote(cif, safe='')}"


# --- search ---------------------------------------------------------------------------------------


@router.get("/customers", roles=STAFF)
async def search(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    mine: Annotated[bool, Query()] = False,
) -> Response:
    """The search box (CIF, name, national id, phone, e-mail), optionally among the agent's own
    customers, and a page of the customers found with their dpd, due, agent and phone."""
    query = " ".join(q.split())
    mine = mine and viewer.is_agent
    result: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = []
    error: str | None = None
    try:
        if mine:
            result = await backend.get(
                viewer,
                "/api/workflow/customers",
                agentId=viewer.agent_id,
                q=query or None,
                page=page,
                pageSize=PAGE_SIZE,
            )
            cifs = [item["cif"] for item in result["items"]]
            records = await records_of(backend, viewer, cifs)
            rows = [row(records.get(item["cif"]), item) for item in result["items"]]
        elif query:
            result = await backend.get(viewer, "/api/customers", q=query, page=page, pageSize=PAGE_SIZE)
            cifs = [item["cif"] for item in result["items"]]
            facts = await facts_of(backend, viewer, cifs)
            rows = [row(item, facts.get(item["cif"])) for item in result["items"]]
    except BackendError as exc:
        if exc.status not in (400, 422):
            raise
        error = exc.message(language_of(request))
    context: dict[str, Any] = {
        "q": query,
        "mine": mine,
        "result": result,
        "rows": rows,
        "error": error,
        "pages": _pages(page, result["total"], PAGE_SIZE) if result else None,
        "link": lambda n: (
            "/customers?" + urlencode({"q": query, "page": n, **({"mine": "true"} if mine else {})})
        ),
        "labels": LABELS,
        "bucket_of": dpd_badge,
        "vocab_results": (await _labels(backend, viewer))["actions"] if rows else {},
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "results":
        return render(request, "customers/_results.html", **context)
    return render(request, "customers/search.html", **context)


# --- the customer list ----------------------------------------------------------------------------


@router.get("/customers/list", roles=STAFF)
async def customer_list(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    bucket: Annotated[str, Query(max_length=20)] = "",
    product: Annotated[str, Query(max_length=64)] = "",
    agent: Annotated[str, Query(max_length=64)] = "",
    team: Annotated[str, Query(max_length=64)] = "",
    promise: Annotated[str, Query(max_length=20)] = "",
    result: Annotated[str, Query(max_length=64)] = "",
    followup: Annotated[bool, Query()] = False,
    sort: Annotated[str, Query(max_length=8)] = "-dpd",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The customers with their dpd, due, agent, promise, follow-up and last result, filtered and
    sorted: an agent's own, or (supervisors, admins) any agent's or team's."""
    own = viewer.is_agent and not viewer.can((Role.SUPERVISOR, Role.ADMIN))
    chosen = {
        "bucket": bucket,
        "product": product,
        "agent": "" if own else agent,
        "team": "" if own else team,
        "promise": promise,
        "result": result,
        "followup": followup,
        "sort": sort if sort in SORT_LABELS else "-dpd",
    }
    params = {
        "bucket": bucket or None,
        "productType": product or None,
        "agentId": viewer.agent_id if own else (agent or None),
        "team": chosen["team"] or None,
        "promiseStatus": promise or None,
        "lastResult": result or None,
        "followUpDue": "true" if followup else None,
        "sort": chosen["sort"],
    }
    listed: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    vocab, agents = await asyncio.gather(
        _labels(backend, viewer),
        _quietly(backend.reference(viewer, "/api/agents", pageSize=500), {"items": []})
        if not own
        else _nothing(),
    )
    try:
        listed = await backend.get(viewer, "/api/workflow/customers", page=page, pageSize=PAGE_SIZE, **params)
    except BackendError as exc:
        if exc.status not in (400, 422):
            raise
        language = language_of(request)
        names = {v: k for k, v in _LIST_PARAMS.items()}
        for field, (code, values) in exc.field_codes().items():
            errors[names.get(field, "form")] = explain(code, values, language)
        if not errors:
            errors["form"] = exc.message(language)
    if listed:
        records = await records_of(backend, viewer, [item["cif"] for item in listed["items"]])
        rows = [row(records.get(item["cif"]), item) for item in listed["items"]]
    query = {k: v for k, v in chosen.items() if v not in ("", False, None)}

    def link(n: int) -> str:
        return "/customers/list?" + urlencode(
            {**query, **({"followup": "true"} if followup else {}), "page": n}
        )

    context: dict[str, Any] = {
        "own": own,
        "chosen": chosen,
        "listed": listed,
        "rows": rows,
        "errors": errors,
        "pages": _pages(page, listed["total"], PAGE_SIZE) if listed else None,
        "link": link,
        "labels": LABELS,
        "vocab": vocab,
        "vocab_results": vocab["actions"],
        "result_codes": vocab["results"],
        "bucket_of": dpd_badge,
        "buckets": {"CURRENT": N_("Not past due"), **BUCKET_LABELS},
        "products": PRODUCT_LABELS,
        "teams": TEAM_LABELS,
        "promises": PROMISE_LABELS,
        "sorts": SORT_LABELS,
        "agents": sorted(
            ((str(a["id"]), a["name"]) for a in (agents or {}).get("items", [])), key=lambda a: a[1]
        ),
    }
    status = 422 if errors else 200
    if is_htmx(request) and request.headers.get("HX-Target") == "list-results":
        return render(request, "customers/_list_rows.html", status_code=status, **context)
    return render(request, "customers/list.html", status_code=status, **context)


_LIST_PARAMS = {
    "bucket": "bucket",
    "product": "productType",
    "agent": "agentId",
    "team": "team",
    "promise": "promiseStatus",
    "result": "lastResult",
    "followup": "followUpDue",
    "sort": "sort",
}


async def _nothing() -> None:
    return None


# --- customer 360 ---------------------------------------------------------------------------------


async def _header(backend: Backend, viewer: Viewer, cif: str) -> dict[str, Any]:
    """The 360 header's data, its API calls run concurrently; a 404 of the customer propagates."""
    customer_cif, cif = cif, quote(cif, safe="")
    customer, loans, history, case, vocab, facts = await asyncio.gather(
        backend.get(viewer, f"/api/customers/{cif}"),
        backend.get(viewer, f"/api/customers/{cif}/loans", pageSize=500),
        _quietly(backend.get(viewer, f"/api/assignments/customer/{cif}/history", pageSize=1)),
        _quietly(backend.get(viewer, f"/api/cases/customer/{cif}", pageSize=1)),
        _labels(backend, viewer),
        facts_of(backend, viewer, [customer_cif]),
    )
    items: list[dict[str, Any]] = loans["items"]
    worst = max((int(loan.get("dpd") or 0) for loan in items if loan.get("status") != "CLOSED"), default=0)
    current = next((row for row in (history or {}).get("items", []) if row.get("isCurrent")), None)
    names: dict[str, str] = {}
    if current:
        ids = {current.get("assignedCallAgentId") or "", current.get("assignedFieldAgentId") or ""}
        names = await agent_names(backend, viewer, ids)
    return {
        "customer": customer,
        "loans": items,
        "worst_dpd": worst,
        "bucket": dpd_badge(worst),
        "totals": totals(items),
        "assignment": current,
        "agent_names": names,
        "case": (case or {}).get("current") or {},
        "vocab": vocab,
        "facts": facts.get(customer_cif) or {},
    }


async def _tab(
    backend: Backend, viewer: Viewer, cif: str, tab: str, page: int, header: dict[str, Any]
) -> dict[str, Any]:
    """What the tab shows."""
    cif = quote(cif, safe="")
    if tab in ("contacts", "references"):
        return {}  # the customer of the header has them
    if tab == "loans":
        full = await asyncio.gather(
            *(
                backend.get(viewer, f"/api/loans/{quote(loan['accountNumber'], safe='')}")
                for loan in header["loans"]
            )
        )
        return {"full_loans": full}
    if tab == "collaterals":
        collaterals = await backend.get(viewer, f"/api/customers/{cif}/collaterals", pageSize=500)
        return {"collaterals": collaterals["items"]}
    if tab == "payments":
        payments = await backend.get(
            viewer, f"/api/payments/customer/{cif}", page=page, pageSize=TAB_PAGE_SIZE
        )
        return {"payments": payments, "pages": _pages(page, payments["total"], TAB_PAGE_SIZE)}
    if tab == "actions":
        actions = await backend.get(viewer, f"/api/actions/customer/{cif}", page=page, pageSize=TAB_PAGE_SIZE)
        names = await agent_names(backend, viewer, {a["agentId"] for a in actions["items"]})
        return {
            "actions": actions,
            "pages": _pages(page, actions["total"], TAB_PAGE_SIZE),
            "names": names,
        }
    if tab == "case":
        case, vocab = await asyncio.gather(
            backend.get(viewer, f"/api/cases/customer/{cif}", page=page, pageSize=TAB_PAGE_SIZE),
            _quietly(backend.reference(viewer, "/api/vocabularies"), {}),
        )
        return {
            "case_full": case,
            "case_choices": (vocab or {}).get("caseStatuses") or {},
            "pages": _pages(page, case["total"], TAB_PAGE_SIZE),
        }
    if tab == "assignments":
        history = await backend.get(
            viewer, f"/api/assignments/customer/{cif}/history", page=page, pageSize=TAB_PAGE_SIZE
        )
        ids = {
            agent_id
            for row in history["items"]
            for agent_id in (row.get("assignedCallAgentId"), row.get("assignedFieldAgentId"))
            if agent_id
        }
        names = await agent_names(backend, viewer, ids)
        return {"history": history, "pages": _pages(page, history["total"], TAB_PAGE_SIZE), "names": names}
    raise AssertionError(tab)  # pragma: no cover


def _not_found(request: Request, cif: str) -> Response:
    return render(
        request,
        "customers/not_found.html",
        status_code=404,
        cif=cif,
    )


async def _page(
    request: Request,
    backend: Backend,
    viewer: Viewer,
    cif: str,
    tab: str,
    page: int,
    template: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    if tab not in TAB_NAMES:
        tab = "contacts"
    try:
        header = await _header(backend, viewer, cif)
    except BackendError as exc:
        if exc.status == 404:
            return _not_found(request, cif)
        raise
    content = await _tab(backend, viewer, cif, tab, page, header)
    base = _path(cif)

    def tab_link(name: str, n: int = 1) -> str:
        return f"{base}?" + urlencode({"tab": name, **({"page": n} if n > 1 else {})})

    def part_link(name: str, n: int = 1) -> str:
        return f"{base}/tabs/{name}" + (f"?page={n}" if n > 1 else "")

    return render(
        request,
        template,
        status_code=status_code,
        cif=cif,
        base=base,
        tab=tab,
        tabs=TABS,
        labels=LABELS,
        case_fields=CASE_FIELDS,
        bucket_of=dpd_badge,
        tab_link=tab_link,
        part_link=part_link,
        page_link=lambda n: tab_link(tab, n),
        page_part=lambda n: part_link(tab, n),
        **header,
        **content,
        **extra,
    )


@router.get("/customers/{cif}", roles=STAFF)
async def customer_360(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    cif: Cif,
    tab: Annotated[str, Query(max_length=20)] = "contacts",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    saved: Annotated[bool, Query()] = False,
) -> Response:
    """The customer 360: header (debt, bucket, agent, promise, last contact, follow-up, case) and tabs,
    each tab also a page of its own."""
    return await _page(request, backend, viewer, cif, tab, page, "customers/customer.html", case_saved=saved)


@router.get("/customers/{cif}/tabs/{tab}", roles=STAFF)
async def customer_tab(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    cif: Cif,
    tab: Annotated[str, Path(max_length=20)],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """One tab of the 360 (the tab list and its panel) for htmx; without htmx, the full page."""
    if tab not in TAB_NAMES:
        return _not_found(request, cif)
    if not is_htmx(request):
        query = urlencode({"tab": tab, **({"page": page} if page > 1 else {})})
        return RedirectResponse(f"{_path(cif)}?{query}", status_code=303)
    return await _page(request, backend, viewer, cif, tab, page, "customers/_tabs.html")


@router.post("/customers/{cif}/case", roles=STAFF)
async def update_case(request: Request, viewer: SignedIn, backend: WebBackend, cif: Cif) -> Response:
    """The case tab's one form: the statuses changed from their current values, and the notes, go to
    ``POST /api/cases``; then the customer's case tab again (errors in the page's language)."""
    language = language_of(request)
    _ = gettext_for(language)
    form = await request.form()
    current = (await backend.get(viewer, f"/api/cases/customer/{quote(cif, safe='')}", pageSize=1))["current"]
    chosen = {key: str(form.get(key) or "").strip() for key, _field, _label in CASE_FIELDS}
    notes = str(form.get("notes") or "").strip()
    changed = {key: value for key, value in chosen.items() if value and value != (current.get(key) or "")}
    errors: dict[str, str] = {}
    if not changed and not notes:
        errors["form"] = _("Change a status or write a note before saving.")
    else:
        try:
            await backend.post(
                viewer, "/api/cases", json={"cif": cif, **changed, **({"notes": notes} if notes else {})}
            )
        except BackendError as exc:
            if exc.status not in (400, 403, 409, 422):
                raise
            for field, (code, params) in exc.field_codes().items():
                errors[field if field in chosen or field == "notes" else "form"] = explain(
                    code, params, language
                )
            if not errors:
                errors["form"] = exc.message(language)
        else:
            return RedirectResponse(f"{_path(cif)}?tab=case&saved=1", status_code=303)
    return await _page(
        request,
        backend,
        viewer,
        cif,
        "case",
        1,
        "customers/customer.html",
        status_code=422,
        case_errors=errors,
        case_values={**chosen, "notes": notes},
    )


@router.get("/customers/{cif}/payments/{ref}/receipt", roles=STAFF)
async def receipt(
    viewer: SignedIn,
    backend: WebBackend,
    cif: Cif,
    ref: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response:
    """The receipt PDF of one of the customer's payments, fetched with the user's token."""
    key = quote(ref, safe="")
    payment = await backend.get(viewer, f"/api/payments/{key}")
    if payment.get("cif") != cif:
        raise BackendError(404, "Not Found", f"No payment {ref} of customer {cif}.")
    answer = await backend.request(
        viewer, "GET", f"/api/payments/receipt/{key}", headers={"Accept": "application/pdf"}
    )
    return Response(
        answer.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": answer.headers.get("content-disposition", "inline"),
            "Cache-Control": "no-store",
        },
    )

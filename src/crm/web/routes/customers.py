"""Pages: searching customers and the customer 360 page (header, tabs, receipts).

Everything comes from the services' APIs with the user's own token: bank-sync (customer, contacts,
loans, collaterals), payments (payments, receipts) and workflow (actions, case status, assignments,
agents). The 360 header's calls run concurrently.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from crm.web.backend import Backend, BackendError, WebBackend
from crm.web.i18n import N_
from crm.web.labels import PAYMENT_CHANNEL_LABELS, PRODUCT_LABELS, dpd_badge, vocabulary_label
from crm.web.session import STAFF, PageRouter, SignedIn, Viewer
from crm.web.templating import is_htmx, language_of, render

router = PageRouter(tags=["web"])

Cif = Annotated[str, Path(min_length=1, max_length=64)]
PAGE_SIZE = 20
TAB_PAGE_SIZE = 50
TABS: tuple[tuple[str, str], ...] = (
    ("contacts", "Contacts"),
    ("loans", "Loans"),
    ("payments", "Payments"),
    ("actions", "Actions"),
    ("case", "Case status"),
    ("assignments", "Assignment history"),
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
    return {"actions": actions, "cases": cases}


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
) -> Response:
    """The search box (CIF, name, national id, phone, e-mail) and a page of the customers found."""
    query = " ".join(q.split())
    result: dict[str, Any] | None = None
    error: str | None = None
    if query:
        try:
            result = await backend.get(viewer, "/api/customers", q=query, page=page, pageSize=PAGE_SIZE)
        except BackendError as exc:
            if exc.status not in (400, 422):
                raise
            error = exc.message(language_of(request))
    context: dict[str, Any] = {
        "q": query,
        "result": result,
        "error": error,
        "pages": _pages(page, result["total"], PAGE_SIZE) if result else None,
        "link": lambda n: "/customers?" + urlencode({"q": query, "page": n}),
        "labels": LABELS,
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "results":
        return render(request, "customers/_results.html", **context)
    return render(request, "customers/search.html", **context)


# --- customer 360 ---------------------------------------------------------------------------------


async def _header(backend: Backend, viewer: Viewer, cif: str) -> dict[str, Any]:
    """The 360 header's data, its API calls run concurrently; a 404 of the customer propagates."""
    cif = quote(cif, safe="")
    customer, loans, history, case, vocab = await asyncio.gather(
        backend.get(viewer, f"/api/customers/{cif}"),
        backend.get(viewer, f"/api/customers/{cif}/loans", pageSize=500),
        _quietly(backend.get(viewer, f"/api/assignments/customer/{cif}/history", pageSize=1)),
        _quietly(backend.get(viewer, f"/api/cases/customer/{cif}", pageSize=1)),
        _labels(backend, viewer),
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
    }


async def _tab(
    backend: Backend, viewer: Viewer, cif: str, tab: str, page: int, header: dict[str, Any]
) -> dict[str, Any]:
    """What the tab shows."""
    cif = quote(cif, safe="")
    if tab == "contacts":
        return {}  # the customer of the header has them
    if tab == "loans":
        loans = header["loans"]
        full, collaterals = await asyncio.gather(
            asyncio.gather(
                *(
                    backend.get(viewer, f"/api/loans/{quote(loan['accountNumber'], safe='')}")
                    for loan in loans
                )
            ),
            backend.get(viewer, f"/api/customers/{cif}/collaterals", pageSize=500),
        )
        return {"full_loans": full, "collaterals": collaterals["items"]}
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
        case = await backend.get(viewer, f"/api/cases/customer/{cif}", page=page, pageSize=TAB_PAGE_SIZE)
        return {"case_full": case, "pages": _pages(page, case["total"], TAB_PAGE_SIZE)}
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
    request: Request, backend: Backend, viewer: Viewer, cif: str, tab: str, page: int, template: str
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
    )


@router.get("/customers/{cif}", roles=STAFF)
async def customer_360(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    cif: Cif,
    tab: Annotated[str, Query(max_length=20)] = "contacts",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The customer 360: header (debt, bucket, agent, case) and tabs, each tab also a page of its own."""
    return await _page(request, backend, viewer, cif, tab, page, "customers/customer.html")


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

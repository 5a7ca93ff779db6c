"""Pages: who works which customer (``/assignments``), for supervisors.

- Find customers: workflow's ``GET /api/assignments/customers?bucket=&productType=&team=&assigned=``,
  one page of ``PAGE_CUSTOMERS`` customers with their current agents; every filter applies to the whole
  result. "Select all matching" assigns every customer of the filters (at most ``MAX_AT_ONCE``).
- Assign the selected customers to an agent: ``POST /api/assignments`` for one customer (a capacity
  409 is shown in words with an "assign anyway" choice that re-posts with ``override: true``),
  ``POST /api/assignments/bulk`` {cifs, agent} for several (refusals per customer, same override).
  An agent of a ``*_FIELD`` team is assigned as field agent, any other as call agent.
- Assign by rule: ``POST /api/assignments/bulk`` {rule: {bucket, team}, limit}: workflow spreads the
  unassigned customers over the team by free capacity; the per-customer results are shown.
- CSV upload (``cif,agent``; agent = the employee id or the agent's id; a header line is optional):
  a preview of every row with its error (unknown customer, unknown or inactive agent, duplicate
  row, agent at capacity) and an "apply" button posting the valid rows, carried in the form and
  signed with the session's secret (HMAC) so that the page cannot be altered between the two.
- History per customer: ``/api/assignments/customer/:cif/history``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import uuid
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from crm.web.backend import Backend, BackendError, WebBackend
from crm.web.i18n import N_
from crm.web.labels import BUCKET_LABELS, BUCKETS, PRODUCT_LABELS, PRODUCTS, TEAM_LABELS, TEAMS
from crm.web.problems import explain
from crm.web.routes.team import bounded
from crm.web.session import SUPERVISORS, PageRouter, SignedIn, Viewer
from crm.web.templating import is_htmx, render

router = PageRouter(tags=["web"])

PAGE_CUSTOMERS = 50
"""Customers per page of the list."""
MAX_AT_ONCE = 5000
"""The most customers "select all matching" assigns at once (``POST /api/assignments/bulk``'s limit)."""
MAX_AGENT_PAGES = 20
MAX_CSV_ROWS = 1000
MAX_CSV_BYTES = 1_000_000
LOOKUP_CHUNK = 1000
SHOW = ("all", "unassigned", "assigned")
STATUS_LABELS = {
    "ASSIGNED": N_("Assigned"),
    "UNCHANGED": N_("Unchanged"),
    "REFUSED": N_("Refused"),
    "KEPT_WITH_OTHER": N_("Not reassigned"),
}
OVER_CAPACITY = "assignment.over_capacity"


def refusal_of(item: dict[str, Any], language: str) -> str | None:
    """Why the API left a customer as it was (its item's code), in the viewer's language."""
    if item.get("status") != "REFUSED":
        return None
    return explain(str(item.get("code") or "rule.violated"), item.get("params"), language)


async def all_agents(backend: Backend, viewer: Viewer) -> list[dict[str, Any]]:
    """Every agent (active or not), by name, in pages of 500."""
    agents: list[dict[str, Any]] = []
    for number in range(1, MAX_AGENT_PAGES + 1):
        page = await backend.get(viewer, "/api/agents", pageSize=500, page=number)
        agents += page["items"]
        if len(agents) >= page["total"] or not page["items"]:
            break
    return agents


def agent_role_field(agent: dict[str, Any]) -> str:
    """Field agents (``*_FIELD`` teams) are assigned as field agent, everyone else as call agent."""
    return "assignedFieldAgentId" if str(agent.get("team", "")).endswith("_FIELD") else "assignedCallAgentId"


async def current_assignments(
    backend: Backend, viewer: Viewer, cifs: Sequence[str]
) -> dict[str, dict[str, Any] | None]:
    """Each customer's current assignment (None: unassigned), by ``POST /api/assignments/current``."""
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(cifs)
    unique = list(found)
    for start in range(0, len(unique), LOOKUP_CHUNK):
        answer = await backend.post(
            viewer, "/api/assignments/current", {"cifs": unique[start : start + LOOKUP_CHUNK]}
        )
        found.update({item["cif"]: item for item in answer["items"]})
    return found


async def customer_names(backend: Backend, viewer: Viewer, cifs: Sequence[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    unique = list(dict.fromkeys(cifs))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        chunk = unique[start : start + LOOKUP_CHUNK]
        answer = await backend.post(viewer, "/api/customers/lookup", {"cifs": chunk})
        names.update({c["cif"]: c["name"] for c in answer["items"]})
    return names


def _agent_ids(row: dict[str, Any] | None) -> list[str]:
    if not row:
        return []
    return [str(a) for a in (row.get("assignedCallAgentId"), row.get("assignedFieldAgentId")) if a]


def _listing_query(bucket: str | None, product: str | None, team: str | None, show: str) -> dict[str, Any]:
    """The ``GET /api/assignments/customers`` filters of the page's own (already checked) filters."""
    assigned = {"unassigned": "false", "assigned": "true"}.get(show)
    return {"bucket": bucket, "productType": product, "team": team, "assigned": assigned}


def _filters(bucket: str | None, product: str | None, team: str | None, show: str | None) -> dict[str, Any]:
    return {
        "bucket": bucket if bucket in BUCKETS else None,
        "productType": product if product in PRODUCTS else None,
        "team": team if team in TEAMS else None,
        "show": show if show in SHOW else "all",
    }


@router.get("/assignments", roles=SUPERVISORS)
async def assignments(
    request: Request,
    viewer: SignedIn,
    backend: WebBackend,
    bucket: str | None = None,
    product_type: Annotated[str | None, Query(alias="productType")] = None,
    team: str | None = None,
    show: str = "all",
    page: int = 1,
) -> Response:
    """Delinquent customers (a page of customers; every filter applies to all) with their agents."""
    filters = _filters(bucket, product_type, team, show)
    page = max(page, 1)
    query = _listing_query(filters["bucket"], filters["productType"], filters["team"], filters["show"])
    found = await backend.get(
        viewer, "/api/assignments/customers", **query, page=page, pageSize=PAGE_CUSTOMERS
    )
    agents = await all_agents(backend, viewer)
    by_id = {str(a["id"]): a for a in agents}
    rows = [{**item, "agents": [by_id[i] for i in _agent_ids(item) if i in by_id]} for item in found["items"]]
    return render(
        request,
        "assignments/index.html",
        rows=rows,
        total=found["total"],
        page=page,
        pages=max(1, -(-int(found["total"]) // PAGE_CUSTOMERS)),
        page_size=PAGE_CUSTOMERS,
        max_at_once=MAX_AT_ONCE,
        filters=filters,
        buckets=BUCKETS,
        bucket_labels=BUCKET_LABELS,
        products=PRODUCTS,
        product_labels=PRODUCT_LABELS,
        teams=TEAMS,
        team_labels=TEAM_LABELS,
        agents=[a for a in agents if a["isActive"]],
    )


async def matching_cifs(backend: Backend, viewer: Viewer, filters: dict[str, Any]) -> tuple[list[str], int]:
    """Every customer of the filters ("select all matching"), at most ``MAX_AT_ONCE``, and how many match."""
    query = _listing_query(filters["bucket"], filters["productType"], filters["team"], filters["show"])
    cifs: list[str] = []
    total = 0
    for number in range(1, MAX_AT_ONCE // 500 + 2):
        found = await backend.get(viewer, "/api/assignments/customers", **query, page=number, pageSize=500)
        total = int(found["total"])
        if total > MAX_AT_ONCE:
            return [], total
        cifs += [item["cif"] for item in found["items"]]
        if len(cifs) >= total or not found["items"]:
            break
    return list(dict.fromkeys(cifs)), total


# ---------------------------------------------------------------- results


async def _load_of(backend: Backend, viewer: Viewer, agent_id: str) -> int | None:
    try:
        workload = await backend.get(viewer, f"/api/agents/{agent_id}/workload")
    except BackendError:
        return None
    return int(workload["assignedCustomers"])


def _result(request: Request, **context: Any) -> Response:
    template = "assignments/result.html" if is_htmx(request) else "assignments/result_page.html"
    context.setdefault("status_labels", STATUS_LABELS)
    context.setdefault("refusal_of", refusal_of)
    return render(request, template, **context)


def _form_list(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def _form_str(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.post("/assignments/assign", roles=SUPERVISORS)
async def assign(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Assign the selected customers to one agent (one: POST /api/assignments; several: bulk)."""
    form = await request.form()
    cifs = list(dict.fromkeys(_form_list(form, "cif")))
    if _form_str(form, "scope") == "matching":
        filters = _filters(
            _form_str(form, "bucket"),
            _form_str(form, "productType"),
            _form_str(form, "team"),
            _form_str(form, "show"),
        )
        cifs, matching = await matching_cifs(backend, viewer, filters)
        if matching > MAX_AT_ONCE:
            return _result(request, problem=N_("More than 5000 customers match: narrow the filters."))
    agent_id = _form_str(form, "agent")
    reason = _form_str(form, "reason") or None
    override = _form_str(form, "override") == "true"
    if not cifs:
        return _result(request, problem=N_("Select at least one customer."))
    if len(cifs) > MAX_AT_ONCE:
        return _result(request, problem=N_("More than 5000 customers match: narrow the filters."))
    agents = {str(a["id"]): a for a in await all_agents(backend, viewer)}
    agent = agents.get(agent_id)
    if agent is None:
        return _result(request, problem=N_("Choose the agent who will work these customers."))
    choice: dict[str, Any] = {agent_role_field(agent): agent_id, "override": override}
    if reason:
        choice["reason"] = reason
    items: list[dict[str, Any]]
    if len(cifs) == 1:
        try:
            row = await backend.post(viewer, "/api/assignments", {"cif": cifs[0], **choice})
        except BackendError as exc:
            if exc.code == OVER_CAPACITY:
                load = await _load_of(backend, viewer, agent_id)
                items = [{"cif": cifs[0], "status": "REFUSED", "code": OVER_CAPACITY}]
                return _result(
                    request, items=items, agent=agent, load=load, override_cifs=cifs, reason=reason
                )
            if exc.status == 422:
                code, params = next(iter(exc.field_codes().values()), (exc.code, exc.params))
                items = [{"cif": cifs[0], "status": "REFUSED", "code": code, "params": params}]
                return _result(request, items=items, agent=agent, override_cifs=[], reason=reason)
            raise
        items = [{"cif": cifs[0], "status": "ASSIGNED", "assignmentId": row["id"]}]
    else:
        result = await backend.post(viewer, "/api/assignments/bulk", {"cifs": cifs, **choice})
        items = list(result["items"])
    at_capacity = [i["cif"] for i in items if i["status"] == "REFUSED" and i.get("code") == OVER_CAPACITY]
    load = await _load_of(backend, viewer, agent_id) if at_capacity else None
    return _result(request, items=items, agent=agent, load=load, override_cifs=at_capacity, reason=reason)


@router.post("/assignments/rule", roles=SUPERVISORS)
async def assign_by_rule(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Unassigned customers of a bucket spread over a team's agents by free capacity (workflow's rule)."""
    form = await request.form()
    team = _form_str(form, "rule_team")
    bucket = _form_str(form, "rule_bucket")
    limit_text = _form_str(form, "rule_limit")
    reason = _form_str(form, "rule_reason") or None
    if team not in TEAMS:
        return _result(request, problem=N_("Choose the team whose agents will work the customers."))
    rule: dict[str, Any] = {"team": team}
    if bucket in BUCKETS:
        rule["bucket"] = bucket
    body: dict[str, Any] = {"rule": rule}
    if limit_text:
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 5000:
            return _result(request, problem=N_("The most customers must be a whole number from 1 to 5000."))
        body["limit"] = int(limit_text)
    if reason:
        body["reason"] = reason
    result = await backend.post(viewer, "/api/assignments/bulk", body)
    agents = {str(a["id"]): a for a in await all_agents(backend, viewer)}
    for item in result["items"]:
        ids = [i for i in (item.get("assignedCallAgentId"), item.get("assignedFieldAgentId")) if i]
        item["agent"] = agents.get(str(ids[0])) if ids else None
    return _result(request, items=result["items"], by_rule=True, rule_team=team, override_cifs=[])


# ---------------------------------------------------------------- CSV upload


def _sign(viewer: Viewer, payload: str) -> str:
    """The rows of a preview, signed with the session's own secret: only this session can apply them."""
    return hmac.new(viewer.csrf_token.encode(), payload.encode(), hashlib.sha256).hexdigest()


def parse_csv(text: str) -> list[dict[str, Any]]:
    """The rows of a ``cif,agent`` file (header line optional), with their line numbers."""
    rows = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [f.strip() for f in fields]
        if not any(cells):
            continue
        if number == 1 and len(cells) >= 2 and cells[0].lower() == "cif":
            continue
        rows.append({"line": number, "cells": cells})
    return rows


@router.post("/assignments/upload", roles=SUPERVISORS)
async def upload(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """A preview of the uploaded file: every row with what is wrong with it; nothing is assigned yet."""
    form = await request.form()
    upload_file = form.get("file")
    problem = None
    content = b""
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        problem = N_("Choose a CSV file to upload.")
    else:
        content = await upload_file.read(MAX_CSV_BYTES + 1)
        if len(content) > MAX_CSV_BYTES:
            problem = N_("The file is too large (at most 1 MB).")
    text = ""
    if problem is None:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            problem = N_("The file is not UTF-8 text.")
    parsed = parse_csv(text) if problem is None else []
    if problem is None and not parsed:
        problem = N_("The file has no rows.")
    if problem is None and len(parsed) > MAX_CSV_ROWS:
        problem = N_("The file has more than 1000 rows: split it.")
    if problem is not None:
        return render(request, "assignments/preview.html", problem=problem, rows=[], good=[], status_code=422)

    agents = await all_agents(backend, viewer)
    by_key = {str(a["id"]): a for a in agents} | {str(a["employeeId"]).lower(): a for a in agents}
    wanted_cifs = [r["cells"][0] for r in parsed if r["cells"] and r["cells"][0]]
    known = set(await customer_names(backend, viewer, wanted_cifs)) if wanted_cifs else set()
    seen: dict[str, int] = {}
    for row in parsed:
        cells = row["cells"]
        row["cif"] = cells[0] if cells else ""
        row["agent_key"] = cells[1] if len(cells) > 1 else ""
        row["agent"] = by_key.get(row["agent_key"].lower()) or by_key.get(row["agent_key"])
        if len(cells) != 2 or not row["cif"] or not row["agent_key"]:
            row["error"] = N_("expected two columns: cif and agent")
        elif row["cif"] in seen:
            row["error"] = N_("duplicate row: this customer is already on line %(line)s")
            row["error_line"] = seen[row["cif"]]
        elif row["cif"] not in known:
            row["error"] = N_("unknown customer")
        elif row["agent"] is None:
            row["error"] = N_("unknown agent")
        elif not row["agent"]["isActive"]:
            row["error"] = N_("agent is not active")
        if row["cif"] and row["cif"] not in seen:
            seen[row["cif"]] = row["line"]

    # Capacity: the agents' current loads, then the file's rows in order take the free slots.
    involved = list(dict.fromkeys(str(r["agent"]["id"]) for r in parsed if not r.get("error")))
    loads = dict(zip(involved, await bounded(_load_of(backend, viewer, i) for i in involved), strict=True))
    taken: dict[str, int] = {}
    for row in parsed:
        if row.get("error"):
            continue
        agent_id = str(row["agent"]["id"])
        free = row["agent"]["maxCustomers"] - (loads.get(agent_id) or 0)
        if taken.get(agent_id, 0) >= free:
            row["error"] = N_("agent at capacity")
            continue
        taken[agent_id] = taken.get(agent_id, 0) + 1

    # Who works each customer now: a row that takes a customer from another agent waits for a "yes".
    named = {str(a["id"]): a for a in agents}
    known_rows = [r for r in parsed if r["cif"] in known]
    currents = (
        await current_assignments(backend, viewer, [r["cif"] for r in known_rows]) if known_rows else {}
    )
    for row in known_rows:
        ids = _agent_ids(currents.get(row["cif"]))
        row["current_agents"] = [named.get(i) or {"id": i, "name": i, "employeeId": ""} for i in ids]
        row["takes"] = bool(ids) and not row.get("error") and str(row["agent"]["id"]) not in ids
    good = [
        [r["line"], r["cif"], str(r["agent"]["id"]), int(r["takes"])] for r in parsed if not r.get("error")
    ]
    payload = json.dumps(good, separators=(",", ":"))
    return render(
        request,
        "assignments/preview.html",
        problem=None,
        rows=parsed,
        good=good,
        takes=[r for r in parsed if r.get("takes")],
        known_cifs=known,
        payload=payload,
        signature=_sign(viewer, payload),
        filename=upload_file.filename if isinstance(upload_file, UploadFile) else "",
    )


@router.post("/assignments/apply", roles=SUPERVISORS)
async def apply(request: Request, viewer: SignedIn, backend: WebBackend) -> Response:
    """Assign the valid rows of a preview (as signed on the preview page), one bulk request per agent."""
    form = await request.form()
    payload, signature = _form_str(form, "rows"), _form_str(form, "signature")
    if not payload or not hmac.compare_digest(_sign(viewer, payload), signature):
        return _result(request, problem=N_("The preview has expired or was changed. Upload the file again."))
    rows: list[list[Any]] = json.loads(payload)
    reassign = _form_str(form, "reassign") == "true"
    agents = {str(a["id"]): a for a in await all_agents(backend, viewer)}
    by_agent: dict[str, list[str]] = {}
    items: list[dict[str, Any]] = []
    for _line, cif, agent_id, takes in rows:
        uuid.UUID(agent_id)
        if takes and not reassign:  # with another agent: only moved when the supervisor said so
            items.append({"cif": cif, "status": "KEPT_WITH_OTHER", "agent": agents.get(agent_id)})
            continue
        by_agent.setdefault(agent_id, []).append(cif)
    for agent_id, cifs in by_agent.items():
        agent = agents.get(agent_id)
        if agent is None:
            items += [{"cif": c, "status": "REFUSED", "error": "unknown agent"} for c in cifs]
            continue
        result = await backend.post(
            viewer, "/api/assignments/bulk", {"cifs": cifs, agent_role_field(agent): agent_id}
        )
        for item in result["items"]:
            item["agent"] = agent
        items += result["items"]
    return _result(request, items=items, by_rule=True, override_cifs=[])


# ---------------------------------------------------------------- history


@router.get("/assignments/history", roles=SUPERVISORS)
async def history(
    request: Request, viewer: SignedIn, backend: WebBackend, cif: str = "", page: int = 1
) -> Response:
    """Every assignment of one customer, newest first."""
    cif = cif.strip()
    rows: list[dict[str, Any]] = []
    total = 0
    name = ""
    if cif:
        answer = await backend.get(
            viewer, f"/api/assignments/customer/{quote(cif, safe='')}/history", page=max(page, 1), pageSize=50
        )
        rows, total = answer["items"], answer["total"]
        name = (await customer_names(backend, viewer, [cif])).get(cif, "")
    agents = {str(a["id"]): a for a in await all_agents(backend, viewer)} if rows else {}
    return render(
        request,
        "assignments/history.html",
        cif=cif,
        name=name,
        rows=rows,
        total=total,
        page=max(page, 1),
        agents=agents,
        team_labels=TEAM_LABELS,
    )

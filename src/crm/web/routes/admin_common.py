"""What the admin pages share: form reading, paging links and the labels of the services' codes."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from crm.web.i18n import N_
from crm.web.labels import PAYMENT_CHANNEL_LABELS, PAYMENT_STATUS_LABELS, TEAM_LABELS
from crm.web.routes.admin_texts import RESOLUTIONS
from crm.web.session import PageRouter


def admin_router() -> PageRouter:
    return PageRouter(tags=["web"])


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields, stripped (checkboxes: present or not; lists: see ``form_list``)."""
    form = await request.form()
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


async def form_list(request: Request, name: str) -> list[str]:
    form = await request.form()
    return [value for value in form.getlist(name) if isinstance(value, str) and value]


def or_none(value: str | None) -> str | None:
    return value if value else None


def whole_number(text: str | None) -> int | str | None:
    """A form's number as the API's JSON number; anything else as typed, for the API to refuse
    with the field named (a form sends text, the API takes numbers only as numbers)."""
    if not text:
        return None
    text = text.strip()
    return int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else text


def pager(answer: dict[str, Any], base: str, **params: Any) -> dict[str, Any]:
    """Previous/next links of a ``{items,total,page,pageSize}`` page, keeping the filters."""
    page, size, total = (
        int(answer.get("page", 1)),
        int(answer.get("pageSize", 50)),
        int(answer.get("total", 0)),
    )
    pages = max(1, -(-total // size))
    kept = {k: v for k, v in params.items() if v not in (None, "")}

    def link(number: int) -> str:
        return f"{base}?{urlencode({**kept, 'page': number, 'pageSize': size})}"

    return {
        "page": page,
        "pages": pages,
        "total": total,
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
    }


AGENT_TYPES = {"AGENT": N_("Agent"), "SUPERVISOR": N_("Supervisor"), "ADMIN": N_("Administrator")}
ROLES = {
    "AGENT": N_("Agent"),
    "SUPERVISOR": N_("Supervisor"),
    "ADMIN": N_("Administrator"),
    "SYSTEM": N_("System"),
    "PAYMENT_PROCESSOR": N_("Payment processor"),
}
RUN_STATES = {
    "QUEUED": N_("Queued"),
    "RUNNING": N_("Running"),
    "SUCCEEDED": N_("Succeeded"),
    "FAILED": N_("Failed"),
}
ENTITY_STATES = {**RUN_STATES, "SKIPPED": N_("Skipped")}
"""An entity's state in a run: a run's, or skipped (its file was not delivered)."""
ACTIVE_RUN_STATES = ("QUEUED", "RUNNING")
SOURCES = ("T24", "W4", "OTHER")
ENTITIES = (
    "customers",
    "phones",
    "addresses",
    "emails",
    "loans",
    "collaterals",
    "loan_collaterals",
    "due_segmentations",
    "reference_customers",
)
VOCABULARY_KINDS = {
    "ACTION_TYPE": N_("Action types"),
    "ACTION_SUBTYPE": N_("Action subtypes"),
    "ACTION_RESULT": N_("Action results"),
    "CUSTOMER_STATUS": N_("Customer statuses"),
    "COLLATERAL_STATUS": N_("Collateral statuses"),
    "PROCESSING_STATE_STATUS": N_("Processing states"),
    "LENDING_VIOLATION_STATUS": N_("Lending violation statuses"),
    "RECOVERY_ABILITY_STATUS": N_("Recovery ability statuses"),
}
DISCREPANCIES = {
    "MISSING_IN_CRM": N_("Missing in the CRM"),
    "MISSING_IN_CORE": N_("Missing in the core"),
    "AMOUNT_MISMATCH": N_("Amount mismatch"),
    "STATUS_MISMATCH": N_("Status mismatch"),
}
LABELS = {
    "resolutions": RESOLUTIONS,
    "agent_types": AGENT_TYPES,
    "teams": TEAM_LABELS,
    "roles": ROLES,
    "run_states": RUN_STATES,
    "entity_states": ENTITY_STATES,
    "kinds": VOCABULARY_KINDS,
    "payment_statuses": PAYMENT_STATUS_LABELS,
    "channels": PAYMENT_CHANNEL_LABELS,
    "discrepancies": DISCREPANCIES,
}
"""Given to every admin template as ``labels``: codes shown in words (the words are message ids)."""

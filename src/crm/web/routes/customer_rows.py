"""What the customer search and the customer list show of each customer: the bank's record
(bank-sync: identity, status, primary phone) beside workflow's facts (dpd, due, agent, promise,
follow-up, last result), each fetched for a whole page in one call."""

from __future__ import annotations

from typing import Any

from crm.web.backend import Backend, BackendError
from crm.web.i18n import N_
from crm.web.session import Viewer

PROMISE_LABELS = {
    "OPEN": N_("Open promise"),
    "BROKEN": N_("Broken promise"),
    "NONE": N_("No promise"),
}
SORT_LABELS = {
    "-dpd": N_("Most days past due first"),
    "dpd": N_("Fewest days past due first"),
    "-due": N_("Largest amount due first"),
    "due": N_("Smallest amount due first"),
}
MAX_LOOKUP = 500


def masked_id(national_id: str | None) -> str | None:
    """A national id with all but its last four characters hidden (enough to tell namesakes apart)."""
    if not national_id:
        return None
    shown = national_id[-4:]
    return "•" * max(len(national_id) - 4, 0) + shown


async def facts_of(backend: Backend, viewer: Viewer, cifs: list[str]) -> dict[str, dict[str, Any]]:
    """``{cif: workflow's facts}`` of these customers (those workflow does not know are left out)."""
    wanted = list(dict.fromkeys(cifs))[:MAX_LOOKUP]
    if not wanted:
        return {}
    try:
        found = await backend.post(viewer, "/api/workflow/customers/lookup", json={"cifs": wanted})
    except BackendError:
        return {}  # the page still lists the customers, without their collection facts
    return {row["cif"]: row for row in found["items"]}


async def records_of(backend: Backend, viewer: Viewer, cifs: list[str]) -> dict[str, dict[str, Any]]:
    """``{cif: bank-sync's record}`` (with ``primaryPhone``) of these customers."""
    wanted = list(dict.fromkeys(cifs))[:MAX_LOOKUP]
    if not wanted:
        return {}
    try:
        found = await backend.post(viewer, "/api/customers/lookup", json={"cifs": wanted})
    except BackendError:
        return {}
    return {row["cif"]: row for row in found["items"]}


def row(record: dict[str, Any] | None, facts: dict[str, Any] | None) -> dict[str, Any]:
    """One line of a list: the record's identity and phone, the facts' collection state."""
    record, facts = record or {}, facts or {}
    return {
        "cif": record.get("cif") or facts.get("cif"),
        "name": record.get("name") or facts.get("name") or "",
        "segment": record.get("segment") or facts.get("segment"),
        "status": record.get("status") or facts.get("status"),
        "date_of_birth": record.get("dateOfBirth"),
        "masked_id": masked_id(record.get("nationalId") or record.get("taxId")),
        "phone": record.get("primaryPhone"),
        "facts": facts or None,
    }

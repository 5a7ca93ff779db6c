"""What the admin pages say for bank-sync's and payments' explanations, in the reader's language.

Bank-sync stores a rejected row's reason, an entity's error and a run's error, and payments a
reconciliation entry's note, as English sentences of a fixed form ("missing cif", "bad date in
open_date: 2026-13-01", "duplicate key in the file (first at line 4)"). A page never shows that
English: each form is recognised here as a code with its values (``sync.reject.bad_date``,
``{"field": "open_date", "value": "2026-13-01"}``) and said from the catalogues. A reconciliation
entry is explained from its kind, its resolution and its two sides, not from its note. Whatever
is not recognised is said generally, never in English.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from crm.web.i18n import N_, gettext_for, money
from crm.web.labels import PAYMENT_STATUS_LABELS

ENTITY_LABELS = {
    "customers": N_("Customers"),
    "phones": N_("Phones"),
    "addresses": N_("Addresses"),
    "emails": N_("Emails"),
    "loans": N_("Loans"),
    "collaterals": N_("Collaterals"),
    "loan_collaterals": N_("Collaterals of loans"),
    "due_segmentations": N_("Due amounts by period"),
    "reference_customers": N_("Reference persons"),
}
"""Bank-sync's entities (the names of its extract files) in words."""

REJECT_TEXTS = {
    "sync.reject.missing": N_("The value of %(field)s is missing."),
    "sync.reject.bad_date": N_("%(field)s is not a date: %(value)s"),
    "sync.reject.bad_number": N_("%(field)s is not a number: %(value)s"),
    "sync.reject.bad_boolean": N_("%(field)s is not yes or no: %(value)s"),
    "sync.reject.unknown_value": N_("%(field)s has a value that is not in the list: %(value)s"),
    "sync.reject.unknown_customer": N_("No such customer: %(value)s"),
    "sync.reject.unknown_customer_or_reference": N_("No such customer or reference person: %(value)s"),
    "sync.reject.unknown_loan": N_("No such loan: %(value)s"),
    "sync.reject.unknown_collateral": N_("No such collateral: %(value)s"),
    "sync.reject.duplicate_key": N_("The same key is in the file more than once (first at line %(line)s)."),
    "sync.reject.other": N_("The row could not be loaded."),
}
"""A rejected row's reason by its code."""

_REJECTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"missing (?P<field>\w+)"), "sync.reject.missing"),
    (re.compile(r"bad date in (?P<field>\w+): (?P<value>.*)", re.S), "sync.reject.bad_date"),
    (re.compile(r"bad number in (?P<field>\w+): (?P<value>.*)", re.S), "sync.reject.bad_number"),
    (re.compile(r"bad boolean in (?P<field>\w+): (?P<value>.*)", re.S), "sync.reject.bad_boolean"),
    (re.compile(r"unknown (?P<field>\w+) value: (?P<value>.*)", re.S), "sync.reject.unknown_value"),
    (
        re.compile(r"unknown customer or reference: (?P<value>.*)", re.S),
        "sync.reject.unknown_customer_or_reference",
    ),
    (re.compile(r"unknown customer: (?P<value>.*)", re.S), "sync.reject.unknown_customer"),
    (re.compile(r"unknown loan: (?P<value>.*)", re.S), "sync.reject.unknown_loan"),
    (re.compile(r"unknown collateral: (?P<value>.*)", re.S), "sync.reject.unknown_collateral"),
    (
        re.compile(r"duplicate key in the file \(first at line (?P<line>[0-9]+)\)"),
        "sync.reject.duplicate_key",
    ),
)

ERROR_TEXTS = {
    "sync.error.not_delivered": N_("The source did not deliver this file."),
    "sync.error.not_loaded": N_("Not loaded: %(entities)s."),
    "sync.error.no_extract": N_("No extract has arrived for %(source)s."),
    "sync.error.missing_columns": N_("The file lacks required columns: %(columns)s."),
    "sync.error.repeated_column": N_("The file repeats a column name in its header."),
    "sync.error.checksum": N_("The file does not match its manifest; it was not loaded."),
    "sync.error.unreadable": N_("The file could not be read."),
    "sync.error.crashed": N_("The run stopped unexpectedly; the entities already loaded are kept."),
}
"""An entity's or a run's error by its code."""

_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"not delivered"), "sync.error.not_delivered"),
    (re.compile(r"No extract has arrived for (?P<source>\S+)\."), "sync.error.no_extract"),
    (re.compile(r".* lacks the required column\(s\): (?P<columns>.*)\.", re.S), "sync.error.missing_columns"),
    (re.compile(r".* has a repeated column name in its header\."), "sync.error.repeated_column"),
    (re.compile(r".* does not match the manifest.*", re.S), "sync.error.checksum"),
    (re.compile(r"The run stopped unexpectedly.*", re.S), "sync.error.crashed"),
)

RESOLUTIONS = {"IMPORTED": N_("Imported"), "FLAGGED": N_("Flagged for review")}

EXPLANATIONS = {
    "reconciliation.imported": N_("Not in the CRM: imported from %(source)s, line %(line)s of its file."),
    "reconciliation.not_imported": N_(
        "Not in the CRM, and not imported: the reference number was stored meanwhile with other content."
    ),
    "reconciliation.missing_in_core": N_("Recorded by %(source)s; not among the core's payments of the day."),
    "reconciliation.amount_mismatch": N_("%(core)s in the core, %(crm)s in the CRM."),
    "reconciliation.status_mismatch": N_("%(core)s in the core, %(crm)s in the CRM."),
    "reconciliation.row_invalid": N_("The row could not be read: check %(fields)s."),
    "reconciliation.row_unreadable": N_("The row could not be read."),
}
"""A reconciliation entry's explanation, or a rejected row's, by its code."""


def _said(texts: Mapping[str, str], code: str, values: Mapping[str, Any], language: str) -> str:
    return gettext_for(language)(texts[code], **values)


def _match(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str) -> tuple[str, dict[str, str]] | None:
    for pattern, code in patterns:
        found = pattern.fullmatch(text.strip())
        if found:
            return code, found.groupdict()
    return None


def reject_code(reason: str) -> tuple[str, dict[str, str]]:
    """The code and values of a rejected row's reason (``sync.reject.other`` for another form)."""
    return _match(_REJECTS, reason or "") or ("sync.reject.other", {})


def reject_reason(reason: str, language: str) -> str:
    code, values = reject_code(reason)
    return _said(REJECT_TEXTS, code, values, language)


def error_code(error: str) -> tuple[str, dict[str, str]]:
    """The code and values of an entity's or a run's error (``sync.error.unreadable`` for another form)."""
    if (error or "").startswith("Not loaded: "):
        names = re.findall(r"(?:^Not loaded: |; )(\w+): ", error)
        return "sync.error.not_loaded", {"entities": ", ".join(names)}
    return _match(_ERRORS, error or "") or ("sync.error.unreadable", {})


def sync_error(error: str | None, language: str) -> str:
    if not error:
        return ""
    code, values = error_code(error)
    if code == "sync.error.not_loaded":
        _ = gettext_for(language)
        names = [n for n in values["entities"].split(", ") if n]
        values = {"entities": ", ".join(_(ENTITY_LABELS.get(n, n)) for n in names)}
    return _said(ERROR_TEXTS, code, values, language)


def entity_label(entity: str | None, language: str) -> str:
    """A bank-sync entity in words."""
    if not entity:
        return ""
    return gettext_for(language)(ENTITY_LABELS.get(entity, entity))


def explanation_code(entry: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The code of a reconciliation entry's explanation, from its kind, resolution and sides."""
    kind, core, crm = entry.get("kind"), entry.get("core") or {}, entry.get("crm") or {}
    if kind == "MISSING_IN_CRM":
        if entry.get("resolution") == "IMPORTED":
            return "reconciliation.imported", {
                "source": core.get("sourceSystem"),
                "line": core.get("lineNumber"),
            }
        return "reconciliation.not_imported", {}
    if kind == "MISSING_IN_CORE":
        return "reconciliation.missing_in_core", {"source": crm.get("sourceSystem")}
    if kind == "AMOUNT_MISMATCH":
        return "reconciliation.amount_mismatch", {
            "core": money(core.get("amount"), core.get("currency")),
            "crm": money(crm.get("amount"), crm.get("currency")),
        }
    return "reconciliation.status_mismatch", {"core": core.get("status"), "crm": crm.get("status")}


def explanation(entry: Mapping[str, Any], language: str) -> str:
    code, values = explanation_code(entry)
    if code == "reconciliation.status_mismatch":
        _ = gettext_for(language)
        values = {side: _(PAYMENT_STATUS_LABELS.get(str(v), str(v))) for side, v in values.items()}
    return _said(EXPLANATIONS, code, values, language)


def row_reason(reason: str, language: str) -> str:
    """A rejected core row's reason (``field: what is wrong; ...``) by the fields it names."""
    fields = [part.split(":", 1)[0].strip() for part in (reason or "").split("; ") if ":" in part]
    fields = [f for f in fields if re.fullmatch(r"[A-Za-z_][\w.]*", f)]
    if fields:
        return _said(EXPLANATIONS, "reconciliation.row_invalid", {"fields": ", ".join(fields)}, language)
    return _said(EXPLANATIONS, "reconciliation.row_unreadable", {}, language)


def admin_texts(language: str) -> dict[str, Callable[..., str]]:
    """The functions the admin templates call to say these explanations (``texts.reject(...)``)."""
    return {
        "reject": lambda reason: reject_reason(reason, language),
        "error": lambda error: sync_error(error, language),
        "entity": lambda entity: entity_label(entity, language),
        "explanation": lambda entry: explanation(entry, language),
        "row_reason": lambda reason: row_reason(reason, language),
        "record_type": lambda kind: gettext_for(language)(RECORD_TYPES.get(kind, kind)),
        "record_name": record_name,
    }


RECORD_TYPES = {
    "Agent": N_("Agent"),
    "User": N_("User"),
    "ActionRecord": N_("Action"),
    "CustomerAgent": N_("Assignment"),
    "CustomerCaseAction": N_("Case update"),
    "VocabularyEntry": N_("Vocabulary entry"),
    "VocabularyLink": N_("Vocabulary link"),
    "Customer": N_("Customer"),
    "Loan": N_("Loan"),
    "SyncRun": N_("Sync run"),
    "Payment": N_("Payment"),
    "DeadLetter": N_("Dead letter"),
    "sign_in": N_("Sign-in"),
}
"""The audited records' types (the services' ``entityType``) in words."""


def record_name(entry: Mapping[str, Any]) -> str:
    """The name of an audited record that has one (an agent's name, a vocabulary entry's label),
    from the values the audit kept; empty for a record known by its key alone."""
    for values in (entry.get("after"), entry.get("before")):
        if isinstance(values, dict):
            for field in ("name", "label"):
                if values.get(field):
                    return str(values[field])
    return ""

"""Words and colours the screens share for the services' codes: days-past-due buckets, teams,
products, payment statuses and channels.

The bucket boundaries are the platform's (``crm.platform.buckets``); here is only how they look.
Messages are marked with ``N_`` and translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from crm.platform.buckets import DpdBucket
from crm.web.i18n import N_, gettext_for

BUCKET_LABELS = {  # for choosing a bucket (search, rules)
    DpdBucket.B1.value: N_("1-30 days"),
    DpdBucket.B2.value: N_("31-60 days"),
    DpdBucket.B3.value: N_("61-90 days"),
    DpdBucket.B4.value: N_("91-180 days"),
    DpdBucket.B5.value: N_("over 180 days"),
}
BUCKETS = tuple(BUCKET_LABELS)

_BADGES = {  # for a customer's or a loan's days past due: app.css class, words
    DpdBucket.CURRENT: ("current", N_("Not past due")),
    DpdBucket.B1: ("dpd-1-30", N_("1-30 days past due")),
    DpdBucket.B2: ("dpd-31-60", N_("31-60 days past due")),
    DpdBucket.B3: ("dpd-61-90", N_("61-90 days past due")),
    DpdBucket.B4: ("dpd-90", N_("91-180 days past due")),
    DpdBucket.B5: ("dpd-90", N_("Over 180 days past due")),
}


def dpd_badge(dpd: int | None) -> tuple[str, str]:
    """The badge of ``dpd`` days past due: its css class and its words (to translate)."""
    return _BADGES[DpdBucket.of(max(dpd or 0, 0))]


TEAM_LABELS = {
    "EARLY_STAGE_CALL": N_("Early stage - call"),
    "EARLY_STAGE_FIELD": N_("Early stage - field"),
    "MID_STAGE_CALL": N_("Mid stage - call"),
    "MID_STAGE_FIELD": N_("Mid stage - field"),
    "LATE_STAGE_CALL": N_("Late stage - call"),
    "LATE_STAGE_FIELD": N_("Late stage - field"),
    "LEGAL": N_("Legal"),
    "RESTRUCTURING": N_("Restructuring"),
    "SPECIAL_ASSETS": N_("Special assets"),
    "HIGH_VALUE": N_("High value"),
    "OTHER": N_("Other"),
}
TEAMS = tuple(TEAM_LABELS)

PAYMENT_STATUS_LABELS = {
    "PENDING": N_("Pending"),
    "COMPLETED": N_("Completed"),
    "FAILED": N_("Failed"),
    "REVERSED": N_("Reversed"),
}
PAYMENT_CHANNEL_LABELS = {
    "BANK_TRANSFER": N_("Bank transfer"),
    "CASH": N_("Cash"),
    "CARD": N_("Card"),
    "ONLINE": N_("Online"),
    "AUTO_DEBIT": N_("Auto debit"),
    "MOBILE_APP": N_("Mobile app"),
    "OTHER": N_("Other"),
}
PRODUCT_LABELS = {
    "MORTGAGE": N_("Mortgage"),
    "AUTO": N_("Auto loan"),
    "SECURED_PERSONAL": N_("Secured personal loan"),
    "PERSONAL": N_("Personal loan"),
    "EDUCATION": N_("Education loan"),
    "BUSINESS": N_("Business loan"),
    "CREDIT_CARD": N_("Credit card"),
    "OVERDRAFT": N_("Overdraft"),
    "LINE_OF_CREDIT": N_("Line of credit"),
    "REFINANCE": N_("Refinance"),
    "CONSOLIDATION": N_("Consolidation"),
    "OTHER": N_("Other"),
}
PRODUCTS = tuple(PRODUCT_LABELS)
"""Bank-sync's loan product types, in the order the filters list them."""


def vocabulary_label(entry: Mapping[str, Any], language: str) -> str:
    """A vocabulary entry (as ``/api/vocabularies`` answers it) in ``language``: its label in that
    language; for an entry added without one, its English label through the catalogues."""
    labels = entry.get("labels") or {}
    english = str(labels.get("en") or entry.get("label") or entry.get("code") or "")
    own = labels.get(language)
    if own:
        return str(own)
    return gettext_for(language)(english) if english else ""


@pass_context
def vocabulary_label_here(context: Context, entry: Mapping[str, Any]) -> str:
    """``vocab_label(entry)`` in a template: the entry in the page's language."""
    return vocabulary_label(entry, str(context.get("language") or "en"))


SEGMENT_LABELS = {
    "RETAIL": N_("Retail"),
    "PRIORITY": N_("Priority"),
    "SME": N_("Small and medium business"),
    "CORPORATE": N_("Corporate"),
    "MASS": N_("Mass market"),
    "AFFLUENT": N_("Affluent"),
    "PRIVATE": N_("Private banking"),
}
"""The core banks' customer segments in words; a segment not listed here is shown as delivered."""

OVERRIDE_NOTE = "[capacity override]"
"""What workflow adds to an assignment's reason when a supervisor let an agent go over capacity."""


@pass_context
def segment_label(context: Context, code: str | None) -> str:
    """``segment_label(customer.segment)`` in a template: the segment in the page's language."""
    if not code:
        return ""
    return gettext_for(str(context.get("language") or "en"))(SEGMENT_LABELS.get(code, code))


@pass_context
def assignment_reason(context: Context, reason: str | None) -> str:
    """An assignment's reason with workflow's override marker said in the page's language."""
    if not reason:
        return ""
    if OVERRIDE_NOTE not in reason:
        return reason
    said = gettext_for(str(context.get("language") or "en"))("(over capacity: overridden)")
    return " ".join(part for part in (reason.replace(OVERRIDE_NOTE, "").strip(), said) if part)

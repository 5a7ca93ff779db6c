"""Words and colours the screens share for the services' codes: days-past-due buckets, teams,
products, payment statuses and channels.

The bucket boundaries are the platform's (``crm.platform.buckets``); here is only how they look.
Messages are marked with ``N_`` and translated where they are shown.
"""

from __future__ import annotations

from crm.platform.buckets import DpdBucket
from crm.web.i18n import N_

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

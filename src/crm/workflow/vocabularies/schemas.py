"""Vocabulary entries and links as the API shows them (camelCase)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from crm.platform.schemas import ApiModel, not_null
from crm.workflow.vocabularies.models import VocabularyKind

CODE_PATTERN = r"^[A-Z][A-Z0-9_]{0,63}$"
RESULT_FLAGS = ("is_promise", "is_contact", "follow_up_days")
LANGUAGES = ("en", "vi")


class Labels(ApiModel):
    """An entry's label in each language of the screens; ``vi`` is null for an entry added without one."""

    en: str
    vi: str | None


class LabelsWrite(ApiModel):
    """The labels to set: ``en`` is ``label`` by another name; ``vi`` null removes the Vietnamese label."""

    en: str | None = Field(default=None, min_length=1, max_length=200)
    vi: str | None = Field(default=None, min_length=1, max_length=200)


def _english_from_labels(data: Any) -> Any:
    """``labels.en``, when given, is the English label: it is ``label`` (and wins over a ``label``
    sent beside it, so that the two can never say different things)."""
    if isinstance(data, dict) and isinstance(data.get("labels"), dict):
        english = data["labels"].get("en")
        if english is not None:
            return {**data, "label": english}
    return data


class VocabularyEntryRead(ApiModel):
    kind: VocabularyKind
    code: str
    label: str = Field(description="The English label (also ``labels.en``)")
    labels: Labels
    is_promise: bool
    is_contact: bool
    follow_up_days: int | None
    is_active: bool
    sort_order: int


class ActionTypeRead(VocabularyEntryRead):
    """An action type with the subtypes and results allowed with it."""

    subtypes: list[VocabularyEntryRead]
    results: list[VocabularyEntryRead]


class CaseStatusVocabularies(ApiModel):
    """The allowed values of each case status field (named as the fields of ``POST /api/cases``)."""

    customer_status: list[VocabularyEntryRead]
    collateral_status: list[VocabularyEntryRead]
    processing_state_status: list[VocabularyEntryRead]
    lending_violation_status: list[VocabularyEntryRead]
    recovery_ability_status: list[VocabularyEntryRead]


class Vocabularies(ApiModel):
    action_types: list[ActionTypeRead]
    action_subtypes: list[VocabularyEntryRead]
    action_results: list[VocabularyEntryRead]
    case_statuses: CaseStatusVocabularies


class VocabularyEntryCreate(ApiModel):
    """A new entry; ``parentType`` links a subtype or a result to that action type at once.

    ``isPromise``, ``isContact`` and ``followUpDays`` mean something only for action results.
    """

    kind: VocabularyKind
    code: str = Field(pattern=CODE_PATTERN, description="Upper case letters, digits and _")
    label: str = Field(min_length=1, max_length=200, description="The English label")
    labels: LabelsWrite | None = Field(default=None, description="The label per language (``vi``, ``en``)")
    is_promise: bool = False
    is_contact: bool = False
    follow_up_days: int | None = Field(default=None, ge=0, le=365)
    sort_order: int = Field(default=0, ge=0, le=100_000)
    parent_type: str | None = Field(default=None, pattern=CODE_PATTERN)

    _english = model_validator(mode="before")(_english_from_labels)


class VocabularyEntryUpdate(ApiModel):
    """A partial update: only the fields in the body change; kind and code never do."""

    label: str | None = Field(default=None, min_length=1, max_length=200)
    labels: LabelsWrite | None = None
    is_promise: bool | None = None
    is_contact: bool | None = None
    follow_up_days: int | None = Field(default=None, ge=0, le=365)
    is_active: bool | None = None
    sort_order: int | None = Field(default=None, ge=0, le=100_000)

    _not_null = not_null("label", "labels", "is_promise", "is_contact", "is_active", "sort_order")
    _english = model_validator(mode="before")(_english_from_labels)


class VocabularyLinkRead(ApiModel):
    link: str
    parent_kind: str
    parent_code: str
    child_kind: str
    child_code: str

"""Action and case-status vocabularies: data an ADMIN edits, not code (docs/data-model.md).

One table of entries (``kind`` + ``code``) and one of links between them: an action type's allowed
subtypes (``TYPE_SUBTYPE``) and allowed results (``TYPE_RESULT``). A result says whether it is a
promise (needs an amount and a date), whether the customer was reached, and how many days later a
follow-up is due. Each entry has a label per language: ``label`` (English) and ``label_vi``
(Vietnamese; empty only for an entry added without one). An entry is retired with
``is_active = false``, never deleted while used.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKeyConstraint, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.workflow.models import Base


class VocabularyKind(StrEnum):
    ACTION_TYPE = "ACTION_TYPE"
    ACTION_SUBTYPE = "ACTION_SUBTYPE"
    ACTION_RESULT = "ACTION_RESULT"
    CUSTOMER_STATUS = "CUSTOMER_STATUS"
    COLLATERAL_STATUS = "COLLATERAL_STATUS"
    PROCESSING_STATE_STATUS = "PROCESSING_STATE_STATUS"
    LENDING_VIOLATION_STATUS = "LENDING_VIOLATION_STATUS"
    RECOVERY_ABILITY_STATUS = "RECOVERY_ABILITY_STATUS"


class LinkKind(StrEnum):
    TYPE_SUBTYPE = "TYPE_SUBTYPE"
    TYPE_RESULT = "TYPE_RESULT"


class VocabularyEntry(Base):
    __tablename__ = "vocabulary_entry"
    __audit__ = True
    __audit_key__ = "code"
    __table_args__ = (
        CheckConstraint("follow_up_days IS NULL OR follow_up_days >= 0", name="follow_up_days_non_negative"),
        CheckConstraint("label_vi IS NULL OR btrim(label_vi) <> ''", name="label_vi_not_blank"),
    )

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    label_vi: Mapped[str | None] = mapped_column(Text)
    is_promise: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    is_contact: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    follow_up_days: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    @property
    def labels(self) -> dict[str, str | None]:
        """The label in each language, as the API shows it."""
        return {"en": self.label, "vi": self.label_vi}


class VocabularyLink(Base):
    __tablename__ = "vocabulary_link"
    __audit__ = True
    __audit_key__ = "child_code"
    __table_args__ = (
        ForeignKeyConstraint(
            ["parent_kind", "parent_code"],
            ["workflow.vocabulary_entry.kind", "workflow.vocabulary_entry.code"],
        ),
        ForeignKeyConstraint(
            ["child_kind", "child_code"], ["workflow.vocabulary_entry.kind", "workflow.vocabulary_entry.code"]
        ),
    )

    link: Mapped[str] = mapped_column(Text, primary_key=True)
    parent_kind: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str] = mapped_column(Text, primary_key=True)
    child_kind: Mapped[str] = mapped_column(Text)
    child_code: Mapped[str] = mapped_column(Text, primary_key=True)

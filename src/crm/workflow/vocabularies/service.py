"""Vocabularies: what action types, subtypes, results and case statuses exist, and which go together.

Entries are never deleted (past actions and case updates keep naming them): retiring one sets
``is_active = false``, after which it is refused for new records but still shown with
``includeInactive``.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from pydantic.alias_generators import to_camel
from sqlalchemy import exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.business_time import business_date, day_bounds
from crm.platform.db import utcnow
from crm.platform.errors import BusinessRuleViolation, Conflict, NotFound
from crm.platform.problems import declare
from crm.workflow.actions.models import ActionRecord
from crm.workflow.vocabularies.models import LinkKind, VocabularyEntry, VocabularyKind, VocabularyLink
from crm.workflow.vocabularies.schemas import (
    RESULT_FLAGS,
    ActionTypeRead,
    CaseStatusVocabularies,
    Vocabularies,
    VocabularyEntryCreate,
    VocabularyEntryRead,
    VocabularyEntryUpdate,
)

NO_VOCABULARY = declare("vocabulary.unknown", "No vocabulary {kind!r}; known: {known}.")
NO_ENTRY = declare("vocabulary.entry_not_found", "No {kind} with code {code!r}.")
ONLY_RESULTS = declare("vocabulary.only_results", "{field} is only for ACTION_RESULT entries.")
PARENT_NOT_ALLOWED = declare(
    "vocabulary.parent_not_allowed", "parentType is only for ACTION_SUBTYPE and ACTION_RESULT entries."
)
ENTRY_EXISTS = declare("vocabulary.entry_exists", "{kind} {code!r} already exists.")
UNKNOWN_PARENT = declare("vocabulary.unknown_parent", "No action type {code!r}.")
RESULT_IN_USE = declare(
    "vocabulary.result_in_use", "Actions were recorded with {code!r}; whether it is a promise cannot change."
)
NOT_LINKABLE = declare(
    "vocabulary.not_linkable",
    "Only ACTION_SUBTYPE and ACTION_RESULT entries are linked to a type, not {kind}.",
)
NOT_LINKED = declare("vocabulary.not_linked", "{kind} {code!r} is not linked to action type {type!r}.")
NOT_IN_VOCABULARY = declare("vocabulary.value_not_allowed", "Must be one of {allowed}.")
CASE_STATUS_INVALID = declare("case.status_invalid", "Invalid value for: {fields}.")

CASE_STATUS_KINDS: dict[str, VocabularyKind] = {
    "customer_status": VocabularyKind.CUSTOMER_STATUS,
    "collateral_status": VocabularyKind.COLLATERAL_STATUS,
    "processing_state_status": VocabularyKind.PROCESSING_STATE_STATUS,
    "lending_violation_status": VocabularyKind.LENDING_VIOLATION_STATUS,
    "recovery_ability_status": VocabularyKind.RECOVERY_ABILITY_STATUS,
}
"""Case status field (column name) -> the vocabulary of its values."""

LINK_OF_CHILD: dict[VocabularyKind, LinkKind] = {
    VocabularyKind.ACTION_SUBTYPE: LinkKind.TYPE_SUBTYPE,
    VocabularyKind.ACTION_RESULT: LinkKind.TYPE_RESULT,
}
ORDER = (VocabularyEntry.sort_order, VocabularyEntry.code)


def parse_kind(kind: str) -> VocabularyKind:
    """The vocabulary named in a path, or 404."""
    try:
        return VocabularyKind(kind)
    except ValueError:
        raise NotFound.of(NO_VOCABULARY, kind=kind, known=", ".join(VocabularyKind)) from None


async def find_entry(session: AsyncSession, kind: VocabularyKind, code: str) -> VocabularyEntry | None:
    return await session.get(VocabularyEntry, (kind.value, code))


async def get_entry(session: AsyncSession, kind: VocabularyKind, code: str) -> VocabularyEntry:
    """One entry, or 404."""
    entry = await find_entry(session, kind, code)
    if entry is None:
        raise NotFound.of(NO_ENTRY, kind=kind.value, code=code)
    return entry


async def is_linked(session: AsyncSession, link: LinkKind, type_code: str, child_code: str) -> bool:
    """Whether ``child_code`` is allowed with the action type ``type_code``."""
    found = await session.scalar(
        select(VocabularyLink.child_code).where(
            VocabularyLink.link == link.value,
            VocabularyLink.parent_code == type_code,
            VocabularyLink.child_code == child_code,
        )
    )
    return found is not None


async def vocabularies(session: AsyncSession, *, include_inactive: bool = False) -> Vocabularies:
    """Every vocabulary; action types carry their allowed subtypes and results."""
    query = select(VocabularyEntry).order_by(VocabularyEntry.kind, *ORDER)
    if not include_inactive:
        query = query.where(VocabularyEntry.is_active)
    entries = list(await session.scalars(query))
    by_kind: dict[str, list[VocabularyEntry]] = {k.value: [] for k in VocabularyKind}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry)
    shown = {(e.kind, e.code): e for e in entries}
    links = (await session.execute(select(VocabularyLink))).scalars().all()
    children: dict[tuple[str, str], list[VocabularyEntry]] = {}
    for link in links:
        child = shown.get((link.child_kind, link.child_code))
        if child is not None:
            children.setdefault((link.link, link.parent_code), []).append(child)

    def read(rows: list[VocabularyEntry]) -> list[VocabularyEntryRead]:
        rows = sorted(rows, key=lambda e: (e.sort_order, e.code))
        return [VocabularyEntryRead.model_validate(e) for e in rows]

    types = [
        ActionTypeRead.model_validate(
            {
                **VocabularyEntryRead.model_validate(t).model_dump(),
                "subtypes": read(children.get((LinkKind.TYPE_SUBTYPE.value, t.code), [])),
                "results": read(children.get((LinkKind.TYPE_RESULT.value, t.code), [])),
            }
        )
        for t in by_kind[VocabularyKind.ACTION_TYPE.value]
    ]
    return Vocabularies(
        action_types=types,
        action_subtypes=read(by_kind[VocabularyKind.ACTION_SUBTYPE.value]),
        action_results=read(by_kind[VocabularyKind.ACTION_RESULT.value]),
        case_statuses=CaseStatusVocabularies.model_validate(
            {field: read(by_kind[kind.value]) for field, kind in CASE_STATUS_KINDS.items()}
        ),
    )


def _only_for_results(kind: VocabularyKind, values: Mapping[str, object]) -> None:
    if kind == VocabularyKind.ACTION_RESULT:
        return
    for name in RESULT_FLAGS:
        if values.get(name) not in (None, False):
            field = to_camel(name)
            raise BusinessRuleViolation.of(
                ONLY_RESULTS, errors=[ONLY_RESULTS.field(field, field=field)], field=field
            )


async def create_entry(session: AsyncSession, data: VocabularyEntryCreate) -> VocabularyEntry:
    """Add an entry (409 if its code exists in its vocabulary), linked to ``parentType`` if given."""
    _only_for_results(data.kind, data.model_dump())
    if data.parent_type is not None and data.kind not in LINK_OF_CHILD:
        raise BusinessRuleViolation.of(PARENT_NOT_ALLOWED, errors=[PARENT_NOT_ALLOWED.field("parentType")])
    if await find_entry(session, data.kind, data.code) is not None:
        entry_key = {"kind": data.kind.value, "code": data.code}
        raise Conflict.of(ENTRY_EXISTS, errors=[ENTRY_EXISTS.field("code", **entry_key)], **entry_key)
    parent = None
    if data.parent_type is not None:
        parent = await find_entry(session, VocabularyKind.ACTION_TYPE, data.parent_type)
        if parent is None:
            parent_type = data.parent_type
            raise BusinessRuleViolation.of(
                UNKNOWN_PARENT,
                errors=[UNKNOWN_PARENT.field("parentType", code=parent_type)],
                code=parent_type,
            )
    entry = VocabularyEntry(
        **data.model_dump(exclude={"parent_type", "kind", "labels"}),
        kind=data.kind.value,
        label_vi=data.labels.vi if data.labels is not None else None,
    )
    session.add(entry)
    await session.flush()
    if parent is not None:
        await _add_link(session, parent, entry)
    return entry


async def update_entry(
    session: AsyncSession, kind: VocabularyKind, code: str, data: VocabularyEntryUpdate, *, tz: ZoneInfo
) -> VocabularyEntry:
    """Change the fields present in ``data``.

    A result used by recorded actions cannot change ``isPromise`` (409): those actions' promise
    fields would no longer match their result. A change of ``isContact`` changes who counts as
    contacted today, which the call queue skips: the queue facts of the customers with an action of
    this result today (business time ``tz``) are recomputed with the change. Older contacts do not
    matter to the queue; their facts follow at the customer's next write.
    """
    entry = await get_entry(session, kind, code)
    changes = data.model_dump(exclude_unset=True)
    labels = changes.pop("labels", None) or {}
    if "vi" in labels:
        changes["label_vi"] = labels["vi"]
    _only_for_results(kind, changes)
    if (
        "is_promise" in changes
        and changes["is_promise"] != entry.is_promise
        and await _result_used(session, code)
    ):
        raise Conflict.of(RESULT_IN_USE, errors=[RESULT_IN_USE.field("isPromise", code=code)], code=code)
    contact_changed = "is_contact" in changes and changes["is_contact"] != entry.is_contact
    for key, value in changes.items():
        if getattr(entry, key) != value:
            setattr(entry, key, value)
    await session.flush()
    if contact_changed:
        await session.execute(
            text(
                "SELECT workflow.refresh_queue_facts(ARRAY(SELECT DISTINCT cif FROM workflow.action_record"
                " WHERE action_result = :code AND action_date >= :since))"
            ),
            {"code": code, "since": day_bounds(business_date(utcnow(), tz), tz)[0]},
        )
    return entry


async def retire_entry(session: AsyncSession, kind: VocabularyKind, code: str) -> VocabularyEntry:
    """Retire an entry: refused for new records from now on, kept for the records that use it."""
    entry = await get_entry(session, kind, code)
    entry.is_active = False
    await session.flush()
    return entry


async def _result_used(session: AsyncSession, code: str) -> bool:
    return bool(await session.scalar(select(exists().where(ActionRecord.action_result == code))))


async def _add_link(session: AsyncSession, parent: VocabularyEntry, child: VocabularyEntry) -> VocabularyLink:
    link = VocabularyLink(
        link=LINK_OF_CHILD[VocabularyKind(child.kind)].value,
        parent_kind=parent.kind,
        parent_code=parent.code,
        child_kind=child.kind,
        child_code=child.code,
    )
    session.add(link)
    await session.flush()
    return link


def _child_kind(kind: str) -> VocabularyKind:
    child_kind = parse_kind(kind)
    if child_kind not in LINK_OF_CHILD:
        raise NotFound.of(NOT_LINKABLE, kind=kind)
    return child_kind


async def _find_link(
    session: AsyncSession, link: LinkKind, type_code: str, code: str
) -> VocabularyLink | None:
    return await session.get(VocabularyLink, (link.value, type_code, code))


async def link(session: AsyncSession, type_code: str, kind: str, code: str) -> tuple[VocabularyLink, bool]:
    """Allow a subtype or result with an action type; (the link, whether it is new)."""
    child_kind = _child_kind(kind)
    parent = await get_entry(session, VocabularyKind.ACTION_TYPE, type_code)
    child = await get_entry(session, child_kind, code)
    existing = await _find_link(session, LINK_OF_CHILD[child_kind], type_code, code)
    if existing is not None:
        return existing, False
    return await _add_link(session, parent, child), True


async def unlink(session: AsyncSession, type_code: str, kind: str, code: str) -> None:
    """No longer allow a subtype or result with an action type (past actions keep it); 404 if not linked."""
    child_kind = _child_kind(kind)
    existing = await _find_link(session, LINK_OF_CHILD[child_kind], type_code, code)
    if existing is None:
        raise NotFound.of(NOT_LINKED, kind=child_kind.value, code=code, type=type_code)
    await session.delete(existing)
    await session.flush()


async def check_case_statuses(session: AsyncSession, statuses: Mapping[str, str]) -> None:
    """Refuse (422 naming the field) a case status value that is not an active entry of its vocabulary."""
    errors = []
    for field, value in statuses.items():
        entry = await find_entry(session, CASE_STATUS_KINDS[field], value)
        if entry is None or not entry.is_active:
            allowed = await session.scalars(
                select(VocabularyEntry.code)
                .where(VocabularyEntry.kind == CASE_STATUS_KINDS[field].value, VocabularyEntry.is_active)
                .order_by(*ORDER)
            )
            errors.append(NOT_IN_VOCABULARY.field(to_camel(field), allowed=", ".join(allowed)))
    if errors:
        fields = ", ".join(e["field"] for e in errors)
        raise BusinessRuleViolation.of(CASE_STATUS_INVALID, errors=errors, fields=fields)

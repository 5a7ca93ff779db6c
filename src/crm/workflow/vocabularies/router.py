"""Routes: the action and case-status vocabularies (read by all, edited by ADMIN)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response

from crm.platform.auth import SecureRouter
from crm.platform.db import Session
from crm.platform.state import BusinessZone
from crm.workflow.access import ADMIN_ONLY, READ
from crm.workflow.vocabularies import service
from crm.workflow.vocabularies.models import VocabularyEntry, VocabularyLink
from crm.workflow.vocabularies.schemas import (
    Vocabularies,
    VocabularyEntryCreate,
    VocabularyEntryRead,
    VocabularyEntryUpdate,
    VocabularyLinkRead,
)

router = SecureRouter(prefix="/api/vocabularies", tags=["vocabularies"])
Kind = Annotated[str, Path(description="ACTION_TYPE, ACTION_SUBTYPE, ACTION_RESULT or a case status kind")]
Code = Annotated[str, Path(min_length=1, max_length=64)]
NOT_FOUND = {404: {"description": "no such vocabulary or entry"}}


@router.get("", access=READ, response_model=Vocabularies)
async def get_vocabularies(
    session: Session, include_inactive: Annotated[bool, Query(alias="includeInactive")] = False
) -> Vocabularies:
    """Action types with their allowed subtypes and results, and the case status lists."""
    return await service.vocabularies(session, include_inactive=include_inactive)


@router.post(
    "",
    access=ADMIN_ONLY,
    status_code=201,
    response_model=VocabularyEntryRead,
    responses={409: {"description": "the code exists in that vocabulary"}},
)
async def create_entry(body: VocabularyEntryCreate, session: Session) -> VocabularyEntry:
    """Add an entry to a vocabulary (optionally linked to an action type with ``parentType``)."""
    return await service.create_entry(session, body)


@router.put(
    "/{kind}/{code}",
    access=ADMIN_ONLY,
    response_model=VocabularyEntryRead,
    responses={**NOT_FOUND, 409: {"description": "isPromise of a result that actions use"}},
)
async def update_entry(
    tz: BusinessZone, body: VocabularyEntryUpdate, session: Session, kind: Kind, code: Code
) -> VocabularyEntry:
    """Change an entry's label, flags, sort order or whether it is active."""
    return await service.update_entry(session, service.parse_kind(kind), code, body, tz=tz)


@router.delete("/{kind}/{code}", access=ADMIN_ONLY, response_model=VocabularyEntryRead, responses=NOT_FOUND)
async def retire_entry(session: Session, kind: Kind, code: Code) -> VocabularyEntry:
    """Retire an entry (isActive=false): refused for new records, kept for those that use it."""
    return await service.retire_entry(session, service.parse_kind(kind), code)


@router.post(
    "/ACTION_TYPE/{type}/links/{kind}/{code}",
    access=ADMIN_ONLY,
    status_code=201,
    response_model=VocabularyLinkRead,
    responses={**NOT_FOUND, 200: {"description": "already linked", "model": VocabularyLinkRead}},
)
async def link_to_type(
    session: Session,
    response: Response,
    type_code: Annotated[str, Path(alias="type", min_length=1, max_length=64)],
    kind: Kind,
    code: Code,
) -> VocabularyLink:
    """Allow a subtype or a result with an action type (200 if it already was)."""
    link, created = await service.link(session, type_code, kind, code)
    if not created:
        response.status_code = 200
    return link


@router.delete(
    "/ACTION_TYPE/{type}/links/{kind}/{code}", access=ADMIN_ONLY, status_code=204, responses=NOT_FOUND
)
async def unlink_from_type(
    session: Session,
    type_code: Annotated[str, Path(alias="type", min_length=1, max_length=64)],
    kind: Kind,
    code: Code,
) -> Response:
    """No longer allow a subtype or a result with an action type (recorded actions keep it)."""
    await service.unlink(session, type_code, kind, code)
    return Response(status_code=204)

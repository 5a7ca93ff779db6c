"""``<prefix>/dead-letters``: a service's dead letters, for ADMINs (the web UI's dead-letter screen).

Each service answers for the events its own consumers gave up on, under the prefix of its audit
trail; a replay is audited there (``crm.platform.dead_letters``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from crm.platform import dead_letters
from crm.platform.auth import Access, Role, SecureRouter
from crm.platform.db import Session
from crm.platform.errors import NotFound
from crm.platform.problems import declare
from crm.platform.schemas import ApiModel, Moment
from crm.platform.state import Bus
from crm.platform.tables import PlatformTables

NO_DEAD_LETTER = declare("dead_letter.not_found", "No dead letter {sequence} of this service.")

ADMIN_ONLY = Access.of(Role.ADMIN)
Sequence = Annotated[int, Path(ge=1, le=2**53 - 1, description="The dead letter's stream sequence")]


class DeadLetterRead(ApiModel):
    sequence: int
    service: str
    consumer: str
    subject: str
    error: str
    deliveries: int
    dead_at: Moment
    event_id: str | None
    event_type: str | None
    payload: Any  # personal data masked


class ReplayResult(ApiModel):
    replayed: list[int]


def _read(letter: dead_letters.DeadLetter) -> DeadLetterRead:
    return DeadLetterRead.model_validate(letter, from_attributes=True)


def dead_letter_router(prefix: str, service: str, tables: PlatformTables) -> SecureRouter:
    """The dead-letter routes of ``service`` (its replays audited in its ``tables``)."""
    router = SecureRouter(prefix=f"{prefix}/dead-letters", tags=["dead letters"])

    @router.get("", access=ADMIN_ONLY, response_model=list[DeadLetterRead])
    async def list_dead_letters(bus: Bus) -> list[DeadLetterRead]:
        """The events this service's consumers gave up on, oldest first (payloads masked)."""
        letters = await dead_letters.list_letters(bus, service)
        return [_read(letter) for letter in letters]

    @router.get("/{sequence:int}", access=ADMIN_ONLY, response_model=DeadLetterRead)
    async def show_dead_letter(bus: Bus, sequence: Sequence) -> DeadLetterRead:
        """One dead letter: its error, deliveries and masked payload."""
        letter = await dead_letters.find(bus, sequence, service)
        if letter is None:
            raise NotFound.of(NO_DEAD_LETTER, sequence=sequence)
        return _read(letter)

    @router.post("/{sequence:int}/replay", access=ADMIN_ONLY, response_model=DeadLetterRead)
    async def replay_dead_letter(bus: Bus, session: Session, sequence: Sequence) -> DeadLetterRead:
        """Publish the event again on its subject (consumers that applied it skip it), audited."""
        letter = await dead_letters.replay(bus, session, tables, sequence, service)
        if letter is None:
            raise NotFound.of(NO_DEAD_LETTER, sequence=sequence)
        return _read(letter)

    @router.post("/replay", access=ADMIN_ONLY, response_model=ReplayResult)
    async def replay_all(bus: Bus, session: Session) -> ReplayResult:
        """Replay every dead letter of this service, oldest first."""
        replayed = []
        for letter in await dead_letters.list_letters(bus, service):
            if await dead_letters.replay(bus, session, tables, letter.sequence, service):
                replayed.append(letter.sequence)
        return ReplayResult(replayed=replayed)

    return router

"""Dead letters: events a consumer gave up on, read and replayed without the ``nats`` CLI.

A consumer that fails an event ``max_deliveries`` times publishes it to
``crm.dead_letter.<service>.<consumer>`` (stream ``CRM_DEAD_LETTER``) with the error, the number of
deliveries and the original subject in its headers (``crm.platform.consumer``). Once the cause is
fixed (a missing reference loaded, a bug deployed away) the event is replayed: published again on
its original subject under a new message id, so every consumer of that subject receives it; those
that applied it before skip it (``processed_event``), the one that failed applies it now. The dead
letter is then removed from the stream, and the replay written to the service's audit trail.
Payloads are shown with personal data masked, as in the logs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nats.js.errors
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.audit import record_change
from crm.platform.bus import Bus
from crm.platform.events import DEAD_LETTER_STREAM
from crm.platform.logging import get_logger, mask
from crm.platform.tables import PlatformTables

STREAM = DEAD_LETTER_STREAM[0]
MAX_LISTED = 1000
"""Most dead letters one listing reads (the stream keeps 30 days)."""
log = get_logger("crm.dead_letters")


@dataclass(frozen=True)
class DeadLetter:
    sequence: int
    service: str
    consumer: str
    subject: str
    error: str
    deliveries: int
    dead_at: datetime
    event_id: str | None
    event_type: str | None
    payload: Any  # personal data masked

    def summary(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "subject": self.subject,
            "eventId": self.event_id,
            "error": self.error,
        }


def _when(time: Any) -> datetime:
    """The server's RFC 3339 time of the message (nanoseconds cut to what ``datetime`` keeps)."""
    if isinstance(time, datetime):
        return time
    text = re.sub(r"(\.\d{6})\d+", r"\1", str(time)).replace("Z", "+00:00")
    return datetime.fromisoformat(text)


def _letter(msg: Any) -> DeadLetter:
    headers = msg.headers or {}
    _, _, service, consumer = [*msg.subject.split(".", 3), "", "", "", ""][:4]
    try:
        body: Any = json.loads(msg.data)
    except ValueError:
        body = {"undecodable": msg.data[:200].decode("utf-8", "replace")}
    event = body if isinstance(body, dict) else {}
    return DeadLetter(
        sequence=msg.seq,
        service=service,
        consumer=consumer,
        subject=str(headers.get("Crm-Original-Subject", "")),
        error=str(headers.get("Crm-Error", "")),  # a non-ASCII error arrives as an email Header
        deliveries=int(str(headers.get("Crm-Deliveries", "0")) or 0),
        dead_at=_when(msg.time),
        event_id=str(event.get("eventId")) if event.get("eventId") else None,
        event_type=str(event.get("type")) if event.get("type") else None,
        payload=mask(body),
    )


async def list_letters(bus: Bus, service: str | None = None) -> list[DeadLetter]:
    """The dead letters (of ``service``, or all), oldest first, at most ``MAX_LISTED``."""
    info = await bus.js.stream_info(STREAM)
    letters: list[DeadLetter] = []
    seq = info.state.first_seq
    while seq and seq <= info.state.last_seq and len(letters) < MAX_LISTED:
        msg = await _get(bus, seq)
        seq += 1
        if msg is None:  # a gap: replayed (deleted) before
            continue
        letter = _letter(msg)
        if service is None or letter.service == service:
            letters.append(letter)
    return letters


async def _get(bus: Bus, sequence: int) -> Any:
    try:
        return await bus.js.get_msg(STREAM, sequence)
    except nats.js.errors.NotFoundError:
        return None


async def find(bus: Bus, sequence: int, service: str | None = None) -> DeadLetter | None:
    msg = await _get(bus, sequence)
    if msg is None:
        return None
    letter = _letter(msg)
    return letter if service is None or letter.service == service else None


async def replay(
    bus: Bus, session: AsyncSession, tables: PlatformTables, sequence: int, service: str | None = None
) -> DeadLetter | None:
    """Publish the dead letter ``sequence`` on its original subject again, audit it in ``session``
    (the caller commits), and remove it; None when there is no such dead letter (of ``service``)."""
    msg = await _get(bus, sequence)
    if msg is None:
        return None
    letter = _letter(msg)
    if (service is not None and letter.service != service) or not letter.subject:
        return None
    await record_change(
        session,
        tables,
        action="REPLAY",
        entity_type="DeadLetter",
        entity_key=str(sequence),
        before=letter.summary(),
        after={"publishedOn": letter.subject},
    )
    await bus.publish(
        letter.subject, msg.data, msg_id=f"replay-{sequence}", headers={"Crm-Replay-Of": str(sequence)}
    )
    await bus.js.delete_msg(STREAM, sequence)
    log.info("dead_letter_replayed", sequence=sequence, subject=letter.subject, event_id=letter.event_id)
    return letter

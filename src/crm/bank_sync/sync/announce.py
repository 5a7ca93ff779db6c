"""``crm sync-announce``: publish ENTITY_UPDATED events naming every record bank-sync holds.

A nightly load announces only the records it changed. A service that keeps a copy of bank-sync's
data from those events (workflow's read model) and is deployed after bank-sync already held data,
or whose copy was lost, would never hear of the records that do not change. Announcing them all
makes it fetch them through its usual path; following services treat the events as "look these
keys up again", so announcing a record twice does no harm.

The events go through bank-sync's outbox in one transaction: all of them, or none if it fails.
"""

# ruff: noqa: S608 - table and key columns come from the entity specs, values are bound parameters

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text

from crm.bank_sync.sync.entities import ENTITIES
from crm.platform.db import Database
from crm.platform.events import SyncEvent
from crm.platform.outbox import Outbox

FOLLOWED = ("customers", "loans")
"""What other services follow today (workflow's read model): the default of the command."""


@dataclass
class Announcement:
    run_id: str
    """In every event of this announcement (no sync run has this id)."""
    records: dict[str, int] = field(default_factory=dict)
    """Keys announced per entity."""


async def announce(
    db: Database,
    outbox: Outbox,
    entities: Sequence[str] = FOLLOWED,
    *,
    sources: Sequence[str] | None = None,
    chunk: int = 1000,
) -> Announcement:
    """Stage one ENTITY_UPDATED event per ``chunk`` keys of each entity and source system (``sources``,
    or every one that has records)."""
    announced = Announcement(run_id=str(uuid.uuid4()))
    async with db.transaction() as session:
        for name in entities:
            spec = ENTITIES[name]
            table = spec.table.fullname
            key = " || '|' || ".join(spec.key)
            announced.records[name] = 0
            found = (
                sources
                or (await session.execute(text(f"SELECT DISTINCT source_system FROM {table}"))).scalars()
            )
            for source in sorted(found):
                # Keyset pages over the natural key's unique index: flat memory whatever the size.
                page = text(
                    f"""SELECT array_agg(key ORDER BY key) FROM (
                            SELECT {key} AS key FROM {table}
                            WHERE source_system = :source AND {key} > :after
                            ORDER BY 1 LIMIT :chunk) k"""
                )
                after = ""  # natural keys are never empty
                while keys := (
                    await session.execute(page, {"source": source, "after": after, "chunk": chunk})
                ).scalar_one():
                    event = SyncEvent(
                        type="ENTITY_UPDATED",
                        entity_type=name,
                        source_system=source,
                        affected_records=list(keys),
                        run_id=announced.run_id,
                    )
                    await outbox.add(session, event)
                    announced.records[name] += len(keys)
                    after = keys[-1]
    return announced

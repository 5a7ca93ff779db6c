"""How fresh each synchronized record is: its effective ``lastSyncedAt`` and whether it is stale."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.records.models import SyncEntityState
from crm.bank_sync.records.schemas import EntityType, SynchronizedRead

R = TypeVar("R", bound=SynchronizedRead)


class Synchronized(Protocol):
    @property
    def source_system(self) -> str: ...
    @property
    def last_synced_at(self) -> datetime | None: ...
    @property
    def missing_since(self) -> datetime | None: ...


def effective_last_synced_at(
    last_synced_at: datetime | None, missing_since: datetime | None, snapshot_at: datetime | None
) -> datetime | None:
    """When a sync last saw the record: unchanged rows are not rewritten, so the entity's last
    snapshot counts too, unless the record was missing from a snapshot (then its own time stands)."""
    if missing_since is not None or snapshot_at is None:
        return last_synced_at
    if last_synced_at is None:
        return snapshot_at
    return max(last_synced_at, snapshot_at)


async def snapshot_times(session: AsyncSession) -> dict[tuple[str, str], datetime]:
    """When each (source system, entity type) last had a full snapshot loaded (a few dozen rows)."""
    rows = await session.execute(
        select(SyncEntityState.source_system, SyncEntityState.entity_type, SyncEntityState.last_snapshot_at)
    )
    return {(source, entity): at for source, entity, at in rows}


class Freshness:
    """Reads records into their schemas with the effective ``lastSyncedAt`` and ``stale``."""

    def __init__(self, snapshots: Mapping[tuple[str, str], datetime]) -> None:
        self.snapshots = snapshots

    @classmethod
    async def load(cls, session: AsyncSession) -> Freshness:
        return cls(await snapshot_times(session))

    def read(self, schema: type[R], row: Synchronized, entity: EntityType) -> R:
        snapshot_at = self.snapshots.get((row.source_system, entity.value))
        return schema.model_validate(row).model_copy(
            update={
                "last_synced_at": effective_last_synced_at(
                    row.last_synced_at, row.missing_since, snapshot_at
                ),
                "stale": row.missing_since is not None,
            }
        )

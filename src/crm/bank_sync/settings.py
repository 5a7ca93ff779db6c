"""Bank Synchronization settings."""

from __future__ import annotations

from pathlib import Path

from crm.platform.settings import PlatformSettings


class BankSyncSettings(PlatformSettings):
    inbox_dir: Path | None = None
    """``CRM_INBOX_DIR``: where extracts arrive, in ``<SOURCE>/<YYYY-MM-DD>/`` folders."""
    sync_sources: str = "T24,W4,OTHER"
    sync_sql_sources: str | None = None
    """``CRM_SYNC_SQL_SOURCES``: JSON ``{"OTHER": {"url": ..., "queries": {"customers": "SELECT ..."}}}``."""
    sync_schedule: str | None = "30 1 * * *"
    """Cron expression, business time zone, for the nightly run of every source (empty: no schedule)."""
    sync_worker: bool = True
    """Run queued sync runs in this process (turn off in API-only replicas)."""
    sync_poll_interval: float = 1.0
    sync_parallel_entities: int = 2
    """``CRM_SYNC_PARALLEL_ENTITIES``: entity files loaded at once (parents always first); about the
    number of cores PostgreSQL may use for the nightly load."""

    @property
    def inbox(self) -> Path:
        return (self.inbox_dir or self.data_dir / "inbox").expanduser().resolve()

    @property
    def sources(self) -> list[str]:
        return [s.strip() for s in self.sync_sources.split(",") if s.strip()]

"""Loading one entity file: COPY into a raw staging table, validate set-based, upsert what changed.

Everything heavy happens inside PostgreSQL on text staged by COPY (no Python object per row):
1. COPY the file as delivered into a temp table of text columns, numbered by line;
2. check it against the manifest (row count, sha256);
3. give every bad row its reason in a few set-based statements (missing key, bad number or date,
   unknown enum value, duplicate key in the file, unknown parent) and keep those rows as rejects;
4. MERGE the good rows, updating only rows whose values differ, and count what changed;
5. mark records of this source that the snapshot no longer has as missing (stale);
6. stage ENTITY_UPDATED events with the changed natural keys, in chunks, through the outbox.
All of it is one transaction: a crash or kill mid-file leaves the previous data as it was.
"""

# ruff: noqa: S608, E501 - the SQL is built from the entity specs' own identifiers (c0..cN staging columns);
# values from the files only ever travel as COPY data or as escaped literals (_lit).
from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from crm.bank_sync.sync.connectors import ExtractError, ExtractFile
from crm.bank_sync.sync.entities import EntitySpec, Field
from crm.platform.db import Database, utcnow
from crm.platform.events import SyncEvent
from crm.platform.logging import get_logger
from crm.platform.outbox import Outbox

log = get_logger("crm.bank_sync.pipeline")
SCHEMA = "bank_sync"
CASTS = {
    "int": "integer",
    "money": "numeric(18,2)",
    "rate": "numeric(8,4)",
    "size": "numeric(12,2)",
    "date": "date",
}
TRUE = ("true", "1", "y", "yes")
FALSE = ("false", "0", "n", "no")
Progress = Callable[[str, str, int], None]
"""progress(entity, phase, amount): phase is "bytes" (copied so far) or a step name."""


@dataclass
class EntityResult:
    entity: str
    state: str = "SUCCEEDED"
    file: str | None = None
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    stale: int = 0
    seconds: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Columns:
    """The staged columns of one file: c0..cN (text) mapped to the entity's fields."""

    def __init__(self, spec: EntitySpec, header: list[str]) -> None:
        self.spec = spec
        self.header = header
        if len(set(header)) != len(header):
            raise ExtractError(f"{spec.file_name} has a repeated column name in its header.")
        known = spec.by_name()
        self.stage = {name: f"c{i}" for i, name in enumerate(header)}
        self.fields = [known[name] for name in header if name in known]
        self.unknown = [name for name in header if name not in known]
        missing = [f.name for f in spec.fields if f.required and f.name not in self.stage]
        if missing:
            raise ExtractError(f"{spec.file_name} lacks the required column(s): {', '.join(missing)}.")
        by_column = {f.column: f for f in self.fields}
        self.key_fields = [by_column[c] for c in spec.key]

    def raw(self, f: Field) -> str:
        return f"NULLIF(btrim({self.stage[f.name]}), '')"

    def cast(self, f: Field) -> str:
        raw = self.raw(f)
        if f.kind == "bool":
            return (
                f"CASE WHEN lower({raw}) IN ({', '.join(map(_lit, TRUE))}) THEN true "
                f"WHEN lower({raw}) IN ({', '.join(map(_lit, FALSE))}) THEN false END"
            )
        if f.kind in CASTS:
            return f"({raw})::{CASTS[f.kind]}"
        return raw

    def problem(self, f: Field) -> list[str]:
        """CASE branches giving the reason a value is unacceptable."""
        raw = self.raw(f)
        shown = f"left({raw}, 80)"
        branches = []
        if f.required:
            branches.append(f"WHEN {raw} IS NULL THEN {_lit('missing ' + f.name)}")
        if f.kind == "date":
            branches.append(
                # ISO form checked by position: a regular expression costs 3x pg_input_is_valid.
                f"WHEN {raw} IS NOT NULL AND (length({raw}) <> 10 OR substr({raw}, 5, 1) <> '-' "
                f"OR substr({raw}, 8, 1) <> '-' OR NOT pg_input_is_valid({raw}, 'date')) "
                f"THEN {_lit('bad date in ' + f.name + ': ')} || {shown}"
            )
        elif f.kind in CASTS:
            branches.append(
                f"WHEN {raw} IS NOT NULL AND NOT pg_input_is_valid({raw}, {_lit(CASTS[f.kind])}) "
                f"THEN {_lit('bad number in ' + f.name + ': ')} || {shown}"
            )
        elif f.kind == "bool":
            allowed = ", ".join(map(_lit, TRUE + FALSE))
            branches.append(
                f"WHEN {raw} IS NOT NULL AND lower({raw}) NOT IN ({allowed}) "
                f"THEN {_lit('bad boolean in ' + f.name + ': ')} || {shown}"
            )
        elif f.kind == "enum":
            allowed = ", ".join(map(_lit, f.values))
            branches.append(
                f"WHEN {raw} IS NOT NULL AND {raw} NOT IN ({allowed}) "
                f"THEN {_lit('unknown ' + f.name + ' value: ')} || {shown}"
            )
        return branches

    def key_text(self, alias: str = "") -> str:
        """The natural key as one text value (parts joined by '|'), as events carry it."""
        prefix = f"{alias}." if alias else ""
        return " || '|' || ".join(f"{prefix}{c}::text" for c in self.spec.key)


class EntityLoader:
    """Loads one entity file of one source into its table, in one transaction."""

    def __init__(
        self, db: Database, outbox: Outbox, *, event_chunk: int = 1000, progress: Progress | None = None
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.event_chunk = event_chunk
        self.progress = progress or (lambda entity, phase, amount: None)

    async def load(
        self,
        spec: EntitySpec,
        extract: ExtractFile,
        *,
        run_id: uuid.UUID,
        source_system: str,
        business_date: date | None,
    ) -> EntityResult:
        started = time.perf_counter()
        result = EntityResult(entity=spec.name, file=extract.name)
        cols = _Columns(spec, extract.header)
        if cols.unknown:
            result.warnings.append(f"unknown column(s) ignored: {', '.join(cols.unknown)}")
            log.warning("sync_unknown_columns", entity=spec.name, columns=cols.unknown)
        now = utcnow()
        async with self.db.transaction() as session:
            # Through SQLAlchemy first, so that the transaction is open before the raw asyncpg calls.
            await session.execute(text("SET LOCAL work_mem = '256MB'"))
            connection = await session.connection()
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            stage_columns = ", ".join(f"{c} text" for c in cols.stage.values())
            await raw.execute(
                "CREATE TEMP TABLE sync_stage (line_number bigint GENERATED ALWAYS AS IDENTITY (START WITH 2), "
                f"{stage_columns}, reason text) ON COMMIT DROP"
            )
            self.progress(spec.name, "copy", 0)
            try:
                await raw.copy_to_table(
                    "sync_stage",
                    source=self._counted(spec.name, extract.source),
                    columns=list(cols.stage.values()),
                    format="csv",
                    header=True,
                )
            except ExtractError:
                raise
            except Exception as exc:  # a CSV PostgreSQL cannot read (wrong column count, bad UTF-8)
                raise ExtractError(f"{extract.name} is not a readable CSV: {_first_line(exc)}") from exc
            result.read = int(await raw.fetchval("SELECT count(*) FROM sync_stage"))
            self._check_manifest(extract, result.read)

            self.progress(spec.name, "validate", result.read)
            await self._validate(raw, cols)
            result.rejected = int(
                await raw.fetchval(
                    f"""WITH kept AS (
                        INSERT INTO {SCHEMA}.sync_reject (run_id, entity_type, line_number, reason, row)
                        SELECT $1, $2, line_number, reason,
                               jsonb_object(ARRAY[{", ".join(map(_lit, cols.header))}]::text[],
                                            ARRAY[{", ".join(cols.stage.values())}]::text[])
                        FROM sync_stage WHERE reason IS NOT NULL RETURNING 1)
                    SELECT count(*) FROM kept""",
                    run_id,
                    spec.name,
                )
            )
            self.progress(spec.name, "upsert", result.read - result.rejected)
            counts = await self._merge(raw, cols, source_system, now)
            result.inserted, result.updated = counts.get("INSERT", 0), counts.get("UPDATE", 0)
            result.unchanged = result.read - result.rejected - result.inserted - result.updated
            result.stale = await self._mark_missing(raw, cols, source_system, now)
            await raw.execute(
                f"""INSERT INTO {SCHEMA}.sync_entity_state (source_system, entity_type, last_snapshot_at,
                        business_date, run_id)
                    VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (source_system, entity_type) DO UPDATE SET last_snapshot_at = EXCLUDED.last_snapshot_at,
                        business_date = EXCLUDED.business_date, run_id = EXCLUDED.run_id""",
                source_system,
                spec.name,
                now,
                business_date,
                run_id,
            )
            self.progress(spec.name, "events", result.inserted + result.updated)
            await self._stage_events(session, raw, spec, run_id, source_system)
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    async def _counted(self, entity: str, source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        copied = 0
        async for chunk in source:
            copied += len(chunk)
            self.progress(entity, "bytes", copied)
            yield chunk

    @staticmethod
    def _check_manifest(extract: ExtractFile, rows: int) -> None:
        if extract.expected_rows is not None and rows != extract.expected_rows:
            raise ExtractError(
                f"{extract.name} has {rows} data rows but the manifest says {extract.expected_rows}: "
                "the file is truncated or not the one announced; not loaded."
            )
        if extract.expected_sha256 and extract.sha256 != extract.expected_sha256.lower():
            raise ExtractError(f"{extract.name} does not match the manifest's sha256; not loaded.")

    async def _validate(self, raw: Any, cols: _Columns) -> None:
        """Give each bad row its reason, in place: only bad rows are written, the table is not copied."""
        branches = [b for f in cols.fields for b in cols.problem(f)]
        if branches:
            reason = f"CASE {' '.join(branches)} END"
            await raw.execute(f"UPDATE sync_stage SET reason = {reason} WHERE {reason} IS NOT NULL")
        keys = [cols.raw(f) for f in cols.key_fields]
        same_key = " AND ".join(f"{k} IS NOT DISTINCT FROM d.k{i}" for i, k in enumerate(keys))
        await raw.execute(
            f"""UPDATE sync_stage SET reason = 'duplicate key in the file (first at line ' || d.first || ')'
                FROM (SELECT {", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))}, min(line_number) AS first
                      FROM sync_stage WHERE reason IS NULL GROUP BY {", ".join(keys)} HAVING count(*) > 1) d
                WHERE reason IS NULL AND {same_key} AND line_number <> d.first"""
        )
        by_column = {f.column: f for f in cols.fields}
        for parent in cols.spec.parents:
            exists = " OR ".join(
                f"EXISTS (SELECT 1 FROM {SCHEMA}.{table.name} p WHERE "
                + " AND ".join(
                    f"p.{pc} = {cols.raw(by_column[c])}" for c, pc in zip(parent.columns, p_cols, strict=True)
                )
                + ")"
                for table, p_cols in parent.tables
            )
            shown = " || '|' || ".join(cols.raw(by_column[c]) for c in parent.columns)
            await raw.execute(
                f"""UPDATE sync_stage SET reason = {_lit("unknown " + parent.what + ": ")} || {shown}
                    WHERE reason IS NULL AND NOT ({exists})"""
            )
        # Statistics so the MERGE joins by hash; a small sample is enough for that.
        await raw.execute("SET LOCAL default_statistics_target = 10")
        await raw.execute("ANALYZE sync_stage")
        await raw.execute("RESET default_statistics_target")

    async def _merge(self, raw: Any, cols: _Columns, source_system: str, now: datetime) -> dict[str, int]:
        table = f"{SCHEMA}.{cols.spec.table.name}"
        names = [f.column for f in cols.fields]
        source = ", ".join(f"{cols.cast(f)} AS {f.column}" for f in cols.fields)
        on = " AND ".join(f"t.{c} = s.{c}" for c in cols.spec.key)
        target_row = ", ".join(f"t.{c}" for c in names)
        source_row = ", ".join(f"s.{c}" for c in names)
        updates = ", ".join(f"{c} = s.{c}" for c in names)
        await raw.execute("CREATE TEMP TABLE sync_changed (action text, key text) ON COMMIT DROP")
        rows = await raw.fetch(
            f"""WITH merged AS (
                MERGE INTO {table} AS t
                USING (SELECT {source} FROM sync_stage WHERE reason IS NULL) AS s
                ON {on}
                WHEN MATCHED AND ((ROW({target_row}) IS DISTINCT FROM ROW({source_row}))
                                  OR t.missing_since IS NOT NULL OR t.source_system <> $1) THEN
                    UPDATE SET {updates}, source_system = $1, updated_by = 'SYSTEM', updated_at = $2,
                               last_synced_at = $2, missing_since = NULL
                WHEN NOT MATCHED THEN
                    INSERT (id, source_system, created_by, updated_by, is_editable, last_synced_at,
                            created_at, updated_at, {", ".join(names)})
                    VALUES (gen_random_uuid(), $1, 'SYSTEM', 'SYSTEM', false, $2, $2, $2, {source_row})
                RETURNING merge_action() AS action, {cols.key_text("t")} AS key)
            , kept AS (INSERT INTO sync_changed SELECT action, key FROM merged RETURNING action)
            SELECT action, count(*) AS n FROM kept GROUP BY action""",
            source_system,
            now,
        )
        return {r["action"]: int(r["n"]) for r in rows}

    async def _mark_missing(self, raw: Any, cols: _Columns, source_system: str, now: datetime) -> int:
        """Records of this source absent from today's snapshot: last seen at the previous snapshot."""
        table = f"{SCHEMA}.{cols.spec.table.name}"
        previous = await raw.fetchval(
            f"SELECT last_snapshot_at FROM {SCHEMA}.sync_entity_state WHERE source_system = $1 AND entity_type = $2",
            source_system,
            cols.spec.name,
        )
        by_column = {f.column: f for f in cols.fields}
        on = " AND ".join(f"t.{c} = {cols.cast(by_column[c])}" for c in cols.spec.key)
        status = await raw.execute(
            f"""UPDATE {table} t SET missing_since = $2, last_synced_at = COALESCE($3, t.last_synced_at)
                WHERE t.source_system = $1 AND t.missing_since IS NULL
                AND NOT EXISTS (SELECT 1 FROM sync_stage WHERE reason IS NULL AND {on})""",
            source_system,
            now,
            previous,
        )
        return int(status.split()[-1])

    async def _stage_events(
        self, session: Any, raw: Any, spec: EntitySpec, run_id: uuid.UUID, source: str
    ) -> None:
        """ENTITY_UPDATED events carrying the changed natural keys, ``event_chunk`` keys each."""
        keys: list[str] = []

        async def flush() -> None:
            event = SyncEvent(
                type="ENTITY_UPDATED",
                entity_type=spec.name,
                source_system=source,
                affected_records=list(keys),
                run_id=str(run_id),
            )
            await self.outbox.add(session, event)
            keys.clear()

        async for record in raw.cursor("SELECT key FROM sync_changed ORDER BY key", prefetch=5000):
            keys.append(record["key"])
            if len(keys) >= self.event_chunk:
                await flush()
        if keys:
            await flush()


def _first_line(exc: Exception) -> str:
    message = str(exc).strip().splitlines()
    where = getattr(exc, "where", None) or getattr(exc, "context", None)
    text_ = message[0] if message else type(exc).__name__
    return f"{text_} ({where})" if where else text_

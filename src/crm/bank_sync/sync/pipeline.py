"""Loading one entity file: COPY into a raw staging table, validate set-based, upsert what changed.

Everything heavy happens inside PostgreSQL on text staged by COPY (no Python object per row):
1. COPY the file as delivered into a temp table of text columns, numbered by line;
2. check it against the manifest (row count, sha256);
3. fingerprint every row (a 128-bit hash of its values) and set aside the rows whose fingerprint
   the table already holds for this source: they are exactly
   what was loaded before, so they count as unchanged without being validated or compared again
   (on a nightly snapshot that is ~95 % of the rows). A record the CRM changed itself (a payment
   moved a loan balance) has no fingerprint, so the core's row is compared and wins;
4. give every other bad row its reason in a few set-based statements (missing key, bad number or
   date, unknown enum value, duplicate key in the file, unknown parent) and keep those as rejects;
5. MERGE the good rows, updating only rows whose values differ, and count what changed;
6. mark records of this source that the snapshot no longer has as missing (stale);
7. stage ENTITY_UPDATED events with the changed natural keys, in chunks, through the outbox.
All of it is one transaction: a crash or kill mid-file leaves the previous data as it was.
"""

# ruff: noqa: S608, E501 - the SQL is built from the entity specs' own identifiers (c0..cN staging columns);
# values from the files only ever travel as COPY data or as escaped literals (_lit).
from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

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
HASH_VERSION = "2"
"""Part of every row fingerprint: change it when the meaning of a row's text changes (new casts or
checks), so that the next run validates and compares every row again."""
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
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per step (copy, compare, validate, upsert, stale, events, commit): where a load spends."""
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Columns:
    """The staged columns of one file: c0..cN (text) mapped to the entity's fields."""

    def __init__(self, spec: EntitySpec, header: list[str], source_system: str = "") -> None:
        self.spec = spec
        self.source_system = source_system
        self.header = header
        if len(set(header)) != len(header):
            raise ExtractError(f"{spec.file_name} has a repeated column name in its header.")
        known = spec.by_name()
        self.stage = {name: f"c{i}" for i, name in enumerate(header)}
        self.fields = [f for f in spec.fields if f.name in self.stage]  # spec order, whatever the header's
        self.unknown = [name for name in header if name not in known]
        missing = [f.name for f in spec.fields if f.required and f.name not in self.stage]
        if missing:
            raise ExtractError(f"{spec.file_name} lacks the required column(s): {', '.join(missing)}.")
        by_column = {f.column: f for f in self.fields}
        self.key_fields = [by_column[c] for c in spec.key]

    def raw(self, f: Field) -> str:
        """A field's value inside ``trimmed()``: already stripped, empty text already NULL."""
        return self.stage[f.name]

    def trimmed(self, table: str, where: str = "true", *, with_hash: bool = False) -> str:
        """Rows of ``table`` with every value stripped once (``OFFSET 0`` keeps PostgreSQL from
        inlining the subquery and stripping a value again for every check that reads it); with
        ``row_hash``, the fingerprint of the row as delivered, when asked for."""
        values = ", ".join(f"NULLIF(btrim({c}), '') AS {c}" for c in self.stage.values())
        if with_hash and table == "sync_stage":
            table, where = f"{self.with_fingerprint(where)} f", "true"
        row_hash = "row_hash, " if with_hash else ""
        return f"(SELECT line_number, {row_hash}{values} FROM {table} WHERE {where} OFFSET 0)"

    def with_fingerprint(self, where: str = "true") -> str:
        """The stage's rows (raw, as delivered) with ``row_hash``: a 128-bit fingerprint of the row's
        values in the spec's field order, with the source and the columns present.

        Two 64-bit PostgreSQL hashes of the row's text with different seeds (md5 cost twice as
        much; the text is built once, in an inner query). A separator keeps values apart; an absent
        value and an empty one hash alike, as the load treats them alike. Computed in the queries
        that need it, not as a generated column of the stage: that made the COPY twice as slow."""
        prefix = _lit(f"{HASH_VERSION}|{self.source_system}|{','.join(f.name for f in self.fields)}|")
        values = " || E'\\x1f' || ".join(f"coalesce({self.stage[f.name]}, '')" for f in self.fields)
        columns = ", ".join(["line_number", *self.stage.values(), "reason"])
        row_hash = "encode(int8send(hashtextextended(v, 0)) || int8send(hashtextextended(v, 1)), 'hex')::uuid"
        return (
            f"(SELECT {columns}, {row_hash} AS row_hash "
            f"FROM (SELECT *, {prefix} || {values} AS v FROM sync_stage WHERE {where} OFFSET 0) z)"
        )

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
        self,
        db: Database,
        outbox: Outbox,
        *,
        event_chunk: int = 1000,
        rebuild_indexes_from: int = 10_000,
        progress: Progress | None = None,
        tz: ZoneInfo,
    ) -> None:
        self.db = db
        self.tz = tz
        self.rebuild_indexes_from = rebuild_indexes_from
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
        result = EntityResult(entity=spec.name, file=extract.name)
        lap = _Laps(result.phases)
        cols = _Columns(spec, extract.header, source_system)
        if cols.unknown:
            result.warnings.append(f"unknown column(s) ignored: {', '.join(cols.unknown)}")
            log.warning("sync_unknown_columns", entity=spec.name, columns=cols.unknown)
        now = utcnow()
        table = f"{SCHEMA}.{spec.table.name}"
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
                copied = await raw.copy_to_table(
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
            result.read = int(copied.split()[-1])  # "COPY n"
            self._check_manifest(extract, result.read)
            await _analyze(raw, "sync_stage")
            lap("copy")

            self.progress(spec.name, "validate", result.read)
            await self._reject_duplicates(raw, cols)
            # Either way is correct; the first load of a source just has nothing to compare against.
            loaded_before = await raw.fetchval(
                f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.sync_entity_state WHERE source_system = $1 "
                "AND entity_type = $2)",
                source_system,
                spec.name,
            )
            work = "sync_stage"
            if loaded_before:
                work = "sync_work"
                await self._compare(raw, cols, table, source_system)
            lap("compare")
            if loaded_before:
                await _prefer_index_lookups(raw, table, work)
            await self._validate(raw, cols, work)
            result.rejected = int(
                await raw.fetchval(
                    f"""WITH kept AS (
                        INSERT INTO {SCHEMA}.sync_reject (run_id, entity_type, line_number, reason, row)
                        SELECT $1, $2, line_number, reason,
                               jsonb_object(ARRAY[{", ".join(map(_lit, cols.header))}]::text[],
                                            ARRAY[{", ".join(cols.stage.values())}]::text[])
                        FROM {work} WHERE reason IS NOT NULL RETURNING 1)
                    SELECT count(*) FROM kept""",
                    run_id,
                    spec.name,
                )
            )
            lap("validate")
            self.progress(spec.name, "upsert", result.read - result.rejected)
            await raw.execute("CREATE TEMP TABLE sync_changed (action text, key text) ON COMMIT DROP")
            rebuild = await self._drop_indexes_if_empty(raw, table, result.read - result.rejected)
            if rebuild is None:
                counts = await self._merge(raw, cols, work, source_system, now, note_inserts=loaded_before)
            else:
                counts = {"INSERT": await self._insert_all(raw, cols, work, source_system, now)}
                for statement in rebuild:
                    await raw.execute(statement)
            result.inserted, result.updated = counts.get("INSERT", 0), counts.get("UPDATE", 0)
            if result.inserted >= self.rebuild_indexes_from:
                # Fresh statistics after a bulk insert, so that the queries after it (this load's
                # staleness check, tomorrow's comparison, the read API) are planned on real numbers.
                await raw.execute(f"ANALYZE {table}")
            result.unchanged = result.read - result.rejected - result.inserted - result.updated
            if spec.after_merge is not None:
                await spec.after_merge(raw, now, self.tz)
            lap("upsert")
            if loaded_before:
                result.stale = await self._mark_missing(raw, cols, source_system, now)
                await raw.execute("RESET enable_hashjoin; RESET enable_mergejoin")
            lap("stale")
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
            inserted_all = rebuild is not None or not loaded_before
            changed = self._changed_keys(cols, work, result, inserted_all=inserted_all)
            await self._stage_events(session, raw, cols, changed, run_id, source_system)
            lap("events")
        lap("commit")
        result.seconds = round(sum(result.phases.values()), 3)
        return result

    @staticmethod
    def _changed_keys(cols: _Columns, work: str, result: EntityResult, *, inserted_all: bool) -> str:
        """The query of the natural keys to announce. The MERGE noted what it updated (and, once a
        source is known, what it inserted); on a first load the inserted keys are the good rows'
        keys, less the few that matched another source's record."""
        changed = "SELECT key FROM sync_changed WHERE action <> 'SAME'"
        if not (inserted_all and result.inserted):
            return changed
        key = " || '|' || ".join(f"r.{cols.raw(f)}" for f in cols.key_fields)
        good = f"SELECT {key} AS key FROM {cols.trimmed(work, 'reason IS NULL')} r"
        if result.inserted == result.read - result.rejected:
            return good
        return f"{changed} UNION ALL ({good} EXCEPT SELECT key FROM sync_changed)"

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

    async def _compare(self, raw: Any, cols: _Columns, table: str, source_system: str) -> None:
        """Fingerprints of the file against those of the table, in one full join.

        ``sync_work``: the file's rows the table does not hold yet (new, changed, changed in the CRM,
        and the rows already rejected), the only ones validated and merged.
        ``sync_unmatched``: the table's records of this source that no row of the file matched, with
        their fingerprint then; those the MERGE does not touch are missing from the snapshot."""
        await raw.execute(
            f"""CREATE TEMP TABLE sync_work ON COMMIT DROP AS
                SELECT s.*, t.id AS target_id, t.sync_hash AS target_hash
                FROM {cols.with_fingerprint()} s
                FULL JOIN (SELECT id, sync_hash FROM {table}
                           WHERE source_system = {_lit(source_system)} AND missing_since IS NULL) t
                  ON t.sync_hash = CASE WHEN s.reason IS NULL THEN s.row_hash END
                WHERE s.line_number IS NULL OR t.id IS NULL"""
        )
        await raw.execute(
            """CREATE TEMP TABLE sync_unmatched ON COMMIT DROP AS
               SELECT target_id, target_hash FROM sync_work WHERE line_number IS NULL"""
        )
        await raw.execute("DELETE FROM sync_work WHERE line_number IS NULL")
        await _analyze(raw, "sync_work")
        await _analyze(raw, "sync_unmatched")

    async def _reject_duplicates(self, raw: Any, cols: _Columns) -> None:
        """A key repeated in the file: the first row stands, the others are rejects.

        Over the whole file (not only the rows needing work), so that a repeat of an unchanged row
        is caught too. A row with part of its key missing is left to validation ("missing ...")."""
        keys = [cols.raw(f) for f in cols.key_fields]
        key_list = ", ".join(keys)
        stripped = ", ".join(f"NULLIF(btrim({k}), '') AS {k}" for k in keys)
        rows = f"(SELECT line_number, {stripped} FROM sync_stage OFFSET 0)"
        same_key = " AND ".join(f"k.{k} = d.{k}" for k in keys)
        await raw.execute(
            f"""UPDATE sync_stage s SET reason = 'duplicate key in the file (first at line ' || x.first || ')'
                FROM (SELECT k.line_number, d.first
                      FROM {rows} k
                      JOIN (SELECT {key_list}, min(line_number) AS first FROM {rows} t
                            GROUP BY {key_list} HAVING count(*) > 1) d ON {same_key}
                      WHERE k.line_number <> d.first) x
                WHERE s.line_number = x.line_number"""
        )

    async def _validate(self, raw: Any, cols: _Columns, work: str) -> None:
        """Give each bad row its reason, in place: only bad rows are written, the table is not copied."""
        rows = cols.trimmed(work, "reason IS NULL")
        branches = [b for f in cols.fields for b in cols.problem(f)]
        if branches:
            await raw.execute(
                f"""UPDATE {work} w SET reason = v.reason
                    FROM (SELECT line_number, CASE {" ".join(branches)} END AS reason FROM {rows} r) v
                    WHERE v.reason IS NOT NULL AND w.line_number = v.line_number"""
            )
        by_column = {f.column: f for f in cols.fields}
        for parent in cols.spec.parents:
            exists = " OR ".join(
                f"EXISTS (SELECT 1 FROM {SCHEMA}.{table.name} p WHERE "
                + " AND ".join(
                    f"p.{pc} = r.{cols.raw(by_column[c])}"
                    for c, pc in zip(parent.columns, p_cols, strict=True)
                )
                + ")"
                for table, p_cols in parent.tables
            )
            shown = " || '|' || ".join(f"r.{cols.raw(by_column[c])}" for c in parent.columns)
            await raw.execute(
                f"""UPDATE {work} w SET reason = {_lit("unknown " + parent.what + ": ")} || v.shown
                    FROM (SELECT line_number, {shown} AS shown FROM {cols.trimmed(work, "reason IS NULL")} r
                          WHERE NOT ({exists})) v
                    WHERE w.line_number = v.line_number"""
            )

    async def _drop_indexes_if_empty(self, raw: Any, table: str, rows: int) -> list[str] | None:
        """Into an empty table, build the indexes once after the load instead of row by row.

        The first load of a bank (millions of rows into empty tables) spends most of its time keeping
        indexes current one row at a time (the uuid key, the natural key, trigram GIN, delinquency
        b-trees); building them afterwards by sorting is several times faster. Only when the table
        is empty: it is locked until the commit, which no reader notices, and the rows cannot clash
        with anything (duplicate keys in the file are already rejects). An index another table's
        foreign key relies on stays. Returns the statements that put the indexes back, or None when
        the table is not empty (or the load is small)."""
        if rows < self.rebuild_indexes_from or await raw.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            return None
        await raw.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        if await raw.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            return None  # another source's load got there first
        indexes = await raw.fetch(
            """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition,
                      c.conname, pg_get_constraintdef(c.oid) AS constraint_definition
               FROM pg_index i
               LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                                        AND c.contype IN ('p', 'u')
               WHERE i.indrelid = $1::regclass
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)""",
            table,
        )
        rebuild = []
        for index in indexes:
            if index["conname"]:
                await raw.execute(f"ALTER TABLE {table} DROP CONSTRAINT {index['conname']}")
                rebuild.append(
                    f"ALTER TABLE {table} ADD CONSTRAINT {index['conname']} {index['constraint_definition']}"
                )
            else:
                await raw.execute(f"DROP INDEX {index['name']}")
                rebuild.append(index["definition"])
        return rebuild

    async def _insert_all(
        self, raw: Any, cols: _Columns, work: str, source_system: str, now: datetime
    ) -> int:
        """The good rows into an empty table: a plain INSERT, nothing to compare or count apart."""
        names = [f.column for f in cols.fields]
        source = ", ".join(cols.cast(f) for f in cols.fields)
        status = await raw.execute(
            f"""INSERT INTO {SCHEMA}.{cols.spec.table.name} (id, source_system, created_by, updated_by,
                    is_editable, last_synced_at, created_at, updated_at, sync_hash, {", ".join(names)})
                SELECT {_new_ids("line_number")}, $1, 'SYSTEM', 'SYSTEM', false, $2, $2, $2, row_hash, {source}
                FROM {cols.trimmed(work, "reason IS NULL", with_hash=True)} r""",
            source_system,
            now,
        )
        return int(status.split()[-1])

    async def _merge(
        self, raw: Any, cols: _Columns, work: str, source_system: str, now: datetime, *, note_inserts: bool
    ) -> dict[str, int]:
        """MERGE the good rows of ``work``; returns the count per action (INSERT, UPDATE, SAME).

        The natural keys of changed rows go to ``sync_changed`` for the events; on a source's first
        load (``note_inserts`` false) inserted keys are not copied there, the events take them from
        the stage (a third of the MERGE's time on a large first load)."""
        table = f"{SCHEMA}.{cols.spec.table.name}"
        names = [f.column for f in cols.fields]
        source = ", ".join(f"{cols.cast(f)} AS {f.column}" for f in cols.fields)
        on = " AND ".join(f"t.{c} = s.{c}" for c in cols.spec.key)
        target_row = ", ".join(f"t.{c}" for c in names)
        source_row = ", ".join(f"s.{c}" for c in names)
        updates = ", ".join(f"{c} = s.{c}" for c in names)
        # A matched row whose text changed but whose values did not (say, padding) only takes the new
        # fingerprint: it is unchanged, keeps its updated_at, and is not announced.
        rows = await raw.fetch(
            f"""WITH merged AS (
                MERGE INTO {table} AS t
                USING (SELECT line_number, row_hash, {source}
                       FROM {cols.trimmed(work, "reason IS NULL", with_hash=True)} r) AS s
                ON {on}
                WHEN MATCHED AND ((ROW({target_row}) IS DISTINCT FROM ROW({source_row}))
                                  OR t.missing_since IS NOT NULL OR t.source_system <> $1) THEN
                    UPDATE SET {updates}, source_system = $1, updated_by = 'SYSTEM', updated_at = $2,
                               last_synced_at = $2, missing_since = NULL, sync_hash = s.row_hash
                WHEN MATCHED THEN
                    UPDATE SET sync_hash = s.row_hash
                WHEN NOT MATCHED THEN
                    INSERT (id, source_system, created_by, updated_by, is_editable, last_synced_at,
                            created_at, updated_at, sync_hash, {", ".join(names)})
                    VALUES ({_new_ids("s.line_number")}, $1, 'SYSTEM', 'SYSTEM', false, $2, $2, $2, s.row_hash,
                            {source_row})
                RETURNING CASE WHEN merge_action() = 'UPDATE' AND new.updated_at IS NOT DISTINCT FROM old.updated_at
                               THEN 'SAME' ELSE merge_action() END AS action,
                          {cols.key_text("t")} AS key)
            , kept AS (INSERT INTO sync_changed SELECT action, key FROM merged
                       WHERE action = 'UPDATE' OR (action = 'INSERT') = $3)
            SELECT action, count(*) AS n FROM merged GROUP BY action""",
            source_system,
            now,
            note_inserts,
        )
        return {r["action"]: int(r["n"]) for r in rows}

    async def _mark_missing(self, raw: Any, cols: _Columns, source_system: str, now: datetime) -> int:
        """Records of this source absent from today's snapshot: last seen at the previous snapshot.

        They are the records no row of the file matched (``sync_unmatched``) that the MERGE left as
        they were (a record delivered changed now carries its new row's fingerprint); a record whose
        row was rejected today counts as absent."""
        table = f"{SCHEMA}.{cols.spec.table.name}"
        previous = await raw.fetchval(
            f"SELECT last_snapshot_at FROM {SCHEMA}.sync_entity_state WHERE source_system = $1 AND entity_type = $2",
            source_system,
            cols.spec.name,
        )
        status = await raw.execute(
            f"""UPDATE {table} t SET missing_since = $2, sync_hash = NULL,
                    last_synced_at = COALESCE($3, t.last_synced_at)
                FROM sync_unmatched u
                WHERE t.id = u.target_id AND t.missing_since IS NULL
                  AND t.sync_hash IS NOT DISTINCT FROM u.target_hash AND t.source_system = $1""",
            source_system,
            now,
            previous,
        )
        return int(status.split()[-1])

    async def _stage_events(
        self, session: Any, raw: Any, cols: _Columns, keys_sql: str, run_id: uuid.UUID, source: str
    ) -> None:
        """ENTITY_UPDATED events carrying the changed natural keys, ``event_chunk`` keys each.

        The keys are cut into chunks by PostgreSQL and arrive as one array per event."""
        events: list[SyncEvent] = []
        async for chunk in raw.cursor(
            f"""SELECT array_agg(key) AS keys
                FROM (SELECT key, (row_number() OVER () - 1) / $1 AS chunk FROM ({keys_sql}) k) c
                GROUP BY chunk""",
            self.event_chunk,
            prefetch=20,
        ):
            events.append(
                SyncEvent(
                    type="ENTITY_UPDATED",
                    entity_type=cols.spec.name,
                    source_system=source,
                    affected_records=list(chunk["keys"]),
                    run_id=str(run_id),
                )
            )
            if len(events) == 20:  # flat memory: a few events at a time, whatever the file size
                await self.outbox.add(session, *events)
                events.clear()
        await self.outbox.add(session, *events)


async def _prefer_index_lookups(raw: Any, table: str, work: str) -> None:
    """A nightly change set is a few percent of the table: find its rows (and its parents) by the
    unique indexes.

    Left alone, PostgreSQL tends to hash-join the change set against a scan of the whole table
    (1.5 s instead of 0.2 s for 50,000 changed loans among 1.5 million), because freshly loaded
    pages are not yet marked all-visible and an index probe is costed as a random read."""
    changed, rows = await raw.fetchrow(
        f"SELECT (SELECT count(*) FROM {work}), (SELECT reltuples FROM pg_class WHERE oid = $1::regclass)",
        table,
    )
    if rows > 0 and changed < 0.2 * rows:
        await raw.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")


def _new_ids(line_number: str) -> str:
    """UUIDv7 ids for the rows a load inserts: the time and random bits drawn once per load, then
    the row's line number as the counter (RFC 9562, method 1). Ordered, so the primary key index
    grows at its end; and uuidv7() per row cost a third of a large first load."""
    ms = time.time_ns() // 1_000_000
    rand = secrets.randbits(26)
    high = (ms << 16) | (0x7 << 12) | (rand >> 14)  # 48-bit ms, version 7, 12 random bits
    low = (0b10 << 62) | ((rand & 0x3FFF) << 48)  # variant, 14 random bits, then the counter (< 2^48)
    return f"encode(decode('{high:016x}', 'hex') || int8send({line_number} + ({low - (1 << 64)})::bigint), 'hex')::uuid"


class _Laps:
    """Seconds per phase of a load: ``lap(name)`` records the time since the previous lap."""

    def __init__(self, phases: dict[str, float]) -> None:
        self.phases = phases
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(now - self.last, 3)
        self.last = now


async def _analyze(raw: Any, table: str) -> None:
    """Row counts and a small sample, so that the joins against the stage are planned as hash joins."""
    await raw.execute("SET LOCAL default_statistics_target = 10")
    await raw.execute(f"ANALYZE {table}")
    await raw.execute("RESET default_statistics_target")


def _first_line(exc: Exception) -> str:
    message = str(exc).strip().splitlines()
    where = getattr(exc, "where", None) or getattr(exc, "context", None)
    text_ = message[0] if message else type(exc).__name__
    return f"{text_} ({where})" if where else text_

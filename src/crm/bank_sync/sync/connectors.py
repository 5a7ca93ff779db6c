"""Where extracts come from. A new core system is a new ``SourceConnector`` and nothing else.

A connector hands the pipeline, per entity, a header and a stream of CSV bytes (RFC 4180, UTF-8);
the pipeline copies that stream straight into PostgreSQL, so memory stays flat whatever the size.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import hashlib
import io
import zlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crm.platform.extracts import ExtractError, delivered_dates, find_file

__all__ = ["ExtractError", "ExtractFile", "FileConnector", "SourceConnector", "SqlConnector"]
CHUNK = 1 << 20
BOM = b"\xef\xbb\xbf"


@dataclass
class ExtractFile:
    """One entity's data: its header, its CSV bytes (header included) and what the manifest promised."""

    entity: str
    header: list[str]
    source: AsyncIterator[bytes]
    expected_rows: int | None = None
    expected_sha256: str | None = None
    name: str = ""
    _digest: Any = field(default_factory=hashlib.sha256)

    @property
    def sha256(self) -> str:
        return str(self._digest.hexdigest())


class SourceConnector(ABC):
    """Delivers one source system's full snapshot for a business date."""

    source_system: str

    @abstractmethod
    async def business_dates(self) -> list[date]:
        """The business dates this source has a delivery for, oldest first."""

    @abstractmethod
    async def open(self, business_date: date, entity: str) -> ExtractFile | None:
        """The entity's data for that date, or None when the source did not deliver it."""


def _header(first_line: bytes) -> list[str]:
    text = first_line.decode("utf-8").lstrip("\ufeff")
    return [name.strip() for name in next(csv.reader([text]))]


class FileConnector(SourceConnector):
    """``<inbox>/<SOURCE>/<YYYY-MM-DD>/`` with a ``manifest.json`` (docs/extracts.md)."""

    def __init__(self, inbox_dir: Path, source_system: str) -> None:
        self.inbox_dir = inbox_dir
        self.source_system = source_system

    async def business_dates(self) -> list[date]:
        return delivered_dates(self.inbox_dir, self.source_system)

    async def open(self, business_date: date, entity: str) -> ExtractFile | None:
        delivered = find_file(self.inbox_dir, self.source_system, business_date, entity)
        if delivered is None:
            return None
        path, compressed, name = delivered.path, delivered.compressed, delivered.path.name
        extract = ExtractFile(
            entity=entity,
            header=[],
            source=_empty(),
            name=name,
            expected_rows=delivered.expected_rows,
            expected_sha256=delivered.expected_sha256,
        )
        chunks = _file_chunks(path, compressed, extract)
        try:
            first = await asyncio.to_thread(next, chunks, b"")
        except (OSError, EOFError, zlib.error) as exc:
            raise ExtractError(f"{name} cannot be read: {exc}") from exc
        if first.startswith(BOM):
            first = first[len(BOM) :]
        newline = first.find(b"\n")
        extract.header = _header(first if newline < 0 else first[:newline])
        extract.source = _chain(first, chunks)
        return extract


def _file_chunks(path: Path, compressed: bool, extract: ExtractFile) -> Iterator[bytes]:
    """The file's decompressed bytes in chunks; the sha256 covers the bytes as delivered."""
    with path.open("rb") as raw:
        if not compressed:
            while chunk := raw.read(CHUNK):
                extract._digest.update(chunk)
                yield chunk
            return
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while chunk := raw.read(CHUNK):
            extract._digest.update(chunk)
            data = inflater.decompress(chunk)
            while inflater.unconsumed_tail:
                data += inflater.decompress(inflater.unconsumed_tail)
            if data:
                yield data
        tail = inflater.flush()
        if tail:
            yield tail


async def _chain(first: bytes, rest: Iterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    while True:
        try:
            # next() with a default: a StopIteration cannot cross from a thread into a future.
            chunk = await asyncio.to_thread(next, rest, b"")
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ExtractError(f"the file cannot be read to the end: {exc}") from exc
        if not chunk:
            return
        yield chunk


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover


class SqlConnector(SourceConnector):
    """Reads each entity with its own query from any SQLAlchemy URL (a core system's reporting DB).

    Configured as ``CRM_SYNC_SQL_SOURCES`` (JSON):
    ``{"OTHER": {"url": "...", "queries": {"customers": "SELECT ..."}}}``. Each query's column
    labels are the extract's header names. There is no manifest: the business
    date is the one asked for.
    """

    def __init__(self, source_system: str, url: str, queries: dict[str, str], batch: int = 10_000) -> None:
        self.source_system = source_system
        self.url = url
        self.queries = queries
        self.batch = batch

    async def business_dates(self) -> list[date]:
        return []

    async def open(self, business_date: date, entity: str) -> ExtractFile | None:
        query = self.queries.get(entity)
        if query is None:
            return None
        rows = _query_rows(self.url, query, business_date, self.batch)
        try:
            header = await asyncio.to_thread(next, rows)
        except Exception as exc:
            raise ExtractError(f"the {entity} query failed: {type(exc).__name__}: {exc}") from exc
        extract = ExtractFile(entity=entity, header=list(header), source=_empty(), name=f"{entity} (SQL)")
        extract.source = _csv_stream(header, rows)
        return extract


def _query_rows(url: str, query: str, business_date: date, batch: int) -> Iterator[Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(
                text(query), {"business_date": business_date} if ":business_date" in query else {}
            )
            yield list(result.keys())
            while rows := result.fetchmany(batch):
                yield rows
    finally:
        engine.dispose()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def _csv_stream(header: list[str], rows: Iterator[Any]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    yield buffer.getvalue().encode()
    while True:
        batch = await asyncio.to_thread(next, rows, None)
        if batch is None:
            return
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_value(v) for v in row] for row in batch)
        yield buffer.getvalue().encode()

"""Reading a core system's ``payments.csv`` (docs/extracts.md): the delivery's manifest, then its rows.

The delivery layout and its manifest are the platform's (``crm.platform.extracts``, shared with
bank-sync); reading the rows is this module's, on the ``csv`` module, one row at a time.

The manifest promises each file's data-row count and the sha256 of its bytes as delivered
(compressed bytes for ``.csv.gz``). A file that disagrees is refused whole;
:meth:`PaymentsFile.verify` reads it once to check before anything of it is used. Rows are numbered as
bank-sync numbers its rejects: the header is line 1, the first data row line 2.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, cast
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from crm.payments.ledger.schemas import PaymentCreate, PaymentSource
from crm.platform.extracts import ExtractError, delivered_dates, find_file

__all__ = ["ExtractError", "PaymentsFile", "RowError", "business_dates", "open_payments", "to_payment"]

CHUNK = 1 << 20
CORE_SOURCES = tuple(s.value for s in PaymentSource if s is not PaymentSource.CRM)
_FIELDS = {f.alias or name: f for name, f in PaymentCreate.model_fields.items()}
COLUMNS = [alias for alias in _FIELDS if alias != "sourceSystem"]
"""The file's columns: a Payment's camelCase fields, without ``sourceSystem`` (it is the folder)."""
REQUIRED_COLUMNS = [alias for alias in COLUMNS if _FIELDS[alias].is_required()]


class RowError(Exception):
    """A row that fails validation; the message is the reason reported with its line number."""


@dataclass(frozen=True)
class CoreRecord:
    """One data row: its line number and its cells by column (empty cell = None), or why it is unreadable."""

    line_number: int
    values: dict[str, str | None]
    problem: str | None = None


def business_dates(inbox: Path, source: str) -> list[date]:
    """The business dates a source has a complete delivery for (a ``manifest.json``), oldest first."""
    return delivered_dates(inbox, source)


def open_payments(inbox: Path, source: str, business_date: date) -> PaymentsFile | None:
    """The source's ``payments.csv`` (or ``.csv.gz``) of that date; None when it did not deliver one.

    Raises :class:`ExtractError` when the delivery has no usable manifest or the manifest does not
    list the file (then it cannot be checked)."""
    if not (inbox / source / business_date.isoformat()).is_dir():
        return None
    delivered = find_file(inbox, source, business_date, "payments")
    if delivered is None:
        return None
    return PaymentsFile(
        source_system=source,
        business_date=business_date,
        path=delivered.path,
        expected_rows=delivered.expected_rows,
        expected_sha256=delivered.expected_sha256,
    )


class _Hashing(io.RawIOBase):
    """A raw file whose bytes are hashed as they are read."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return int(count or 0)


@dataclass
class PaymentsFile:
    """One source's ``payments.csv`` of one business date, with what its manifest promised."""

    source_system: str
    business_date: date
    path: Path
    expected_rows: int | None = None
    expected_sha256: str | None = None
    header: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.source_system}/{self.business_date.isoformat()}/{self.path.name}"

    def verify(self) -> int:
        """Read the whole file once: its data-row count, or :class:`ExtractError` if not the one promised."""
        rows = 0
        for _ in self.records():
            rows += 1
        return rows

    def records(self) -> Iterator[CoreRecord]:
        """The file's data rows one at a time (blocking reads: run it in a thread).

        After the last row the manifest's row count and sha256 are checked again (the file is read
        as it is now, not as :meth:`verify` saw it), so a file changed in between fails here."""
        try:
            with self.path.open("rb") as raw:
                hashing = _Hashing(raw)
                binary = cast(
                    IO[bytes],
                    gzip.GzipFile(fileobj=hashing, mode="rb")
                    if self.path.name.endswith(".gz")
                    else io.BufferedReader(hashing, CHUNK),
                )
                text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
                reader = csv.reader(text, strict=True)
                rows = yield from self._rows(reader)
                while hashing.read(CHUNK):  # whatever the parser did not need still counts in the sha256
                    pass
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
            raise ExtractError(f"{self.name} cannot be read: {exc}") from exc
        if self.expected_rows is not None and rows != self.expected_rows:
            raise ExtractError(
                f"{self.name} has {rows} data rows but the manifest says {self.expected_rows}: "
                "the file is truncated or not the one announced; not loaded."
            )
        if self.expected_sha256 and hashing.digest.hexdigest() != self.expected_sha256:
            raise ExtractError(f"{self.name} does not match the manifest's sha256; not loaded.")

    def _rows(self, reader: Any) -> Generator[CoreRecord, None, int]:
        """The data rows; returns their count."""
        header = next(reader, None)
        if not header:
            raise ExtractError(f"{self.name} is empty: no header row.")
        self.header = [name.strip() for name in header]
        self._check_header()
        rows = 0
        for cells in reader:
            rows += 1
            line = rows + 1
            if not cells or cells == [""]:
                yield CoreRecord(line, {}, "empty row")
                continue
            if len(cells) != len(self.header):
                yield CoreRecord(line, {}, f"{len(cells)} fields, but the header has {len(self.header)}")
                continue
            values: dict[str, str | None] = {}
            for name, cell in zip(self.header, cells, strict=True):
                if name in _FIELDS and name not in values:
                    values[name] = cell if cell.strip() else None
            yield CoreRecord(line, values)
        return rows

    def _check_header(self) -> None:
        missing = [c for c in REQUIRED_COLUMNS if c not in self.header]
        if missing:
            raise ExtractError(f"{self.name} lacks the column(s) {', '.join(missing)}; not loaded.")
        self.warnings.clear()
        unknown = [c for c in self.header if c not in _FIELDS]
        if unknown:
            self.warnings.append(f"unknown column(s) ignored: {', '.join(unknown)}")
        if "sourceSystem" in self.header:
            self.warnings.append("column sourceSystem ignored: the source system is the folder's")


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err.get("loc", ())) or "row"
        message = str(err.get("msg", "invalid value"))
        ctx = err.get("ctx") or {}
        if err.get("type") == "enum" and "expected" in ctx:
            message = f"must be one of {ctx['expected']}"
        parts.append(f"{name}: {message}")
    return "; ".join(parts)


def _in_zone(value: str, tz: ZoneInfo) -> str:
    """docs/extracts.md: a datetime without an offset is in the business time zone."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return value  # left to the schema, which says what is wrong with it
    if parsed.tzinfo is None and len(value.strip()) > 10:
        return parsed.replace(tzinfo=tz).isoformat()
    return value


def to_payment(record: CoreRecord, source_system: str, tz: ZoneInfo) -> PaymentCreate:
    """The row as a payment of ``source_system``, validated exactly as ``POST /api/payments`` validates.

    An empty cell is a field not given, as in the JSON API (so an empty ``currency`` is VND and an empty
    ``status`` COMPLETED, the API's defaults). Raises :class:`RowError` with the reason."""
    if record.problem:
        raise RowError(record.problem)
    data: dict[str, Any] = {k: v for k, v in record.values.items() if v is not None and k != "sourceSystem"}
    if isinstance(data.get("paymentDate"), str):
        data["paymentDate"] = _in_zone(data["paymentDate"], tz)
    data["sourceSystem"] = source_system
    try:
        return PaymentCreate.model_validate(data)
    except ValidationError as exc:
        raise RowError(_reason(exc)) from None

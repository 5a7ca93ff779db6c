"""The core systems' extract deliveries (docs/extracts.md), as every service reads them.

``<inbox>/<SOURCE>/<YYYY-MM-DD>/`` holds one file per entity (``<entity>.csv`` or ``.csv.gz``)
and a ``manifest.json`` promising each file's data-row count and the sha256 of its bytes as
delivered. A folder without a manifest is a delivery still arriving. Bank-sync streams the files
into PostgreSQL, payments reads ``payments.csv`` row by row; both find them here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any


class ExtractError(Exception):
    """A delivery or file that cannot be used at all; the message says why, for the run's report."""


@dataclass(frozen=True)
class DeliveredFile:
    """One entity's file in a delivery and what the manifest promised of it."""

    path: Path
    expected_rows: int | None
    expected_sha256: str | None

    @property
    def compressed(self) -> bool:
        return self.path.name.endswith(".gz")


def delivered_dates(inbox: Path, source: str) -> list[date]:
    """The business dates ``source`` has a complete delivery for (a manifest), oldest first."""
    root = inbox / source
    if not root.is_dir():
        return []
    days = []
    for child in root.iterdir():
        try:
            day = date.fromisoformat(child.name)
        except ValueError:
            continue
        if (child / "manifest.json").is_file():
            days.append(day)
    return sorted(days)


def read_manifest(folder: Path, source: str) -> dict[str, Any]:
    """The delivery's manifest, checked for shape and source; ``ExtractError`` otherwise."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise ExtractError(f"No manifest.json in {folder}: the delivery is not complete.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ExtractError(f"manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ExtractError("manifest.json has no 'files' object.")
    if manifest.get("sourceSystem") not in (None, source):
        raise ExtractError(f"manifest.json is for {manifest.get('sourceSystem')}, not {source}.")
    return manifest


def find_file(inbox: Path, source: str, business_date: date, entity: str) -> DeliveredFile | None:
    """The entity's file of that delivery with its promise; None when the source did not deliver it.

    ``ExtractError`` when the delivery has no usable manifest or the manifest does not list the file
    (it could not be checked)."""
    folder = inbox / source / business_date.isoformat()
    manifest = read_manifest(folder, source)
    path = next((p for p in (folder / f"{entity}.csv", folder / f"{entity}.csv.gz") if p.is_file()), None)
    if path is None:
        return None
    promise = manifest["files"].get(path.name)
    if not isinstance(promise, dict):
        raise ExtractError(f"{path.name} is not in manifest.json, so it cannot be checked; not loaded.")
    rows, sha256 = promise.get("rows"), promise.get("sha256")
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool)):
        raise ExtractError(f"manifest.json gives {path.name} a row count that is not a number: {rows!r}.")
    return DeliveredFile(path, rows, str(sha256).lower() if sha256 else None)

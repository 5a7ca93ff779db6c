"""Writing one source's delivery: ``<out>/<SOURCE>/<date>/``, its files chunk by chunk, the manifest last.

Rows are written as the chunks come (one string join per row), sha256 and row counts are taken while
writing, and the manifest is written last, so a reader never sees a delivery without all of its files.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from crm.demo_data.files import FILES
from crm.demo_data.planning import ChunkOut, Job, Plan

Progress = Callable[[str, int, int], None]


class _Files:
    """The delivery's open files, with each one's sha256, data rows and bad rows so far."""

    def __init__(self, folder: Path) -> None:
        self.hashes = [hashlib.sha256() for _ in FILES]
        self.rows = [0] * len(FILES)
        self.bad: list[list[dict[str, object]]] = [[] for _ in FILES]
        self.handles: list[IO[bytes]] = []
        for spec in FILES:
            self.handles.append((folder / spec.name).open("wb"))

    def close(self) -> None:
        for handle in self.handles:
            handle.close()

    def write(self, f: int, data: bytes) -> None:
        self.handles[f].write(data)
        self.hashes[f].update(data)

    def write_headers(self) -> None:
        for f, spec in enumerate(FILES):
            self.write(f, (",".join(spec.header) + "\r\n").encode())

    def add(self, out: ChunkOut) -> None:
        """A chunk's rows, after the earlier chunks' (its bad rows' lines counted from the file's start)."""
        for f, data in enumerate(out.data):
            if data:
                self.write(f, data)
        for f, row, kind, column in out.bad:
            self.bad[f].append({"line": self.rows[f] + row + 2, "kind": kind, "column": column})
        for f, n in enumerate(out.rows):
            self.rows[f] += n


def write_source(
    out_dir: Path,
    plan: Plan,
    source: str,
    jobs: list[Job],
    results: Iterable[ChunkOut],
    progress: Progress | None,
) -> dict[str, int]:
    """Writes the source's delivery from the jobs' ``results`` (in job order); its data rows per file."""
    folder = out_dir / source / plan.business_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path, bad_path = folder / "manifest.json", folder / "bad_rows.json"
    manifest_path.unlink(missing_ok=True)  # no manifest until every file is complete
    bad_path.unlink(missing_ok=True)
    total = sum(job.count for job in jobs)
    done = 0
    files = _Files(folder)
    try:
        files.write_headers()
        for job, out in zip(jobs, results, strict=True):
            files.add(out)
            done += job.count
            if progress is not None:
                progress(source, done, total)
    finally:
        files.close()
    if plan.bad:
        bad = {spec.name: files.bad[f] for f, spec in enumerate(FILES)}
        bad_path.write_text(json.dumps(bad, indent=1) + "\n", encoding="utf-8")
    _write_manifest(folder, source, plan, files)
    return {spec.name: files.rows[f] for f, spec in enumerate(FILES)}


def _write_manifest(folder: Path, source: str, plan: Plan, files: _Files) -> None:
    """manifest.json, through a temporary name: it appears whole or not at all."""
    manifest = {
        "sourceSystem": source,
        "businessDate": plan.business_date.isoformat(),
        "files": {
            spec.name: {"rows": files.rows[f], "sha256": files.hashes[f].hexdigest()}
            for f, spec in enumerate(FILES)
        },
    }
    partial = folder / "manifest.json.part"
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, folder / "manifest.json")

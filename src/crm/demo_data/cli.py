"""``crm generate``: write a realistic extract set (docs/extracts.md) into an inbox folder."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from crm.demo_data.planning import CHUNK, DEFAULT_AS_OF, SOURCES


def parse_share(text: str, option: str) -> float:
    """``"5%"`` or ``"0.05"`` as 0.05; anything else is a clear usage error naming ``option``."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a share: give a percentage such as 5% or a fraction such as 0.05.",
            param_hint=option,
        ) from None
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"{text!r} must be between 0% and 100%.", param_hint=option)
    if value > 1:
        hint = f" (did you mean {raw}%?)" if not raw.endswith("%") else ""
        raise typer.BadParameter(f"{text!r} is more than 100%{hint}.", param_hint=option)
    return value


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; use YYYY-MM-DD.", param_hint=option) from None


def parse_sources(text: str) -> tuple[str, ...]:
    chosen = []
    for part in text.split(","):
        code = part.strip().upper()
        if not code:
            continue
        if code not in SOURCES:
            raise typer.BadParameter(
                f"unknown source {part.strip()!r}; choose from {', '.join(SOURCES)}.", param_hint="--sources"
            )
        if code not in chosen:
            chosen.append(code)
    if not chosen:
        raise typer.BadParameter(f"give at least one of {', '.join(SOURCES)}.", param_hint="--sources")
    return tuple(chosen)


def generate_command(
    customers: Annotated[int, typer.Option(help="Customers over all sources, split T24 65 % / W4 35 %.")],
    out: Annotated[Path, typer.Option(help="Inbox folder; the set goes to OUT/<SOURCE>/<DATE>/.")],
    date_: Annotated[str, typer.Option("--date", help="Business date of the snapshot, YYYY-MM-DD.")],
    seed: Annotated[int, typer.Option(help="Same seed and options, same bytes.")] = 42,
    changed: Annotated[
        str, typer.Option(help="Share of each file's rows changed against the base set, e.g. 5% or 0.05.")
    ] = "0%",
    bad: Annotated[
        str, typer.Option(help="Share of each file's rows made invalid (listed in bad_rows.json), e.g. 0.1%.")
    ] = "0%",
    sources: Annotated[str, typer.Option(help="Source systems to write, comma separated.")] = "T24,W4",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help=f"Day the base set's balances and dpd are computed for (default {DEFAULT_AS_OF}); "
            "keep it fixed to make a series of business dates.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default: one per CPU); the output does not depend on it."),
    ] = None,
) -> None:
    """Write a realistic full-snapshot extract set for T24 and W4 (manifest.json, one CSV per entity)."""
    # Imported here: the file formats come from the services' specs, which every `crm` start would load.
    from crm.demo_data.generation import generate

    if customers < 1:
        raise typer.BadParameter("must be at least 1.", param_hint="--customers")
    if workers is not None and workers < 1:
        raise typer.BadParameter("must be at least 1.", param_hint="--workers")
    business_date = parse_date(date_, "--date")
    base_date = parse_date(as_of, "--as-of") if as_of else None
    changed_share = parse_share(changed, "--changed")
    bad_share = parse_share(bad, "--bad")
    chosen = parse_sources(sources)
    if workers is None:
        workers = 1 if customers <= 10 * CHUNK else max(1, os.cpu_count() or 1)
    started = time.perf_counter()
    counts = generate(
        out,
        customers,
        business_date,
        seed=seed,
        changed=changed_share,
        bad=bad_share,
        sources=chosen,
        as_of=base_date,
        workers=workers,
        progress=_progress(),
    )
    _report(counts, out, business_date, time.perf_counter() - started)


def _progress() -> Callable[[str, int, int], None]:
    """Prints a source's progress on stderr every tenth of its customers."""
    steps: dict[str, int] = {}

    def progress(source: str, done: int, total: int) -> None:
        step = done * 10 // total
        if step > steps.get(source, 0):
            steps[source] = step
            typer.echo(f"  {source}: {done:,} / {total:,} customers", err=True)

    return progress


def _report(counts: dict[str, dict[str, int]], out: Path, business_date: date, seconds: float) -> None:
    """What was written where, and how fast."""
    total = 0
    for source, files in counts.items():
        rows = sum(files.values())
        total += rows
        folder = out / source / business_date.isoformat()
        typer.echo(
            f"{source} {business_date}: {files['customers.csv']:,} customers, {rows:,} rows -> {folder}"
        )
    typer.echo(f"{total:,} rows in {seconds:.1f} s ({total / max(seconds, 1e-9):,.0f} rows/s)")

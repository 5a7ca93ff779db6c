"""Realistic full-snapshot extract sets (docs/extracts.md) for T24 (loans) and W4 (cards), as a stream.

Layout of the work, and what makes it deterministic and flat in memory:

- Each source's customers are cut into chunks (``planning``); a chunk's rows depend on (seed, source, chunk)
  only, never on the business date, the other chunks, the number of worker processes or ``--customers``
  (customer ``T24C0000007`` is the same person in a 1,000 and in a 1,000,000 customer set).
- A chunk first draws the *shape* of its customers (how many phones, loans, collaterals, due rows ...,
  ``shapes``) from its own stream, then their values from another (``chunk`` and one module per file).
  With ``changed`` or ``bad`` a quick pre-pass draws the shapes alone to count every file's rows, so that
  exactly ``round(share * rows)`` rows per file can be chosen (spread over the chunks, then sampled inside
  each chunk: ``change_set``, ``bad_rows``).
- The base data is independent of the business date: every date in it is relative to ``as_of``
  (``DEFAULT_AS_OF`` unless given). Only payments.csv (that day's payments), the change set and the bad
  rows are drawn from streams that also take the business date.
- The chunks' rows are written as they come, the manifest last (``delivery``).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from crm.demo_data.chunk import run_chunk
from crm.demo_data.delivery import Progress, write_source
from crm.demo_data.files import FILES, NO_CHANGE_FILES
from crm.demo_data.planning import (
    DEFAULT_AS_OF,
    SOURCES,
    Job,
    Plan,
    chunk_jobs,
    part,
    share_of,
    split_customers,
)
from crm.demo_data.shapes import count_chunk


def allocate(jobs: list[Job], counts: list[tuple[int, ...]], plan: Plan) -> list[Job]:
    """Spread each file's changed and bad rows over the chunks, in proportion to their rows."""
    files = range(len(FILES))
    totals = [sum(c[f] for c in counts) for f in files]
    k_changed = [0 if f in NO_CHANGE_FILES else share_of(totals[f], plan.changed) for f in files]
    k_bad = [share_of(totals[f], plan.bad) for f in files]
    done = [0] * len(FILES)
    allocated = []
    for job, rows in zip(jobs, counts, strict=True):
        upto = [done[f] + rows[f] for f in files]
        allocated.append(
            Job(
                job.plan,
                job.source,
                job.chunk,
                job.first,
                job.count,
                base_rows=rows,
                changed_rows=tuple(
                    part(k_changed[f], totals[f], upto[f]) - part(k_changed[f], totals[f], done[f])
                    for f in files
                ),
                bad_rows=tuple(
                    part(k_bad[f], totals[f], upto[f]) - part(k_bad[f], totals[f], done[f]) for f in files
                ),
                bad_before=tuple(part(k_bad[f], totals[f], done[f]) for f in files),
            )
        )
        done = upto
    return allocated


class _Executor:
    """Runs chunk jobs in order, in this process or in a pool, with at most 2 x workers results pending."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: Any = None

    def __enter__(self) -> _Executor:
        if self.workers > 1:
            self.pool = multiprocessing.get_context().Pool(self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()

    def map(self, fn: Callable[[Job], Any], jobs: Iterable[Job]) -> Iterator[Any]:
        if self.pool is None:
            yield from map(fn, jobs)
            return
        pending: deque[Any] = deque()
        for job in jobs:
            pending.append(self.pool.apply_async(fn, (job,)))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _check(customers: int, changed: float, bad: float, sources: Sequence[str], workers: int) -> None:
    if customers < 1:
        raise ValueError(f"customers must be at least 1, not {customers}.")
    for name, share in (("changed", changed), ("bad", bad)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be a share between 0 and 1 (0 % to 100 %), not {share}.")
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise ValueError(
            f"unknown source(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SOURCES)}."
        )
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}.")


def generate(
    out_dir: Path,
    customers: int,
    business_date: date,
    seed: int = 42,
    changed: float = 0.0,
    bad: float = 0.0,
    sources: Sequence[str] = ("T24", "W4"),
    *,
    as_of: date | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> dict[str, dict[str, int]]:
    """Write ``<out_dir>/<SOURCE>/<business_date>/`` per source; returns the data rows per source and file.

    ``customers`` are split over ``sources`` by weight (T24 65 %, W4 35 %); ``changed`` and ``bad`` are
    shares (0.05 for 5 %). The output depends on the arguments only, not on ``workers``.
    """
    _check(customers, changed, bad, sources, workers)
    plan = Plan(seed, business_date, as_of or DEFAULT_AS_OF, changed, bad)
    result: dict[str, dict[str, int]] = {}
    with _Executor(workers) as executor:
        for source, n in split_customers(customers, sources).items():
            jobs = chunk_jobs(plan, source, n)
            if changed or bad:
                jobs = allocate(jobs, list(executor.map(count_chunk, jobs)), plan)
            results = executor.map(run_chunk, jobs)
            result[source] = write_source(out_dir, plan, source, jobs, results, progress)
    return result

"""DPD buckets: the one place their boundaries are written down."""

from __future__ import annotations

from crm.workflow.assignments.schemas import Bucket

_UPPER_BOUNDS: tuple[tuple[Bucket, int | None], ...] = (
    (Bucket.CURRENT, 0),
    (Bucket.B1, 30),
    (Bucket.B2, 60),
    (Bucket.B3, 90),
    (Bucket.B4, 180),
    (Bucket.B5, None),
)


def dpd_range(bucket: Bucket) -> tuple[int, int | None]:
    """The inclusive days-past-due range of a bucket (``None``: no upper bound).

    CURRENT 0, B1 1-30, B2 31-60, B3 61-90, B4 91-180, B5 181 and more.
    """
    low = 0
    for name, high in _UPPER_BOUNDS:
        if name == bucket:
            return low, high
        assert high is not None
        low = high + 1
    raise ValueError(f"unknown bucket {bucket!r}")


def bucket_of(dpd: int) -> Bucket:
    """The bucket of a number of days past due (negative counts as current)."""
    for name, high in _UPPER_BOUNDS:
        if high is None or dpd <= high:
            return name
    raise AssertionError("the last bucket has no upper bound")

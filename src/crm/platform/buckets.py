"""Days-past-due buckets (docs/data-model.md): the one place their boundaries are written down.

bank-sync searches loans by bucket and answers each loan's bucket; workflow assigns customers by
the bucket of their worst loan.
"""

from __future__ import annotations

from enum import StrEnum


class DpdBucket(StrEnum):
    """Days-past-due buckets of docs/data-model.md, used for search, queues and reports."""

    CURRENT = "CURRENT"
    B1 = "B1"
    B2 = "B2"
    B3 = "B3"
    B4 = "B4"
    B5 = "B5"

    @property
    def dpd_range(self) -> tuple[int, int | None]:
        """The first and last dpd of the bucket (None: no upper end)."""
        return _BUCKET_RANGES[self]

    @classmethod
    def of(cls, dpd: int) -> DpdBucket:
        """The bucket a loan with ``dpd`` days past due is in."""
        for bucket, (_, last) in _BUCKET_RANGES.items():
            if last is None or dpd <= last:
                return bucket
        raise AssertionError("the last bucket has no upper end")  # pragma: no cover


_BUCKET_RANGES: dict[DpdBucket, tuple[int, int | None]] = {
    DpdBucket.CURRENT: (0, 0),
    DpdBucket.B1: (1, 30),
    DpdBucket.B2: (31, 60),
    DpdBucket.B3: (61, 90),
    DpdBucket.B4: (91, 180),
    DpdBucket.B5: (181, None),
}

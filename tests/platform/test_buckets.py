"""The days-past-due buckets: which bucket each dpd is in, and each bucket's dpd range."""

from __future__ import annotations

from crm.platform.buckets import DpdBucket


def test_bucket_boundaries():
    assert [DpdBucket.of(d) for d in (0, 1, 30, 31, 60, 61, 90, 91, 180, 181, 5000)] == [
        DpdBucket.CURRENT,
        DpdBucket.B1,
        DpdBucket.B1,
        DpdBucket.B2,
        DpdBucket.B2,
        DpdBucket.B3,
        DpdBucket.B3,
        DpdBucket.B4,
        DpdBucket.B4,
        DpdBucket.B5,
        DpdBucket.B5,
    ]
    assert DpdBucket.CURRENT.dpd_range == (0, 0) and DpdBucket.B2.dpd_range == (31, 60)
    assert DpdBucket.B4.dpd_range == (91, 180) and DpdBucket.B5.dpd_range == (181, None)

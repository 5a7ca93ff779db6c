"""How many CPUs this process may use: what ``CRM_WORKERS`` defaults to.

``os.cpu_count()`` is the machine's count. A container is usually given fewer: a CPU set (the
process's affinity) or a CFS quota (Kubernetes' CPU limit: cgroup v2 ``cpu.max``, v1
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``). One worker per core of the machine in a container
limited to two CPUs would start a dozen processes fighting for two cores, each with its own
database pools.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_limit(root: Path = CGROUP) -> int | None:
    """The CFS quota in whole CPUs (rounded up), or None when there is none."""
    v2 = _read(root / "cpu.max")  # "max 100000" (no limit) or "<quota> <period>"
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        if quota == "max" or not period:
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    quota_v1, period_v1 = _read(root / "cpu" / "cpu.cfs_quota_us"), _read(root / "cpu" / "cpu.cfs_period_us")
    if quota_v1 is None or period_v1 is None or int(quota_v1) <= 0:
        return None
    return max(1, math.ceil(int(quota_v1) / int(period_v1)))


def available_cpus(root: Path = CGROUP) -> int:
    """The CPUs this process may run on (its affinity), within its cgroup's quota if it has one."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    return max(1, min(usable, limit) if limit is not None else usable)

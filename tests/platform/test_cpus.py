"""CRM_WORKERS defaults to the CPUs the process may use: its CPU set, within a container's CPU limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crm.platform.cpus import available_cpus, cgroup_cpu_limit


def _cgroup_v2(root: Path, cpu_max: str) -> Path:
    (root / "cpu.max").write_text(cpu_max + "\n")
    return root


def _cgroup_v1(root: Path, quota: int, period: int = 100000) -> Path:
    (root / "cpu").mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text(f"{period}\n")
    return root


@pytest.mark.parametrize(
    ("cpu_max", "limit"),
    [
        ("max 100000", None),
        ("200000 100000", 2),
        ("150000 100000", 2),
        ("50000 100000", 1),
        ("400000 50000", 8),
    ],
)
def test_a_cgroup_v2_quota_in_whole_cpus_rounded_up(tmp_path, cpu_max, limit):
    assert cgroup_cpu_limit(_cgroup_v2(tmp_path, cpu_max)) == limit


@pytest.mark.parametrize(("quota", "limit"), [(-1, None), (300000, 3), (250000, 3)])
def test_a_cgroup_v1_quota_in_whole_cpus_rounded_up(tmp_path, quota, limit):
    assert cgroup_cpu_limit(_cgroup_v1(tmp_path, quota)) == limit


def test_without_a_limit_every_cpu_of_the_process_set_counts(tmp_path):
    assert cgroup_cpu_limit(tmp_path) is None
    assert available_cpus(tmp_path) == len(os.sched_getaffinity(0))


def test_a_container_limited_to_one_cpu_runs_one_worker_whatever_the_machine_has(tmp_path):
    assert available_cpus(_cgroup_v2(tmp_path, "100000 100000")) == 1
    assert available_cpus(_cgroup_v2(tmp_path, "6400000 100000")) == len(os.sched_getaffinity(0))

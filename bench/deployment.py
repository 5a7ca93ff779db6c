# ruff: noqa: E501 - long report lines
"""What the Kubernetes manifests (deploy/kubernetes) are sized from, measured as a pod runs each service.

    .venv/bin/python bench/deployment.py [--runs 3] [--customers 100000]

Starts an embedded PostgreSQL and NATS in a temporary folder (they stand for the cluster's), times
``crm migrate`` (the migration Job) on the empty database and again once applied, then for each
deployable, one at a time, ``crm serve <service> --workers 1`` as the image runs it
(``CRM_MIGRATE_ON_START=false``, ``DATABASE_URL`` / ``NATS_URL`` set):

- start: from the process's launch to the first 200 of ``/health/live`` and of ``/health/ready``
  (polled every 50 ms): what the startup probe must allow;
- memory: ``VmRSS`` of the process once ready, and its peak (``VmHWM``) after a burst of 2,000 requests
  (16 at a time) on one of its read routes with an ADMIN token; for bank-sync also the peak during a
  sync run of a generated extract set of ``--customers`` customers (what the nightly load adds);
- stop: from SIGTERM (what the kubelet sends) to the process's exit, idle.

Then all five started at the same moment (a node that starts every service at once), start times only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx

from crm.platform.auth import Role, TokenService
from crm.platform.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from crm.platform.settings import PlatformSettings
from crm.services import SERVICES

CRM = str(Path(sys.executable).parent / "crm")
READ_ROUTE = {
    "identity": "/api/auth/users",
    "bank-sync": "/api/customers?pageSize=50",
    "payments": "/api/payments/customer/C0000001",
    "workflow": "/api/agents",
    "web": "/login",
}


@dataclass
class Run:
    service: str
    live: float = 0.0
    ready: float = 0.0
    rss_ready_mib: float = 0.0
    hwm_burst_mib: float = 0.0
    stop: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def launch(service: str, env: dict[str, str], work: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    folder = work / service
    folder.mkdir(exist_ok=True)
    log = (folder / "serve.log").open("ab")
    started = time.monotonic()
    process = subprocess.Popen(
        [CRM, "serve", service, "--port", str(port), "--workers", "1"],
        env={**env, "CRM_DATA_DIR": str(folder)},
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    return process, f"http://127.0.0.1:{port}", started


def wait_for(
    base: str, path: str, process: subprocess.Popen[bytes], started: float, within: float = 180
) -> float:
    while time.monotonic() - started < within:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before {path} answered")
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{path} not 200 within {within} s")


def stop(process: subprocess.Popen[bytes]) -> float:
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(120)
    return time.monotonic() - began


async def burst(
    base: str, path: str, headers: dict[str, str], total: int = 2000, concurrency: int = 16
) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def one_after_another(n: int) -> None:
            for _ in range(n):
                await client.get(path)

        await asyncio.gather(*(one_after_another(total // concurrency) for _ in range(concurrency)))


def sync_peak(base: str, headers: dict[str, str], pid: int) -> tuple[float, float]:
    """Peak RSS (MiB) while bank-sync loads the T24 extract set in the inbox, and the load's seconds."""
    began = time.monotonic()
    queued = httpx.post(f"{base}/api/sync/run", json={"sourceSystem": "T24"}, headers=headers, timeout=30)
    queued.raise_for_status()
    peak = 0.0
    while True:
        peak = max(peak, status_mib(pid, "VmRSS"))
        status = httpx.get(f"{base}/api/sync/status", headers=headers, timeout=30).json()
        t24 = next(s for s in status["sources"] if s["sourceSystem"] == "T24")
        run = t24.get("lastRun") or {}
        if run.get("state") in ("SUCCEEDED", "FAILED"):
            assert run["state"] == "SUCCEEDED", run
            return max(peak, status_mib(pid, "VmHWM")), time.monotonic() - began
        time.sleep(0.2)


def measure(service: str, env: dict[str, str], work: Path, headers: dict[str, str], sync: bool) -> Run:
    process, base, started = launch(service, env, work)
    run = Run(service)
    try:
        run.live = wait_for(base, "/health/live", process, started)
        run.ready = wait_for(base, "/health/ready", process, started)
        run.rss_ready_mib = status_mib(process.pid, "VmRSS")
        asyncio.run(burst(base, READ_ROUTE[service], headers))
        run.hwm_burst_mib = status_mib(process.pid, "VmHWM")
        if sync:
            run.extra["sync_peak_mib"], run.extra["sync_seconds"] = sync_peak(base, headers, process.pid)
    finally:
        run.stop = stop(process)
    return run


def timed(command: list[str], env: dict[str, str]) -> float:
    began = time.monotonic()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crm-deployment-"))
    servers = work / "servers"
    postgres, nats = EmbeddedPostgres(servers, max_connections=300), EmbeddedNats(servers)
    jwt_secret = secrets.token_urlsafe(48)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
        "DATABASE_URL": postgres.start(),
        "NATS_URL": nats.start(),
        "CRM_JWT_SECRET": jwt_secret,
        "CRM_PAYMENT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "CRM_MIGRATE_ON_START": "false",
        "CRM_INBOX_DIR": str(work / "inbox"),
        "CRM_SYNC_SCHEDULE": "",
        "CRM_PAYMENT_SYNC_SCHEDULE": "",
        "CRM_LOG_LEVEL": "WARNING",
    }
    try:
        first = timed([CRM, "migrate"], {**env, "CRM_DATA_DIR": str(work / "migrate")})
        again = timed([CRM, "migrate"], {**env, "CRM_DATA_DIR": str(work / "migrate")})
        print(f"crm migrate: {first:.1f} s on the empty database, {again:.1f} s once applied")
        yesterday = date.today() - timedelta(days=1)
        generated = timed(
            [
                CRM,
                "generate",
                "--customers",
                str(args.customers),
                "--out",
                str(work / "inbox"),
                "--date",
                yesterday.isoformat(),
                "--sources",
                "T24",
            ],
            env,
        )
        print(f"generated {args.customers:,} customers' T24 extracts in {generated:.0f} s")
        token, _ = TokenService(PlatformSettings(jwt_secret=jwt_secret, data_dir=work)).issue(
            "bench", [Role.ADMIN]
        )
        headers = {"Authorization": f"Bearer {token}"}
        runs: list[Run] = []
        for n in range(args.runs):
            for service in SERVICES:
                run = measure(service, env, work, headers, sync=service == "bank-sync" and n == 0)
                runs.append(run)
                print(
                    f"run {n + 1} {service:<9} live {run.live:5.2f} s  ready {run.ready:5.2f} s  "
                    f"RSS ready {run.rss_ready_mib:5.0f} MiB  peak after burst {run.hwm_burst_mib:5.0f} MiB  "
                    f"stop {run.stop:4.1f} s  {run.extra or ''}",
                    flush=True,
                )
        print(
            "\n| service | ready (median / max) | RSS ready | peak after 2,000 requests | stop on SIGTERM |"
        )
        print("|---|---|---|---|---|")
        for service in SERVICES:
            mine = [r for r in runs if r.service == service]
            ready = [r.ready for r in mine]
            print(
                f"| {service} | {statistics.median(ready):.1f} / {max(ready):.1f} s "
                f"| {max(r.rss_ready_mib for r in mine):.0f} MiB | {max(r.hwm_burst_mib for r in mine):.0f} MiB "
                f"| {max(r.stop for r in mine):.1f} s |"
            )
        started = [launch(service, env, work) for service in SERVICES]
        together = [wait_for(base, "/health/ready", p, t) for p, base, t in started]
        for p, _, _ in started:
            stop(p)
        print(
            "\nall five at once, ready after: "
            + ", ".join(f"{s} {t:.1f} s" for s, t in zip(SERVICES, together, strict=True))
        )
    finally:
        nats.stop()
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The system as ``make run`` runs it, for the benchmarks and the browser tests: ``crm up --demo`` in
its own folder and port, with its own embedded PostgreSQL and NATS.

with System(work, CRM_PAYMENT_WEBHOOK_SECRET=...) as system:
    headers = asyncio.run(system.loaded())   # ready, demo extracts loaded; an ADMIN's headers
    url = system.database_url()              # the embedded PostgreSQL it started
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import httpx

from crm.platform.embedded import EmbeddedPostgres


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class System:
    def __init__(self, work: Path, *, workers: int | None = None, **settings: str) -> None:
        self.work = work
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.admin = {"username": "bench-admin", "password": self._admin_password(work)}
        inherited = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL")}
        self.env = {
            **inherited,
            "CRM_DATA_DIR": str(work),
            "CRM_PORT": str(self.port),
            "CRM_BOOTSTRAP_ADMIN_USERNAME": self.admin["username"],
            "CRM_BOOTSTRAP_ADMIN_PASSWORD": self.admin["password"],
            "CRM_LOG_LEVEL": "WARNING",
            **settings,
        }
        self.server: subprocess.Popen[bytes] | None = None

    @staticmethod
    def _admin_password(work: Path) -> str:
        """One per data folder (a folder started again keeps its admin)."""
        kept = work / "secrets" / "launch-admin-password"
        if not kept.exists():
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text(secrets.token_urlsafe(16))
        return kept.read_text().strip()

    def __enter__(self) -> System:
        crm = Path(sys.executable).parent / "crm"
        command = [str(crm), "up", "--demo", *(["--workers", str(self.workers)] if self.workers else [])]
        self.server = subprocess.Popen(command, env=self.env, start_new_session=True)
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.server is not None:
            os.killpg(self.server.pid, signal.SIGINT)  # what Ctrl-C does to make run
            self.server.wait(timeout=120)

    async def loaded(self) -> dict[str, str]:
        """Wait until the system is ready and its demo extracts are loaded; an ADMIN's headers."""
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            for _ in range(1200):
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)
            token = (await client.post("/api/auth/token", data=self.admin)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(7200):  # the demo extracts load in the background at first start
                try:
                    status = (await client.get("/api/sync/status", headers=headers)).json()
                except httpx.HTTPError:  # a busy server during a million-customer load: ask again
                    await asyncio.sleep(5)
                    continue
                runs = [src.get("lastRun") or {} for src in status.get("sources", [])]
                if any(runs) and all(r.get("state") not in ("QUEUED", "RUNNING") for r in runs):
                    return headers
                await asyncio.sleep(1)
        raise RuntimeError("the demo extracts did not load")

    def database_url(self) -> str:
        return EmbeddedPostgres(self.work).start()  # the server crm up started: reused, not started again

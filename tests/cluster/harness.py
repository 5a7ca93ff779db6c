"""The pieces of a scaled deployment on one machine: a 3-node NATS cluster, replicas of each service as
``crm serve`` processes, and the round robin a load balancer would do in front of them.

Every process is started in its own process group and killed with its group (``-9``) or stopped
with SIGTERM as an orchestrator stops a pod; logs go to one file per process and start.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import httpx

from crm.platform.auth import Role, TokenService
from crm.platform.embedded import free_port, nats_server_binary

CRM = str(Path(sys.executable).parent / "crm")
T = TypeVar("T")
WEBHOOK_SECRET = "cluster-webhook-secret"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def until(check: Callable[[], Awaitable[T | None]], within: float, what: str, every: float = 0.1) -> T:
    """The first truthy value of ``check`` (polled), or a failure naming ``what`` after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        await asyncio.sleep(every)


def _kill_group(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@dataclass
class NatsNode:
    """One server of the cluster: JetStream on, its own store, routes to the others on loopback."""

    name: str
    root: Path
    port: int = field(default_factory=free_port)
    cluster_port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, routes: list[int]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "nats.conf"
        peers = ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in routes)
        config.write_text(
            f'server_name: "{self.name}"\n'
            f'listen: "127.0.0.1:{self.port}"\n'
            f'http: "127.0.0.1:{self.monitor_port}"\n'
            f'jetstream {{\n  store_dir: "{self.root / "store"}"\n'
            f"  max_memory_store: 64MB\n  max_file_store: 2GB\n}}\n"
            f'cluster {{\n  name: "crm-test"\n  listen: "127.0.0.1:{self.cluster_port}"\n'
            f"  routes: [{peers}]\n}}\n"
        )
        log = (self.root / "nats.log").open("ab")
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)], stdout=log, stderr=log, start_new_session=True
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        _kill_group(self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                _kill_group(self.process)

    async def meta(self, client: httpx.AsyncClient) -> dict[str, Any] | None:
        """Its view of the JetStream meta group (``/jsz``), when it is up and healthy (``/healthz``)."""
        if self.process is None or self.process.poll() is not None:
            return None
        monitor = f"http://127.0.0.1:{self.monitor_port}"
        try:
            if (await client.get(f"{monitor}/healthz")).status_code != 200:
                return None
            meta: dict[str, Any] = (await client.get(f"{monitor}/jsz")).json().get("meta_cluster") or {}
        except (httpx.HTTPError, ValueError):
            return None
        return meta


@dataclass
class NatsCluster:
    root: Path
    nodes: list[NatsNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.nodes = [NatsNode(f"n{i + 1}", self.root / f"n{i + 1}") for i in range(3)]

    @property
    def url(self) -> str:
        """``NATS_URL`` naming the three nodes."""
        return ",".join(node.url for node in self.nodes)

    def start(self, node: NatsNode | None = None) -> None:
        routes = [n.cluster_port for n in self.nodes]
        for each in [node] if node else self.nodes:
            each.start(routes)

    async def wait_healthy(self, within: float = 60) -> None:
        async with httpx.AsyncClient(timeout=2) as client:

            async def all_healthy() -> bool:
                """Every node healthy and agreeing on a meta leader, which has every other node
                current: ``/healthz`` alone answers 200 before the routes are all up."""
                views = {node.name: await node.meta(client) for node in self.nodes}
                leaders = {(view or {}).get("leader") for view in views.values()}
                if None in views.values() or len(leaders) != 1 or None in leaders:
                    return False
                leader = views[leaders.pop()] or {}
                peers = leader.get("replicas") or []
                return leader.get("cluster_size") == len(self.nodes) and (
                    len(peers) == len(self.nodes) - 1 and all(peer.get("current") for peer in peers)
                )

            await until(all_healthy, within, "the NATS cluster healthy")

    def by_name(self, name: str) -> NatsNode:
        return next(node for node in self.nodes if node.name == name)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@dataclass
class Replica:
    """One ``crm serve <service> --port P --workers 1``: a pod of a deployment."""

    service: str
    index: int
    root: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """The log of the current (or last) start."""
        return self.root / f"{self.name}.{self.starts}.log"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        handle = self.log.open("ab")
        command = [CRM, "serve", self.service, "--port", str(self.port), "--workers", "1"]
        self.process = subprocess.Popen(
            command, env=self.env, stdout=handle, stderr=handle, start_new_session=True
        )

    async def ready(self, client: httpx.AsyncClient) -> bool:
        if not self.alive():
            assert self.process is not None
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
        try:
            return (await client.get(f"{self.base}/health/ready", timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False

    async def wait_ready(self, within: float = 120) -> None:
        async with httpx.AsyncClient() as client:
            await until(lambda: self.ready(client), within, f"{self.name} ready", every=0.2)

    def kill(self) -> None:
        """``kill -9``: no shutdown, connections dropped mid-request."""
        _kill_group(self.process)

    def stop(self, within: float = 60) -> int:
        """SIGTERM, as an orchestrator stops a pod: uvicorn drains its requests and the app shuts down."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(within)
        except subprocess.TimeoutExpired:
            _kill_group(self.process)
            raise AssertionError(f"{self.name} did not stop within {within} s of SIGTERM") from None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def events(self, name: str, every_start: bool = False) -> list[dict[str, Any]]:
        """The JSON log lines whose ``event`` is ``name`` (of the current start, or of every start)."""
        paths = (
            [self.root / f"{self.name}.{n}.log" for n in range(1, self.starts + 1)]
            if every_start
            else [self.log]
        )
        found = []
        for path in paths:
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if f'"{name}"' not in line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("event") == name:
                    found.append(record)
        return found


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    text: str


@dataclass
class RoundRobin:
    """The load balancer in front of one service's replicas, in the test process: each request goes to
    the next replica in turn; a replica that refuses the connection (killed, not listening yet) is
    skipped for the next one, as a load balancer's health check takes it out. Any other failure (the
    connection dropped after the request was sent) is the caller's to handle: it cannot know whether
    the request was carried out.

    ``request`` through httpx, for the tests' own calls; ``post`` through aiohttp, for the load (a
    tenth of httpx's CPU per request, which matters with the deployment on the same two cores)."""

    replicas: list[Replica]
    client: httpx.AsyncClient
    session: aiohttp.ClientSession
    rerouted: int = 0
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def _in_turn(self) -> list[Replica]:
        first = next(self._turn)
        return [self.replicas[(first + i) % len(self.replicas)] for i in range(len(self.replicas))]

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        refused: httpx.ConnectError | None = None
        for replica in self._in_turn():
            try:
                return await self.client.request(method, replica.base + path, **kwargs)
            except httpx.ConnectError as exc:
                self.rerouted += 1
                refused = exc
        assert refused is not None
        raise refused

    async def post(
        self, path: str, data: bytes, headers: dict[str, str], to: Replica | None = None
    ) -> Answer:
        """POST to the next replica in turn (or to ``to`` alone); ``aiohttp.ClientConnectorError``
        when no replica (or not ``to``) accepts the connection, another ``aiohttp.ClientError`` when
        the connection dropped after the request was sent."""
        refused: aiohttp.ClientConnectorError | None = None
        for replica in [to] if to else self._in_turn():
            try:
                async with self.session.post(replica.base + path, data=data, headers=headers) as response:
                    return Answer(response.status, dict(response.headers), await response.text())
            except aiohttp.ClientConnectorError as exc:
                if to is None:
                    self.rerouted += 1
                refused = exc
        assert refused is not None
        raise refused


@dataclass
class Deployment:
    root: Path
    database_url: str
    nats: NatsCluster
    replicas: dict[str, list[Replica]]
    tokens: TokenService
    client: httpx.AsyncClient
    session: aiohttp.ClientSession
    pool: asyncpg.Pool
    balancer: subprocess.Popen[bytes] | None = None
    routers: dict[str, RoundRobin] = field(default_factory=dict)

    def rr(self, service: str) -> RoundRobin:
        if service not in self.routers:
            self.routers[service] = RoundRobin(self.replicas[service], self.client, self.session)
        return self.routers[service]

    def headers(self, *roles: Role, agent_id: str | None = None) -> dict[str, str]:
        token, _ = self.tokens.issue(f"cluster-{'-'.join(roles).lower()}", roles, agent_id=agent_id)
        return {"Authorization": f"Bearer {token}"}

    def every_replica(self) -> list[Replica]:
        return [replica for replicas in self.replicas.values() for replica in replicas]

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.pool.acquire() as connection:
            return list(await connection.fetch(sql, *args))

    async def value(self, sql: str, *args: Any) -> Any:
        async with self.pool.acquire() as connection:
            return await connection.fetchval(sql, *args)

    async def all_ready(self, within: float = 120) -> None:
        await asyncio.gather(*(replica.wait_ready(within) for replica in self.every_replica()))

    def leader(self, service: str) -> Replica:
        """The replica running the service's background jobs: the live one that logged its election
        since it started (a process stays leader until it dies or loses its database connection)."""
        key = f"crm:{service}:background"
        leaders = [
            r
            for r in self.replicas[service]
            if r.alive()
            and any(e.get("key") == key for e in r.events("leader_elected"))
            and not r.events("leader_connection_lost")
        ]
        assert len(leaders) == 1, f"{service}: {[r.name for r in leaders]} claim to lead"
        return leaders[0]

"""The load balancer in front of the replicas, as the services see each other: one base URL.

    python -m tests.cluster.balancer \
        '{"port": 9000, "backends": {"bank-sync": ["http://127.0.0.1:9001", ...], ...}}'

A request goes to the service whose path prefix it has (``crm.services``; the web UI takes every
other path), to the next of its replicas in turn; a replica whose port refuses the connection (killed,
restarting) is skipped for the next one, as a load balancer's health check would take it out. Any
other failure is answered 502 and counted. What payments asks of bank-sync (``CRM_BANK_SYNC_URL``),
what workflow asks of bank-sync, and what the web UI asks of every service (``CRM_SERVICES_URL``) goes
through here; the tests' own requests go to the replicas directly (``tests.cluster.harness``).
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import uvicorn

from crm.services import SERVICES

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class Balancer:
    def __init__(self, backends: dict[str, list[str]]) -> None:
        self.backends = backends
        self.turns = {name: itertools.count() for name in backends}
        self.routes = sorted(
            ((prefix, name) for name, d in SERVICES.items() for prefix in d.prefixes if name in backends),
            key=lambda route: -len(route[0]),
        )
        self.client = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200))
        self.skipped = self.failed = 0

    def service_for(self, path: str) -> str | None:
        for prefix, name in self.routes:
            if prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return name
        return None

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        service = self.service_for(scope["path"])
        if service is None:
            await self._answer(send, 404, [], b"no service for this path")
            return
        headers = [
            (k.decode(), v.decode()) for k, v in scope["headers"] if k.decode().lower() not in HOP_BY_HOP
        ]
        replicas = self.backends[service]
        first = next(self.turns[service])
        for i in range(len(replicas)):
            base = replicas[(first + i) % len(replicas)]
            url = (
                base + scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
            )
            try:
                response = await self.client.request(scope["method"], url, headers=headers, content=body)
            except httpx.ConnectError:
                self.skipped += 1
                continue
            except httpx.HTTPError as exc:
                self.failed += 1
                print(f"balancer: {service} {scope['path']}: {exc!r}", file=sys.stderr, flush=True)
                await self._answer(send, 502, [], f"{service}: {type(exc).__name__}".encode())
                return
            kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
            await self._answer(send, response.status_code, kept, response.content)
            return
        self.failed += 1
        await self._answer(send, 502, [], f"no replica of {service} accepts connections".encode())

    @staticmethod
    async def _answer(
        send: Callable[[dict[str, Any]], Awaitable[None]],
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        raw = [(k.encode(), v.encode()) for k, v in headers] + [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    config = json.loads(sys.argv[1])
    uvicorn.run(
        Balancer(config["backends"]),
        host="127.0.0.1",
        port=config["port"],
        lifespan="off",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()

"""Keeps the embedded servers ``crm up`` started running: one that dies is started again, with back-off.

Without it a killed NATS stayed down (a zombie no one reaped) and events waited in the outbox until
someone restarted it by hand. The services need no help meanwhile: their bus reconnects by itself,
their pools open new connections, ``/health/ready`` answers 503 naming what is down, and writes keep
going to the outbox. Only servers this process started are watched; one reused from another ``crm``
process on the same data folder belongs to that process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from crm.platform.logging import get_logger

log = get_logger("crm.supervisor")


@dataclass
class BackOff:
    """Seconds to wait before restart number ``attempt`` (1, 2, 4 … up to ``ceiling``); a server that
    has stayed up for ``forgiven_after`` seconds starts again from the first step."""

    first: float = 1.0
    ceiling: float = 30.0
    forgiven_after: float = 60.0

    def delay(self, attempt: int) -> float:
        return float(min(self.ceiling, self.first * 2 ** max(0, attempt - 1)))


@dataclass
class Watched:
    """A server: how to tell it is alive, and how to start it again (same port, same data)."""

    name: str
    alive: Callable[[], bool]
    restart: Callable[[], object]


@dataclass
class Supervisor:
    """One thread per watched server, checking every ``interval`` seconds."""

    interval: float = 1.0
    backoff: BackOff = field(default_factory=BackOff)
    restarts: dict[str, int] = field(default_factory=dict)
    """Restarts done per server since start: what an operator (and a test) reads."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def watch(self, server: Watched) -> None:
        self.restarts.setdefault(server.name, 0)
        thread = threading.Thread(
            target=self._keep, args=(server,), name=f"supervise-{server.name}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        """Stop watching (before the servers are stopped on purpose)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)
        self._threads.clear()

    def _keep(self, server: Watched) -> None:
        attempt = 0
        up_since = time.monotonic()
        while not self._stop.wait(self.interval):
            if self._alive(server):
                if attempt and time.monotonic() - up_since >= self.backoff.forgiven_after:
                    attempt = 0
                continue
            attempt += 1
            delay = self.backoff.delay(attempt)
            log.warning(f"{server.name}_down", attempt=attempt, restart_in=delay)
            if self._stop.wait(delay):
                return
            try:
                server.restart()
            except Exception as exc:  # logged; tried again after a longer wait
                log.error(f"{server.name}_restart_failed", attempt=attempt, error=str(exc))
                continue
            self.restarts[server.name] += 1
            up_since = time.monotonic()
            log.warning(f"{server.name}_restarted", attempt=attempt)

    @staticmethod
    def _alive(server: Watched) -> bool:
        try:
            return server.alive()
        except Exception:  # a check that cannot tell counts as down
            return False

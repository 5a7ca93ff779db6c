"""The supervisor of `crm up`'s embedded servers: a dead server started again, waiting longer each time."""

from __future__ import annotations

import threading
import time

from crm.platform.supervisor import BackOff, Supervisor, Watched


def test_restarts_wait_longer_each_time_up_to_a_ceiling():
    backoff = BackOff(first=1, ceiling=30)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_server_that_keeps_dying_is_started_again_and_again_with_growing_waits():
    restarted_at: list[float] = []
    done = threading.Event()

    def restart() -> None:
        restarted_at.append(time.monotonic())
        if len(restarted_at) == 3:
            done.set()

    supervisor = Supervisor(interval=0.01, backoff=BackOff(first=0.1, ceiling=1, forgiven_after=60))
    started = time.monotonic()
    supervisor.watch(Watched("server", alive=lambda: done.is_set(), restart=restart))
    try:
        assert done.wait(10)
    finally:
        supervisor.stop()
    waits = [b - a for a, b in zip([started, *restarted_at], restarted_at, strict=False)]
    assert supervisor.restarts["server"] == 3
    assert waits[0] >= 0.1 and waits[1] >= 0.2 and waits[2] >= 0.4, waits


def test_a_failing_restart_is_tried_again_and_stopping_ends_the_watch():
    attempts: list[int] = []
    up = threading.Event()

    def restart() -> None:
        attempts.append(1)
        if len(attempts) < 2:
            raise RuntimeError("port still held")
        up.set()

    supervisor = Supervisor(interval=0.01, backoff=BackOff(first=0.01, ceiling=0.05))
    supervisor.watch(Watched("server", alive=up.is_set, restart=restart))
    assert up.wait(10)
    supervisor.stop()
    assert supervisor.restarts["server"] == 1 and len(attempts) == 2
    up.clear()
    time.sleep(0.1)  # stopped: a server down now is left alone (it is being stopped on purpose)
    assert len(attempts) == 2

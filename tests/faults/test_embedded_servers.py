"""`crm up` keeps the servers it started running: NATS or PostgreSQL killed with -9 is started again,
the services find it by themselves, and nothing acknowledged is lost or applied twice."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crm.platform.embedded import free_port
from tests.e2e.test_run import ADMIN, _start, _stop, _token, _wait_ready

pytestmark = pytest.mark.e2e


@dataclass
class Up:
    base: str
    data: Path
    log: Path
    headers: dict[str, str] = field(default_factory=dict)

    def postgres_url(self) -> str:
        port = (self.data / "postgres" / "postmaster.pid").read_text().splitlines()[3]
        password = (self.data / "secrets" / "postgres-password").read_text().strip()
        return f"postgresql://crm:{password}@127.0.0.1:{port}/crm"

    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{(self.data / 'nats.port').read_text().strip()}"


@pytest.fixture(scope="module")
def up(tmp_path_factory) -> Iterator[Up]:
    """`crm up` as `make run` starts it: its own embedded PostgreSQL and NATS, two worker processes."""
    root = tmp_path_factory.mktemp("supervised")
    port = free_port()
    system = Up(f"http://127.0.0.1:{port}", root / "data", root / "crm-up.log")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL")},
        "CRM_DATA_DIR": str(system.data),
        "CRM_PORT": str(port),
        "CRM_BOOTSTRAP_ADMIN_USERNAME": ADMIN["username"],
        "CRM_BOOTSTRAP_ADMIN_PASSWORD": ADMIN["password"],
        "CRM_WORKERS": "2",
        "CRM_SYNC_SCHEDULE": "",
    }
    process = _start(["up"], env, system.log)
    try:
        _wait_ready(system.base, process, system.log)
        system.headers = _token(system.base)
        yield system
    finally:
        code = _stop(process)
    assert code == 0, system.log.read_text()[-3000:]
    assert "Traceback" not in system.log.read_text()


def _payment(reference: str) -> dict[str, str]:
    return {
        "referenceNumber": reference,
        "loanAccountNumber": f"LN-{reference}",
        "cif": f"CIF-{reference}",
        "amount": "125000.00",
        "paymentDate": "2026-11-28T09:00:00+07:00",
        "paymentChannel": "CASH",
    }


def _ready_within(up: Up, seconds: float) -> float:
    """Seconds until ``/health/ready`` answers 200 again (fails after ``seconds``)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if httpx.get(f"{up.base}/health/ready", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"not ready again within {seconds} s:\n{up.log.read_text()[-3000:]}")


def _consumed(up: Up, consumer: str) -> dict[str, float]:
    """``crm_events_consumed_total`` of one consumer by outcome, across both worker processes."""
    families = text_string_to_metric_families(httpx.get(f"{up.base}/metrics", timeout=10).text)
    outcomes: dict[str, float] = {}
    counter = next((f for f in families if f.name == "crm_events_consumed"), None)  # none before the first
    for sample in counter.samples if counter else ():
        if sample.name.endswith("_total") and sample.labels["consumer"].endswith(consumer):
            outcomes[sample.labels["outcome"]] = outcomes.get(sample.labels["outcome"], 0) + sample.value
    return outcomes


def _wait_for(check, within: float, what: str):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"{what} not within {within} s")


async def _stream_messages(url: str, stream: str) -> int:
    client = await nats.connect(url, connect_timeout=5)
    try:
        return int((await client.jetstream().stream_info(stream)).state.messages)
    finally:
        await client.close()


def test_nats_killed_is_restarted_and_the_events_waiting_in_the_outbox_are_delivered_once(up):
    before = {name: _consumed(up, name).get("applied", 0) for name in ("loan-balance", "readmodel-payments")}
    in_stream_before = asyncio.run(_stream_messages(up.nats_url(), "CRM_PAYMENT"))
    nats_pid = int((up.data / "nats.pid").read_text())

    os.kill(nats_pid, signal.SIGKILL)
    killed_at = time.monotonic()
    references = [f"NATS-KILL-{i:03d}" for i in range(20)]
    with httpx.Client(base_url=up.base, headers=up.headers, timeout=30) as client:
        for reference in references:  # while NATS is down: the payments are stored, their events wait
            r = client.post("/api/payments", json=_payment(reference))
            assert r.status_code == 201, r.text

    back_in = _ready_within(up, 30 - (time.monotonic() - killed_at))
    new_pid = int((up.data / "nats.pid").read_text())
    assert new_pid != nats_pid, "a new NATS server runs"
    assert "nats_restarted" in up.log.read_text(), "the restart is logged"

    for name in ("loan-balance", "readmodel-payments"):  # bank-sync's balances and workflow's view
        applied = _wait_for(
            lambda name=name: (
                _consumed(up, name).get("applied", 0) - before[name] >= len(references)
                and _consumed(up, name)
            ),
            within=30,
            what=f"{name} applying the waiting events",
        )
        assert applied["applied"] - before[name] == len(references), f"{name}: each event applied once"
        assert applied.get("dead_lettered", 0) == 0
    in_stream = asyncio.run(_stream_messages(up.nats_url(), "CRM_PAYMENT"))
    assert in_stream - in_stream_before == len(references), "each event published once"
    print(f"NATS killed: ready again after {time.monotonic() - killed_at - back_in:.1f}+{back_in:.1f} s")


@dataclass
class Load:
    """Payments posted one after another from a thread until stopped; every answer is kept."""

    base: str
    headers: dict[str, str]
    answers: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as client:
            i = 0
            while not self._stop.is_set():
                reference = f"PG-KILL-{i:05d}"
                try:
                    self.answers[reference] = client.post(
                        "/api/payments", json=_payment(reference)
                    ).status_code
                except httpx.HTTPError as exc:
                    self.answers[reference] = 0  # no answer: the client cannot know, and retries the same
                    self.failures.append(repr(exc))
                i += 1

    def stop(self) -> None:
        self._stop.set()


def test_postgres_killed_under_load_is_restarted_and_nothing_acknowledged_is_lost(up):
    load = Load(up.base, up.headers)
    thread = threading.Thread(target=load.run)
    thread.start()
    try:
        _wait_for(lambda: len(load.answers) >= 20, within=30, what="payments under way")
        postmaster = int((up.data / "postgres" / "postmaster.pid").read_text().splitlines()[0])
        os.kill(postmaster, signal.SIGKILL)
        killed_at = time.monotonic()
        back_in = _ready_within(up, 60)
        answered_at_ready = len(load.answers)
        _wait_for(lambda: len(load.answers) >= answered_at_ready + 50, within=30, what="payments after")
    finally:
        load.stop()
        thread.join(60)
    assert "postgres_restarted" in up.log.read_text(), "the restart is logged"
    answers = dict(load.answers)
    statuses = sorted(set(answers.values()))
    assert set(statuses) <= {0, 201, 503}, f"only stored or 'try again', never a server error: {statuses}"
    assert not load.failures, load.failures[:5]
    after = list(answers.values())[answered_at_ready:]
    assert set(after) == {201}, "once it is back, every payment is stored"

    async def stored() -> dict[str, int]:
        connection = await asyncpg.connect(up.postgres_url())
        try:
            rows = await connection.fetch(
                "SELECT reference_number, count(*) AS n FROM payments.payment"
                " WHERE reference_number LIKE 'PG-KILL-%' GROUP BY reference_number"
            )
            return {row["reference_number"]: row["n"] for row in rows}
        finally:
            await connection.close()

    rows = asyncio.run(stored())
    acknowledged = [reference for reference, status in answers.items() if status == 201]
    lost = [reference for reference in acknowledged if reference not in rows]
    doubled = [reference for reference, n in rows.items() if n > 1]
    assert not lost and not doubled, f"lost {lost}, doubled {doubled}"
    print(
        f"PostgreSQL killed: ready again after {time.monotonic() - killed_at:.1f} s (ready {back_in:.1f} s);"
        f" {len(acknowledged)} stored, {statuses} answered, 0 lost, 0 doubled"
    )

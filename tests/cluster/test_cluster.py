"""A scaled deployment on one machine (see conftest.py): replicas of every service on a 3-node NATS
cluster, proven to store, apply and schedule everything once through kills and restarts."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import nats
import pytest

from crm.platform.auth import Role
from tests.cluster.harness import TZ, Deployment, until
from tests.cluster.load import AGENT, LOANS, NO_ANSWER, REFUSED, Run

pytestmark = pytest.mark.e2e
NOTIFICATIONS = 2000
KILLED_NOTIFICATIONS = 2000
ACK_WAIT = 30  # s: JetStream redelivers an event a consumer took and never acked after this long
ROLLING_NOTIFICATIONS = 5000  # more than the rolling restart gets through: a steady load throughout


async def test_every_stream_and_consumer_is_kept_on_the_three_nodes(deployment):
    client = await nats.connect(servers=deployment.nats.url.split(","), connect_timeout=5)
    try:
        js = client.jetstream(timeout=10)
        for stream in ("CRM_SYNC", "CRM_PAYMENT", "CRM_WORKFLOW", "CRM_DEAD_LETTER"):
            info = await js.stream_info(stream)
            assert info.config.num_replicas == 3, stream
            assert info.cluster is not None and info.cluster.leader
            assert len(info.cluster.replicas or []) == 2, f"{stream}: a leader and two followers"
        for consumer in ("bank-sync-loan-balance", "workflow-readmodel-payments"):
            info = await js.consumer_info("CRM_PAYMENT", consumer)
            assert info.cluster is not None and len(info.cluster.replicas or []) == 2, consumer
    finally:
        await client.close()


async def test_notifications_over_both_payments_replicas_are_stored_and_applied_once(deployment):
    run = await Run.plan(deployment, "CL1", loans=80, count=NOTIFICATIONS)
    started = time.monotonic()
    await run.send()
    took = time.monotonic() - started
    assert run.statuses.keys() <= {200, 201}, (run.statuses, run.failures[:5])
    assert all(sorted(twin) == [200, 201] for twin in run.twins), (
        f"twins: one stores, one finds it: {run.twins}"
    )
    await run.applied(within=60)
    figures = await run.check()
    print(
        f"\nnotifications on 2 payments replicas: {figures} in {took:.1f} s"
        f" ({len(run.notifications) / took:.0f}/s); answers {dict(run.statuses)},"
        f" {len(run.twins)} sent to both replicas at once"
    )


async def _stream_leader(deployment, stream: str) -> str | None:
    client = await nats.connect(servers=deployment.nats.url.split(","), connect_timeout=2)
    try:
        info = await client.jetstream(timeout=2).stream_info(stream)
        return info.cluster.leader if info.cluster else None
    except Exception:  # no leader at the moment
        return None
    finally:
        await client.close()


async def test_a_payments_replica_and_a_nats_node_killed_mid_load_lose_and_double_nothing(deployment):
    run = await Run.plan(deployment, "CL2", loans=80, count=KILLED_NOTIFICATIONS)
    payments = deployment.replicas["payments"][1]
    leader = await _stream_leader(deployment, "CRM_PAYMENT")
    assert leader, "CRM_PAYMENT has a leader"
    node = deployment.nats.by_name(leader)
    killed: dict[str, float] = {}

    async def kill_mid_load(run: Run) -> None:
        if not killed and len(run.acknowledged()) >= len(run.notifications) // 3:
            killed["at"] = time.monotonic()
            killed["acknowledged"] = len(run.acknowledged())
            payments.kill()
            node.kill()

    try:
        started = time.monotonic()
        await run.send(on_progress=kill_mid_load)
        assert killed, "the kills came during the load"
        resent = await run.resend_unacknowledged()
        took = time.monotonic() - started

        async def another_leader() -> str | None:
            elected = await _stream_leader(deployment, "CRM_PAYMENT")
            return elected if elected != leader else None

        new_leader = await until(another_leader, 30, "a new CRM_PAYMENT leader")
    finally:
        if not node.alive():
            deployment.nats.start(node)
        if not payments.alive():
            payments.start()
    await asyncio.gather(deployment.nats.wait_healthy(), payments.wait_ready())
    assert all(s in (200, 201, NO_ANSWER, REFUSED, 503) for s in run.statuses), (
        run.statuses,
        run.failures[:5],
    )
    applied_in = time.monotonic()
    await run.applied(within=90)
    applied_in = time.monotonic() - applied_in
    figures = await run.check()
    print(
        f"\npayments-1 and NATS {leader} (CRM_PAYMENT's leader, now {new_leader}) killed -9 after"
        f" {killed['acknowledged']} acknowledged: {figures}; answers {dict(run.statuses)}"
        f" (0: no answer, -1: refused), {resent} resent with the same reference; sent in {took:.1f} s,"
        f" all applied {applied_in:.1f} s later; 5xx: {sum(n for s, n in run.statuses.items() if s >= 500)}"
    )


TAKEOVER_STATED = 5.0  # docs/operations.md: "take over within 5 s"
TAKEOVER_MARGIN = 2.5  # a busy 2-core machine: the stand-by's timer and its lock query run late
WITH_JOBS = ("bank-sync", "payments", "workflow")


async def _overdue_promise(deployment, agent_id: str, loan) -> str:
    """A promise whose date has passed unpaid, stored directly: the API refuses a date in the past."""
    today = datetime.now(TZ).date()
    return str(
        await deployment.value(
            "INSERT INTO workflow.action_record (id, cif, loan_account_number, agent_id, type, action_result,"
            " action_date, promise_amount, promise_date, promise_status, created_by, updated_by)"
            " VALUES (gen_random_uuid(), $1, $2, $3, 'ZALO', 'PROMISE_TO_PAY', $4, 50000, $5, 'OPEN',"
            " 'cluster-test', 'cluster-test') RETURNING id",
            loan.cif,
            loan.account,
            uuid.UUID(agent_id),
            datetime.now(UTC) - timedelta(days=3),
            today - timedelta(days=1),
        )
    )


async def _broken_once(deployment, promise: str) -> None:
    async def broken() -> bool:
        status = await deployment.value(
            "SELECT promise_status FROM workflow.action_record WHERE id = $1", uuid.UUID(promise)
        )
        return status == "BROKEN"

    await until(broken, 30, f"promise {promise} broken by the round")
    events = await deployment.value(
        """SELECT count(*) FROM workflow.outbox_event
        WHERE CAST(payload AS jsonb) ->> 'type' = 'PROMISE_BROKEN'
          AND CAST(payload AS jsonb) ->> 'entityId' = $1""",
        promise,
    )
    assert events == 1, f"promise {promise}: {events} PROMISE_BROKEN events"


async def _scheduled_runs(deployment, since: datetime) -> list[datetime]:
    rows = await deployment.fetch(
        "SELECT created_at FROM bank_sync.sync_run WHERE requested_by = 'SCHEDULE' AND created_at >= $1"
        " ORDER BY created_at",
        since,
    )
    return [r["created_at"] for r in rows]


def _elected_at(replica, key: str) -> datetime | None:
    for event in replica.events("leader_elected"):
        if event.get("key") == key:
            return datetime.fromisoformat(event["timestamp"])
    return None


async def test_the_schedules_fire_once_and_a_killed_leader_is_replaced_within_five_seconds(deployment):
    since = datetime.now(UTC)
    [loan, other] = await LOANS.take(deployment, 2)
    agent = await deployment.rr("workflow").request(
        "POST", "/api/agents", json={**AGENT, "employeeId": "EMPCL3"}, headers=deployment.headers(Role.ADMIN)
    )
    assert agent.status_code == 201, agent.text
    leaders = {service: deployment.leader(service) for service in WITH_JOBS}
    standbys = {
        service: next(r for r in deployment.replicas[service] if r is not leaders[service])
        for service in WITH_JOBS
    }
    # Fired by the leaders: a nightly-sync tick, and a round that breaks an overdue promise once.
    await until(lambda: _scheduled_runs(deployment, since), 20, "a scheduled sync")
    first = await _overdue_promise(deployment, agent.json()["id"], loan)
    await _broken_once(deployment, first)
    assert leaders["workflow"].events("promise_check_round")
    assert not standbys["workflow"].events("promise_check_round"), "the stand-by runs no round"

    killed_at = datetime.now(UTC)
    for leader in leaders.values():
        leader.kill()
    try:

        async def everyone_elected() -> dict[str, datetime] | None:
            elected = {s: _elected_at(standbys[s], f"crm:{s}:background") for s in WITH_JOBS}
            return elected if all(elected.values()) else None  # type: ignore[return-value]

        elected = await until(everyone_elected, TAKEOVER_STATED + 15, "the stand-bys taking over")
        takeover = {service: (at - killed_at).total_seconds() for service, at in elected.items()}
        for leader in leaders.values():
            leader.start()  # back as a stand-by
        await asyncio.gather(*(leader.wait_ready() for leader in leaders.values()))
        second = await _overdue_promise(deployment, agent.json()["id"], other)
        await _broken_once(deployment, second)
        after = await until(
            lambda: _scheduled_runs(deployment, killed_at + timedelta(seconds=max(takeover.values()))),
            20,
            "a scheduled sync by the new leader",
        )
    finally:
        for leader in leaders.values():
            if not leader.alive():
                leader.start()
        await deployment.all_ready()
    for service in WITH_JOBS:
        assert deployment.leader(service) is standbys[service], f"{service}: the new leader stays leader"
        assert not _elected_at(leaders[service], f"crm:{service}:background"), "the restarted one stands by"
    assert not leaders["workflow"].events("promise_check_round"), "the restarted one runs no round"
    rounds = standbys["workflow"].events("promise_check_round")
    assert rounds and sum(r["broken"] for r in rounds) == 1, "the new leader broke the second promise"

    runs = await _scheduled_runs(deployment, since)
    ticks = Counter(int(at.timestamp()) // 5 for at in runs)
    doubled = {tick * 5: n for tick, n in ticks.items() if n > 1}
    assert not doubled, f"a nightly-sync tick fired more than once: {doubled}"
    slowest = max(takeover.values())
    print(
        f"\nleaders {[r.name for r in leaders.values()]} killed -9: stand-bys took over in"
        f" {', '.join(f'{s} {t:.2f} s' for s, t in takeover.items())} (stated {TAKEOVER_STATED:.0f} s);"
        f" {len(runs)} scheduled syncs over {len(ticks)} ticks of 5 s, none twice ({len(after)} by the new"
        f" leader); promise rounds: {len(rounds)} by the new leader, 0 by the stand-by; each overdue"
        f" promise broken once"
    )
    assert slowest <= TAKEOVER_STATED + TAKEOVER_MARGIN, f"takeover took {takeover}"


@dataclass
class Reads:
    """Steady reads of every service, round-robin over its replicas, as users' screens make them."""

    deployment: Deployment
    accounts: list[str]
    notifications: Run
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    dropped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def _reads(self, i: int) -> list[tuple[str, str]]:
        return [
            ("bank-sync", f"/api/loans/{self.accounts[i % len(self.accounts)]}"),
            ("payments", f"/api/payments/{self._acknowledged(i)}"),
            ("workflow", "/api/agents?pageSize=20"),
            ("identity", "/api/auth/users?pageSize=20"),
            ("web", "/login"),
        ]

    def _acknowledged(self, i: int) -> str:
        """One of the notifications acknowledged so far (a payment the processor was told is stored)."""
        done = [n.reference for n in self.notifications.notifications[-200:] if n.acknowledged]
        return done[i % len(done)] if done else self.notifications.acknowledged()[0].reference

    async def run(self, stop: asyncio.Event, worker: int) -> None:
        headers = self.deployment.headers(Role.ADMIN)
        i = worker
        while not stop.is_set():
            for service, path in self._reads(i):
                for _attempt in range(3):  # a read the connection dropped under is read again
                    try:
                        answer = await self.deployment.rr(service).request("GET", path, headers=headers)
                    except httpx.HTTPError as exc:
                        self.dropped[service] += 1
                        self.problems.append(f"{service} {path}: {exc!r}")
                        continue
                    self.statuses[service][answer.status_code] += 1
                    if answer.status_code != 200:
                        self.problems.append(f"{service} {path}: {answer.status_code} {answer.text[:200]}")
                    if answer.status_code == 503:
                        assert answer.headers.get("Retry-After"), f"{service}: a 503 says when to try again"
                    break
            i += 1


async def test_every_service_restarted_one_replica_at_a_time_under_load_serves_throughout(deployment):
    run = await Run.plan(deployment, "CL4", loans=60, count=ROLLING_NOTIFICATIONS)
    reads = Reads(deployment, [loan.account for loan in run.loans], run)
    stop = asyncio.Event()
    sending = asyncio.create_task(run.send(concurrency=4, until_set=stop))
    await until(lambda: _some(run), 30, "the load under way")
    reading = asyncio.gather(*(reads.run(stop, worker) for worker in range(3)))
    restarts: list[tuple[str, float]] = []

    async def roll(service: str) -> None:
        for replica in deployment.replicas[service]:  # one replica at a time
            began = time.monotonic()
            code = await asyncio.to_thread(replica.stop)
            assert code == 0, f"{replica.name} stopped with {code}:\n{replica.tail()}"
            replica.start()
            await replica.wait_ready()
            restarts.append((replica.name, time.monotonic() - began))

    try:
        started = time.monotonic()
        await asyncio.gather(*(roll(service) for service in deployment.replicas))  # each its own deployment
        rolled = time.monotonic() - started
    finally:
        stop.set()
        await asyncio.gather(sending, reading)
    resent = await run.resend_unacknowledged()
    drained = time.monotonic()
    await run.applied(within=90)
    drained = time.monotonic() - drained
    figures = await run.check()
    server_errors = {
        service: {s: n for s, n in counts.items() if s >= 500} for service, counts in reads.statuses.items()
    }
    server_errors["payments (notifications)"] = {s: n for s, n in run.statuses.items() if s >= 500}
    rerouted = {service: router.rerouted for service, router in deployment.routers.items()}
    read = {service: dict(counts) for service, counts in reads.statuses.items()}
    print(
        f"\nrolling restart of {len(restarts)} replicas ({', '.join(f'{n} {t:.1f} s' for n, t in restarts)})"
        f" in {rolled:.1f} s under load: notifications {figures}, answers {dict(run.statuses)},"
        f" {resent} resent, all applied {drained:.1f} s after the load;"
        f" reads {read},"
        f" dropped and read again {dict(reads.dropped)}; refused connections rerouted {rerouted};"
        f" 5xx {server_errors}"
    )
    assert not any(errors for errors in server_errors.values()), (server_errors, reads.problems[:5])
    assert all(set(counts) == {200} for counts in reads.statuses.values()), reads.problems[:5]
    assert len(restarts) == 2 * len(deployment.replicas)
    slowest = max(value for key, value in figures.items() if key.startswith("max_lag_s"))
    assert slowest < ACK_WAIT / 3, f"an event waited {slowest} s: a stopped replica left it to the ack wait"


async def _some(run: Run) -> bool:
    return len(run.acknowledged()) >= 20


async def test_no_replica_logged_an_error_through_all_of_it(deployment):
    """What the tests above did to the deployment (kills, restarts, a NATS node lost) is what it must
    take in its stride: warnings (a connection lost, a fetch retried) but no error, no traceback."""
    errors = []
    for path in sorted((deployment.root / "replicas").glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if '"level": "error"' in line or '"level": "critical"' in line or line.startswith("Traceback"):
                errors.append(f"{path.name}: {line[:600]}")
    assert not errors, "\n".join(errors[:10])

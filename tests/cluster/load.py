"""Signed payment notifications sent to the payments replicas as processors send them, and what the
deployment must show afterwards: each stored once, each event applied once, balances and promises
exact.

A notification's body is fixed when it is first sent (a processor resends the same payment, signed
again); the answer of each try is kept: 201 / 200 acknowledged, 0 no answer (the connection dropped
after the request was sent: the processor cannot know and resends it), anything else as it came.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp

from crm.payments.notifications.signature import sign
from crm.platform.auth import Role
from tests.cluster.harness import TZ, WEBHOOK_SECRET, Deployment, until

ACKNOWLEDGED = (200, 201)
NO_ANSWER = 0
"""The connection dropped after the request was sent: stored or not, the processor cannot know."""
REFUSED = -1
"""The replica refused the connection (it is down): the request reached no server."""
AGENT = {
    "name": "Trần Thị Bình",
    "email": "binh.tran@bank.example",
    "type": "AGENT",
    "team": "EARLY_STAGE_CALL",
    "maxCustomers": 1000,
}


@dataclass(frozen=True)
class Loan:
    account: str
    cif: str
    outstanding: Decimal


@dataclass
class Notification:
    reference: str
    loan: Loan
    amount: Decimal
    body: bytes = b""
    answers: list[int] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return any(a in ACKNOWLEDGED for a in self.answers)


class LoanPool:
    """The demo loans the tests pay, handed out once each so that no two tests share a loan."""

    def __init__(self) -> None:
        self.loans: list[Loan] | None = None

    async def take(self, deployment: Deployment, n: int) -> list[Loan]:
        if self.loans is None:
            rows = await deployment.fetch(
                "SELECT account_number, cif, outstanding FROM bank_sync.loan"
                " WHERE currency = 'VND' AND outstanding >= 5000000 ORDER BY account_number"
            )
            self.loans = [Loan(r["account_number"], r["cif"], r["outstanding"]) for r in rows]
        assert len(self.loans) >= n, f"only {len(self.loans)} loans left"
        taken, self.loans = self.loans[:n], self.loans[n:]
        return taken


LOANS = LoanPool()


@dataclass
class Run:
    """One test's notifications over its own loans, and the promises made on half of those loans."""

    deployment: Deployment
    prefix: str
    loans: list[Loan]
    notifications: list[Notification]
    promises: dict[str, tuple[str, Decimal]] = field(default_factory=dict)
    """Loan account -> (promise id, amount)."""
    balances_before: dict[str, Decimal] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    twins: list[tuple[int, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @classmethod
    async def plan(cls, deployment: Deployment, prefix: str, loans: int, count: int) -> Run:
        taken = await LOANS.take(deployment, loans)
        notifications = [
            Notification(f"{prefix}-{i:05d}", taken[i % len(taken)], Decimal(10_000 + (i % 9) * 1_000))
            for i in range(count)
        ]
        run = cls(deployment, prefix, taken, notifications)
        await run._promise_half_of_the_loans()
        rows = await deployment.fetch(
            "SELECT account_number, outstanding FROM bank_sync.loan WHERE account_number = ANY($1)",
            [loan.account for loan in taken],
        )
        run.balances_before = {r["account_number"]: r["outstanding"] for r in rows}
        return run

    async def _promise_half_of_the_loans(self) -> None:
        """Promises to pay, recorded through workflow's API: every other one for half of what the
        loan's first eight notifications pay (kept by them), the others for more than all of them
        pay (left open)."""
        workflow = self.deployment.rr("workflow")
        admin = self.deployment.headers(Role.ADMIN)
        agent = await workflow.request(
            "POST", "/api/agents", json={**AGENT, "employeeId": f"EMP{self.prefix}"}, headers=admin
        )
        assert agent.status_code == 201, agent.text
        supervisor = self.deployment.headers(Role.SUPERVISOR)
        tomorrow = (datetime.now(UTC).astimezone(TZ) + timedelta(days=1)).date()
        for i, loan in enumerate(self.loans[: len(self.loans) // 2]):
            planned = [n.amount for n in self.notifications if n.loan.account == loan.account]
            # Kept by the first few payments (a steady load may be stopped early), or never reached.
            amount = sum(planned[:8], Decimal(0)) / 2 if i % 2 == 0 else sum(planned, Decimal(0)) + 1_000_000
            recorded = await workflow.request(
                "POST",
                "/api/actions",
                json={
                    "cif": loan.cif,
                    "loanAccountNumber": loan.account,
                    "agentId": agent.json()["id"],
                    "type": "ZALO",
                    "actionResult": "PROMISE_TO_PAY",
                    "promiseAmount": f"{amount:.2f}",
                    "promiseDate": tomorrow.isoformat(),
                },
                headers=supervisor,
            )
            assert recorded.status_code == 201, recorded.text
            self.promises[loan.account] = (recorded.json()["id"], amount.quantize(Decimal("0.01")))

    def _signed(self, notification: Notification) -> tuple[bytes, dict[str, str]]:
        if not notification.body:
            notification.body = json.dumps(
                {
                    "referenceNumber": notification.reference,
                    "loanAccountNumber": notification.loan.account,
                    "cif": notification.loan.cif,
                    "amount": f"{notification.amount:.2f}",
                    "currency": "VND",
                    "paymentDate": datetime.now(UTC).isoformat(),
                    "paymentChannel": "MOBILE_APP",
                    "sourceSystem": "OTHER",
                }
            ).encode()
        signature = sign(notification.body, WEBHOOK_SECRET, int(time.time()))
        return notification.body, {"X-Signature": signature, "Content-Type": "application/json"}

    async def _post(self, notification: Notification, replica_index: int | None = None) -> int:
        payments = self.deployment.rr("payments")
        body, headers = self._signed(notification)
        to = None if replica_index is None else self.deployment.replicas["payments"][replica_index]
        try:
            answer = await payments.post("/api/payments/notification", body, headers, to=to)
        except aiohttp.ClientConnectorError as exc:  # no replica (or not that one) is up: never reached
            self.failures.append(f"{notification.reference}: {exc!r}")
            status = REFUSED
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.failures.append(f"{notification.reference}: {exc!r}")
            status = NO_ANSWER
        else:
            status = answer.status
            if status not in ACKNOWLEDGED:
                self.failures.append(f"{notification.reference}: {status} {answer.text[:300]}")
                if status == 503:
                    assert answer.headers.get("Retry-After"), "a 503 says when to try again"
        notification.answers.append(status)
        self.statuses[status] += 1
        return status

    async def send(
        self,
        concurrency: int = 16,
        on_progress: Callable[[Run], Awaitable[None]] | None = None,
        until_set: asyncio.Event | None = None,
    ) -> None:
        """Every notification once, round-robin over the payments replicas; one in ten to both
        replicas at the same moment (a processor retrying at once, or two of its workers). With
        ``until_set``, a steady load that stops once it is set: the notifications not sent by then
        are left out of the run."""
        queue: asyncio.Queue[tuple[int, Notification]] = asyncio.Queue()
        for item in enumerate(self.notifications):
            queue.put_nowait(item)

        async def sender() -> None:
            while not queue.empty() and not (until_set and until_set.is_set()):
                i, notification = queue.get_nowait()
                if i % 10 == 0:
                    twin = await asyncio.gather(self._post(notification, 0), self._post(notification, 1))
                    self.twins.append((twin[0], twin[1]))
                else:
                    await self._post(notification)
                if on_progress is not None:
                    await on_progress(self)

        await asyncio.gather(*(sender() for _ in range(concurrency)))
        if until_set is not None:
            assert until_set.is_set(), (
                f"the steady load ran out of its {len(self.notifications)} notifications"
            )
            self.notifications = [n for n in self.notifications if n.answers]

    def acknowledged(self) -> list[Notification]:
        return [n for n in self.notifications if n.acknowledged]

    async def resend_unacknowledged(self, within: float = 60) -> int:
        """What got no answer (or was refused for the moment) sent again, same reference, until it is
        acknowledged: what a processor does. How many were resent."""
        waiting = [n for n in self.notifications if not n.acknowledged]
        deadline = time.monotonic() + within
        for notification in waiting:
            while not notification.acknowledged:
                assert time.monotonic() < deadline, (
                    f"{notification.reference} never acknowledged: {notification.answers}"
                )
                if await self._post(notification) not in ACKNOWLEDGED:
                    await asyncio.sleep(0.5)  # a processor's retry delay, not a synchronisation
        return len(waiting)

    async def stored(self) -> dict[str, int]:
        rows = await self.deployment.fetch(
            "SELECT reference_number, count(*) AS n FROM payments.payment WHERE reference_number LIKE $1"
            " GROUP BY reference_number",
            f"{self.prefix}-%",
        )
        return {r["reference_number"]: r["n"] for r in rows}

    async def event_ids(self) -> list[str]:
        rows = await self.deployment.fetch(
            "SELECT id FROM payments.outbox_event WHERE subject = 'crm.payment.payment_received'"
            " AND CAST(payload AS jsonb) ->> 'paymentReferenceNumber' LIKE $1",
            f"{self.prefix}-%",
        )
        return [r["id"] for r in rows]

    async def applied(self, within: float) -> dict[str, int]:
        """Wait until bank-sync and workflow have applied every stored payment; their counts."""
        expected = len(await self.stored())

        async def counts() -> dict[str, int] | None:
            found = {
                "bank-sync": await self.deployment.value(
                    "SELECT count(*) FROM bank_sync.loan_payment_applied"
                    " WHERE payment_reference_number LIKE $1",
                    f"{self.prefix}-%",
                ),
                "workflow": await self.deployment.value(
                    "SELECT count(*) FROM workflow.payment_view WHERE reference_number LIKE $1",
                    f"{self.prefix}-%",
                ),
            }
            return found if all(n >= expected for n in found.values()) else None

        return await until(counts, within, f"every {self.prefix} payment applied", every=0.25)

    async def check(self) -> dict[str, int]:
        """Everything the deployment must show once the events are applied; the figures."""
        stored = await self.stored()
        acknowledged = {n.reference for n in self.acknowledged()}
        lost = sorted(acknowledged - set(stored))
        duplicated = sorted(ref for ref, n in stored.items() if n > 1)
        unexpected = sorted(set(stored) - {n.reference for n in self.notifications})
        assert not lost and not duplicated and not unexpected, (lost[:5], duplicated[:5], unexpected[:5])

        events = await self.event_ids()
        assert len(events) == len(stored), "one PAYMENT_RECEIVED event per stored payment"
        applied, lag = {}, {}
        for schema, consumer in (("bank_sync", "loan-balance"), ("workflow", "readmodel-payments")):
            applied[consumer] = await self.deployment.value(
                f"SELECT count(*) FROM {schema}.processed_event WHERE consumer = $1 AND event_id = ANY($2)",
                consumer,
                events,
            )
            assert applied[consumer] == len(events), f"{consumer}: each event processed once"
            lag[consumer] = await self.deployment.value(
                "SELECT extract(epoch FROM max(p.processed_at - o.created_at))"
                f" FROM {schema}.processed_event p JOIN payments.outbox_event o ON o.id = p.event_id"
                " WHERE p.consumer = $1 AND p.event_id = ANY($2)",
                consumer,
                events,
            )
        in_bank_sync = await self.deployment.fetch(
            """SELECT loan_account_number, count(*) AS n, sum(amount) AS paid
            FROM bank_sync.loan_payment_applied WHERE payment_reference_number LIKE $1
            GROUP BY loan_account_number""",
            f"{self.prefix}-%",
        )
        assert sum(r["n"] for r in in_bank_sync) == len(stored), "each payment applied once in bank-sync"

        paid: dict[str, Decimal] = defaultdict(Decimal)
        for n in self.notifications:
            if n.reference in stored:
                paid[n.loan.account] += n.amount
        after = {
            r["account_number"]: r["outstanding"]
            for r in await self.deployment.fetch(
                "SELECT account_number, outstanding FROM bank_sync.loan WHERE account_number = ANY($1)",
                [loan.account for loan in self.loans],
            )
        }
        wrong = {
            account: (self.balances_before[account], paid[account], after[account])
            for account in after
            if after[account] != self.balances_before[account] - paid[account]
        }
        assert not wrong, f"balances not start - paid: {list(wrong.items())[:5]}"
        in_workflow = {
            r["account_number"]: r["outstanding"]
            for r in await self.deployment.fetch(
                "SELECT account_number, outstanding FROM workflow.loan_view WHERE account_number = ANY($1)",
                [loan.account for loan in self.loans],
            )
        }
        assert in_workflow == after, "workflow's read model has bank-sync's balances"

        statuses = {
            str(r["id"]): r["promise_status"]
            for r in await self.deployment.fetch(
                "SELECT id, promise_status FROM workflow.action_record WHERE id = ANY($1::uuid[])",
                [promise for promise, _ in self.promises.values()],
            )
        }
        expected = {
            promise: ("KEPT" if paid[account] >= amount else "OPEN")
            for account, (promise, amount) in self.promises.items()
        }
        assert statuses == expected, "each promise kept exactly when its loan's payments reach it"
        kept_events = await self.deployment.value(
            """SELECT count(*) FROM workflow.outbox_event
            WHERE CAST(payload AS jsonb) ->> 'type' = 'PROMISE_KEPT'
              AND CAST(payload AS jsonb) ->> 'entityId' = ANY($1)""",
            list(expected),
        )
        kept = sum(status == "KEPT" for status in expected.values())
        assert kept_events == kept, "one PROMISE_KEPT event per kept promise"
        return {
            "notifications": len(self.notifications),
            "requests": sum(len(n.answers) for n in self.notifications),
            "acknowledged": len(acknowledged),
            "stored": len(stored),
            "lost": len(lost),
            "duplicated": len(duplicated),
            "unanswered": sum(NO_ANSWER in n.answers for n in self.notifications),
            "events": len(events),
            "kept": kept,
            "open": len(expected) - kept,
            **{f"applied[{k}]": v for k, v in applied.items()},
            **{f"max_lag_s[{k}]": round(float(v), 1) for k, v in lag.items()},
        }

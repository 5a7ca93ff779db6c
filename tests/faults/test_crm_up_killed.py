"""`crm up` killed with -9 while a payment processor sends notifications: every notification it
acknowledged is stored, none twice, and the ones it never answered are stored once when resent."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from crm.payments.notifications.signature import sign
from crm.platform.embedded import free_port
from tests.bank_sync.test_customers_loans import add_customer_with_loan
from tests.e2e.test_run import _start, _stop, _up_on_the_test_servers, _wait_ready

pytestmark = pytest.mark.e2e
SECRET = "fault-test-webhook-secret"


def _notification(reference: str, loan: str, cif: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "referenceNumber": reference,
            "loanAccountNumber": loan,
            "cif": cif,
            "amount": "310000.00",
            "currency": "VND",
            "paymentDate": "2026-11-28T09:30:00+07:00",
            "paymentChannel": "MOBILE_APP",
            "sourceSystem": "OTHER",
        }
    ).encode()
    return body, {"X-Signature": sign(body, SECRET, int(time.time())), "Content-Type": "application/json"}


@dataclass
class Processor:
    """A payment processor sending notifications one after another; every answer (or none) is kept."""

    base: str
    prefix: str
    loan: str
    cif: str
    answers: dict[str, int] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            i = 0
            while not self._stop.is_set():
                reference = f"{self.prefix}-{i:05d}"
                body, headers = _notification(reference, self.loan, self.cif)
                try:
                    answer = client.post("/api/payments/notification", content=body, headers=headers)
                    status = answer.status_code
                    if status not in (200, 201):
                        self.refusals.append(answer.text)
                except httpx.HTTPError as exc:
                    self.refusals.append(repr(exc))
                    status = 0  # no answer: the processor does not know, and will send it again
                self.answers[reference] = status
                if status == 0:
                    return
                i += 1

    def stop(self) -> None:
        self._stop.set()


async def _stored(url: str, prefix: str) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT reference_number, count(*) AS n FROM payments.payment"
            " WHERE reference_number LIKE $1 GROUP BY reference_number",
            f"{prefix}-%",
        )
        return {row["reference_number"]: row["n"] for row in rows}
    finally:
        await connection.close()


async def test_crm_up_killed_during_notifications_loses_and_doubles_nothing_acknowledged(
    tmp_path, settings, unique, bank_sync
):
    cif, loan = unique("CIF-K9"), unique("LN-K9")
    await add_customer_with_loan(bank_sync.app, cif, loan)
    await asyncio.to_thread(_killed_and_started_again, tmp_path, settings, unique("KILL9"), loan, cif)


def _killed_and_started_again(tmp_path, settings, prefix: str, loan: str, cif: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**_up_on_the_test_servers(settings, tmp_path, port), "CRM_PAYMENT_WEBHOOK_SECRET": SECRET}
    log = tmp_path / "crm-up.log"
    processor = Processor(base, prefix, loan, cif)
    process = _start(["up"], env, log)
    try:
        _wait_ready(base, process, log)
        thread = threading.Thread(target=processor.run)
        thread.start()
        deadline = time.monotonic() + 60
        while len(processor.answers) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)  # crm up and both workers, mid-request
        process.wait(10)
        processor.stop()
        thread.join(30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    answers = dict(processor.answers)
    acknowledged = [reference for reference, status in answers.items() if status in (200, 201)]
    unanswered = [reference for reference, status in answers.items() if status == 0]
    assert len(acknowledged) >= 100, f"the kill came during the notifications: {processor.refusals[:2]}"
    assert set(answers.values()) <= {0, 201}, sorted(set(answers.values()))

    url = settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    stored = asyncio.run(_stored(url, prefix))
    lost = [reference for reference in acknowledged if reference not in stored]
    doubled = [reference for reference, n in stored.items() if n > 1]
    assert not lost and not doubled, f"after the kill: lost {lost}, doubled {doubled}"

    process = _start(["up"], env, log)  # started again; the processor resends what it got no answer to
    try:
        _wait_ready(base, process, log)
        with httpx.Client(base_url=base, timeout=10) as client:
            for reference in [*unanswered, *acknowledged[-3:]]:
                body, headers = _notification(reference, loan, cif)
                r = client.post("/api/payments/notification", content=body, headers=headers)
                assert r.status_code in (200, 201), r.text
    finally:
        assert _stop(process) == 0
    stored = asyncio.run(_stored(url, prefix))
    assert set(stored) == set(acknowledged) | set(unanswered) and set(stored.values()) == {1}
    print(
        f"crm up killed: {len(acknowledged)} acknowledged, {len(unanswered)} unanswered (resent);"
        f" 0 lost, 0 doubled"
    )

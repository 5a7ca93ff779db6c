"""Personal data never reaches the logs: real flows through `crm up` (sign-in, a sync with a rejected
row, searches by name, phone and national id, refused notifications), then everything it wrote to
its output is searched for the values used, as typed and as a URL carries them."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from urllib.parse import quote, quote_plus
from zoneinfo import ZoneInfo

import httpx
import pytest

from crm.payments.notifications.signature import sign
from crm.platform.embedded import free_port
from tests.bank_sync.extracts import CUSTOMER_HEADER, PHONE_HEADER, customer, write_delivery
from tests.e2e.test_run import ADMIN, _start, _stop, _token, _wait_ready

pytestmark = pytest.mark.e2e

NAME = "Lương Thị Bí Mật"
NAME_TYPED = "luong thi bi mat"  # as an agent types it in the search box
PHONE = "0987654321"
REJECTED_PHONE = "0911222333"
NATIONAL_ID = "079123456789"
WRONG_PASSWORD = "not-the-password-7Q"
SECRET = "pii-webhook-secret-0123456789abcdef"


def _written_forms(value: str) -> set[str]:
    """The value as typed, in a URL, and in a JSON log line (non-ASCII escaped as JSON does)."""
    return {value, quote(value), quote_plus(value), json.dumps(value)[1:-1]}


def test_no_personal_data_in_what_the_services_log(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    suffix = str(time.time_ns())[-8:]
    cif, unknown = f"PII{suffix}", f"NOPE{suffix}"
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    write_delivery(
        tmp_path / "inbox",
        "OTHER",
        today,
        {
            "customers": (CUSTOMER_HEADER, [customer(cif, name=NAME, nationalId=NATIONAL_ID)]),
            "phones": (
                PHONE_HEADER,
                [
                    [cif, "MOBILE", PHONE, "true", "true"],
                    [unknown, "MOBILE", REJECTED_PHONE, "true", "false"],
                ],
            ),
        },
    )
    env = {  # servers of its own: the test session's bank-sync would otherwise run its syncs
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL")},
        "CRM_DATA_DIR": str(tmp_path / "data"),
        "CRM_PORT": str(port),
        "CRM_WORKERS": "1",
        "CRM_SYNC_SCHEDULE": "",
        "CRM_INBOX_DIR": str(tmp_path / "inbox"),
        "CRM_BOOTSTRAP_ADMIN_USERNAME": ADMIN["username"],
        "CRM_BOOTSTRAP_ADMIN_PASSWORD": ADMIN["password"],
        "CRM_PAYMENT_WEBHOOK_SECRET": SECRET,
    }
    log = tmp_path / "crm-up.log"
    process = _start(["up"], env, log)
    try:
        _wait_ready(base, process, log)
        refused = httpx.post(f"{base}/api/auth/token", data={**ADMIN, "password": WRONG_PASSWORD})
        assert refused.status_code == 401
        admin = _token(base)

        run = httpx.post(f"{base}/api/sync/run", json={"sourceSystem": "OTHER"}, headers=admin)
        assert run.status_code == 202, run.text
        deadline = time.monotonic() + 120
        while (state := httpx.get(f"{base}/api/sync/runs/{run.json()['runId']}", headers=admin).json())[
            "state"
        ] in ("QUEUED", "RUNNING"):
            assert time.monotonic() < deadline, "the sync did not end"
            time.sleep(0.3)
        assert state["state"] == "SUCCEEDED", state
        rejects = httpx.get(f"{base}/api/sync/runs/{run.json()['runId']}/rejects", headers=admin).json()
        assert rejects["total"] == 1  # the phone of an unknown customer, stored with its row

        for query in (NAME, PHONE, NATIONAL_ID, NAME_TYPED):
            found = httpx.get(f"{base}/api/customers", params={"q": query}, headers=admin)
            assert found.status_code == 200 and cif in found.text, query

        body = (
            f'{{"referenceNumber":"PII-{suffix}","loanAccountNumber":"LN-{unknown}","cif":"{cif}",'
            f'"amount":"1e5","paymentDate":"2026-11-28T09:00:00+07:00","paymentChannel":"CASH"}}'
        ).encode()
        signed = {"X-Signature": sign(body, SECRET, int(time.time())), "Content-Type": "application/json"}
        bad = httpx.post(f"{base}/api/payments/notification", content=body, headers=signed)
        assert bad.status_code == 422
        unsigned = httpx.post(
            f"{base}/api/payments/notification", content=body, headers={"X-Signature": "t=1,v1=00"}
        )
        assert unsigned.status_code == 401
    finally:
        assert _stop(process) == 0
    written = log.read_text()
    assert "service_started" in written and "sync" in written  # the flows were logged, masked
    for value in (
        NAME,
        NAME_TYPED,
        PHONE,
        REJECTED_PHONE,
        NATIONAL_ID,
        WRONG_PASSWORD,
        ADMIN["password"],
        SECRET,
    ):
        leaked = [form for form in _written_forms(value) if form in written]
        assert not leaked, f"{value!r} is in the log as {leaked}"

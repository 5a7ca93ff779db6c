"""The system started as `make run` starts it (`crm up`), and one service started alone (`crm serve`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crm.platform.embedded import free_port

CRM = str(Path(sys.executable).parent / "crm")
ADMIN = {"username": "bootstrap-admin", "password": "bootstrap-password-e2e"}


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen([CRM, *args], env=env, stdout=handle, stderr=handle, start_new_session=True)


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"not ready in {within} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    try:
        return process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("did not stop within 60 s of Ctrl-C")


def _wait_demo_sync(base: str, headers: dict[str, str], within: float = 120) -> dict:
    """The demo extracts that `make run` generates are loaded by bank-sync's worker."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        status = httpx.get(f"{base}/api/sync/status", headers=headers).json()
        t24 = next(s for s in status["sources"] if s["sourceSystem"] == "T24")
        if t24["lastRun"] and t24["lastRun"]["state"] in ("SUCCEEDED", "FAILED"):
            assert t24["lastRun"]["state"] == "SUCCEEDED", t24["lastRun"]["error"]
            return t24["lastRun"]
        time.sleep(0.5)
    pytest.fail("the demo data was not loaded in time")


def _wait_demo_queue(base: str, headers: dict[str, str], within: float = 120) -> dict:
    me = httpx.get(f"{base}/api/auth/me", headers=headers).json()
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        r = httpx.get(f"{base}/api/agents/{me['agentId']}/queue", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["total"]:
            return dict(r.json())
        time.sleep(1)
    pytest.fail("the demo agent has no customers to call")


def _token(base: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/auth/token", data=ADMIN, timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _requests_counted(base: str, service: str, route: str) -> float:
    """``crm_http_requests_total`` of a GET route answered 200, as Prometheus would scrape it."""
    families = text_string_to_metric_families(httpx.get(f"{base}/metrics").text)
    counter = next(f for f in families if f.name == "crm_http_requests")
    return sum(
        s.value
        for s in counter.samples
        if s.name.endswith("_total")
        and s.labels == {"service": service, "method": "GET", "route": route, "status": "200"}
    )


@pytest.mark.e2e
def test_crm_up_serves_every_service_stops_cleanly_and_keeps_data(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL")},
        "CRM_DATA_DIR": str(tmp_path / "data"),
        "CRM_PORT": str(port),
        "CRM_BOOTSTRAP_ADMIN_USERNAME": ADMIN["username"],
        "CRM_BOOTSTRAP_ADMIN_PASSWORD": ADMIN["password"],
        "CRM_WORKERS": "2",  # as make run on a 2-core machine, whatever cores this one has
    }
    log = tmp_path / "crm-up.log"
    process = _start(["up", "--demo"], env, log)
    try:
        _wait_ready(base, process, log)
        headers = _token(base)
        payment = {
            "referenceNumber": "E2E-0001",
            "loanAccountNumber": "LN-E2E",
            "cif": "CIF-E2E",
            "amount": "500000.00",
            "paymentDate": "2026-11-28T08:00:00+07:00",
            "paymentChannel": "CASH",
        }
        assert httpx.post(f"{base}/api/payments", json=payment, headers=headers).status_code == 201
        assert httpx.get(f"{base}/api/agents", headers=headers).status_code == 200
        assert httpx.get(f"{base}/api/sync/status", headers=headers).status_code == 200
        for service in ("bank-sync", "payments", "workflow"):
            spec = httpx.get(f"{base}/api/{service}/openapi.json")
            assert spec.status_code == 200 and spec.json()["paths"], service
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200 and "/api/workflow/openapi.json" in docs.text
        assert "cdn" not in docs.text.lower(), "the API docs load nothing from the internet"
        assert httpx.get(f"{base}/static/swagger/swagger-ui-bundle.js").status_code == 200
        assert httpx.get(f"{base}/health/live").json()["status"] == "ok"
        # two worker processes; /metrics counts the requests of both
        for _ in range(12):
            with httpx.Client() as fresh:  # a new connection each: the kernel hands them to any worker
                assert fresh.get(f"{base}/api/agents", headers=headers).status_code == 200
        assert _requests_counted(base, "workflow", "/api/agents") == 13  # 12, and the one above
        demo_password = (tmp_path / "data" / "secrets" / "demo-password").read_text().strip()
        demo = httpx.post(f"{base}/api/auth/token", data={"username": "agent", "password": demo_password})
        assert demo.status_code == 200
        demo_agent = {"Authorization": f"Bearer {demo.json()['access_token']}"}
        assert "Demo users" in log.read_text() and f"web UI:   {base}/" in log.read_text()
        demo_sync = _wait_demo_sync(base, headers)
        assert (
            demo_sync["counts"]["customers"]["inserted"] > 0 and demo_sync["counts"]["loans"]["inserted"] > 0
        )
        # the demo agent gets delinquent customers to call once the demo data reached workflow
        queue = _wait_demo_queue(base, demo_agent)
        assert queue["total"] > 0 and all(item["maxDpd"] > 0 for item in queue["items"])
    finally:
        code = _stop(process)
    assert code == 0, log.read_text()[-3000:]
    assert "Traceback" not in log.read_text()
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists(), "PostgreSQL was stopped"

    process = _start(["up"], env, log)
    try:
        _wait_ready(base, process, log)
        stored = httpx.get(f"{base}/api/payments/E2E-0001", headers=_token(base))
        assert stored.status_code == 200 and stored.json()["amount"] == "500000.00"
    finally:
        assert _stop(process) == 0


def _on_the_test_servers(settings, data: Path) -> dict[str, str]:
    """The environment of a `crm` process using the test session's PostgreSQL, NATS and signing key."""
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "NATS_URL": settings.nats_url,
        "CRM_DATA_DIR": str(data),
        "CRM_JWT_SECRET": settings.jwt_secret.get_secret_value(),
    }


def _up_on_the_test_servers(settings, data: Path, port: int) -> dict[str, str]:
    """The environment of `crm up` as `make run` runs it on two cores, on the test session's servers."""
    return {
        **_on_the_test_servers(settings, data),
        "CRM_PORT": str(port),
        "CRM_WORKERS": "2",
        "CRM_SYNC_SCHEDULE": "",
    }


@pytest.mark.e2e
def test_crm_serve_runs_one_service_alone(tmp_path, settings, token_for):
    from crm.platform.auth import Role

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _on_the_test_servers(settings, tmp_path)
    log = tmp_path / "serve.log"
    process = _start(["serve", "workflow", "--port", str(port)], env, log)
    try:
        _wait_ready(base, process, log)
        employee = f"SERVE{os.getpid()}{int(time.time())}"
        agent = {
            "employeeId": employee,
            "name": "Phạm Văn Một",
            "email": "mot@bank.example",
            "type": "AGENT",
            "team": "LEGAL",
            "maxCustomers": 10,
        }
        created = httpx.post(f"{base}/api/agents", json=agent, headers=token_for(Role.ADMIN))
        assert created.status_code == 201, created.text
        listed = httpx.get(f"{base}/api/agents", params={"pageSize": 500}, headers=token_for(Role.SUPERVISOR))
        assert employee in [a["employeeId"] for a in listed.json()["items"]]
        # only workflow answers here: another service's route is not found, its document is workflow's
        missing = httpx.get(f"{base}/api/payments/X", headers=token_for(Role.ADMIN))
        assert missing.status_code == 404 and missing.json()["code"] == "resource.not_found"
        document = httpx.get(f"{base}/api/workflow/openapi.json").json()
        assert document["info"]["title"] == "Collection CRM - Collection Workflow"
        assert "/api/agents" in document["paths"] and not any(
            p.startswith("/api/payments") for p in document["paths"]
        )
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200 and "/api/workflow/openapi.json" in docs.text
    finally:
        assert _stop(process) == 0


@pytest.mark.e2e
@pytest.mark.parametrize("trusted", [True, False], ids=["behind-a-trusted-proxy", "no-proxy-trusted"])
async def test_sign_in_throttling_counts_the_client_behind_a_trusted_proxy(
    tmp_path, settings, token_for, isolated_database, trusted
):
    """Behind a Gateway every request comes from its address: with CRM_FORWARDED_ALLOW_IPS the
    services take the client's from X-Forwarded-For, so one client's failures lock that client only;
    without it the header is not believed (anyone could pick an address)."""
    from crm.platform.auth import Role

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **_on_the_test_servers(settings, tmp_path),
        "DATABASE_URL": await isolated_database("identity"),  # its lockouts touch no other test
        "CRM_SIGN_IN_MAX_FAILURES_PER_ADDRESS": "3",
    }
    if trusted:
        env["CRM_FORWARDED_ALLOW_IPS"] = "127.0.0.1"
    log = tmp_path / "serve.log"
    process = _start(["serve", "identity", "--port", str(port), "--workers", "1"], env, log)
    prefix = "192.0.2.7"
    try:
        _wait_ready(base, process, log)

        def sign_in(client: str) -> int:
            form = {"username": f"nobody{time.time_ns()}", "password": "wrong-password"}
            headers = {"X-Forwarded-For": client}
            return httpx.post(f"{base}/api/auth/token", data=form, headers=headers).status_code

        assert [sign_in(prefix) for _ in range(3)] == [401, 401, 401]
        assert sign_in(prefix) == 429, "the client's address is locked after its failures"
        # Another client behind the same proxy: its own count when the proxy is trusted; the same
        # (the proxy's) address when it is not.
        assert sign_in(f"{prefix}1") == (401 if trusted else 429)
        locked = prefix if trusted else "127.0.0.1"
        lifted = httpx.delete(f"{base}/api/auth/lockouts/address/{locked}", headers=token_for(Role.ADMIN))
        assert lifted.status_code == 204, lifted.text
    finally:
        assert _stop(process) == 0


@pytest.mark.e2e
def test_crm_up_with_two_workers_serves_while_both_cores_are_busy(tmp_path, settings):
    """uvicorn's supervisor used to kill a worker that had not started within 5 s: with the cores busy,
    importing the app took longer, workers were restarted over and over and the port stayed closed."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _up_on_the_test_servers(settings, tmp_path, port)
    cores = max(2, os.cpu_count() or 2)
    spinners = [  # five busy loops per core, nice 0 like the server: a load average of 10 on two cores
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(5 * cores)
    ]
    log = tmp_path / "crm-up.log"
    try:
        started = time.monotonic()
        process = _start(["up"], env, log)
        try:
            _wait_ready(base, process, log, within=120)
            for _ in range(10):  # new connections, spread over both workers by the kernel
                with httpx.Client(timeout=30) as fresh:
                    assert fresh.get(f"{base}/health/live").status_code == 200
            took = time.monotonic() - started
            print(f"\ncrm up --workers 2 with {len(spinners)} busy loops: serving in {took:.1f} s")
        finally:
            code = _stop(process)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "died" not in text and "Terminating" not in text, (
        f"a worker was restarted ({took:.0f} s):\n{text[-3000:]}"
    )

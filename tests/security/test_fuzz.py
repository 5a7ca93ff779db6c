"""Every route of every service attacked from its own OpenAPI document, as each role and with no token.

schemathesis (``st run``, every check, a fixed seed, bounded examples) runs against `crm up` on its
own embedded PostgreSQL and NATS, so what it writes stays there. A run passes with no server error
and no answer the document does not declare (status, content type, body schema, headers), no
request the document calls invalid accepted and none it calls valid refused for its shape.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crm.platform.auth import Role
from crm.platform.embedded import free_port
from tests.e2e.test_run import ADMIN, _start, _stop, _token, _wait_ready

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
ST = str(Path(sys.executable).parent / "st")
SERVICES = ["identity", "payments", "workflow", "bank-sync"]
EXAMPLES = 6  # per operation and phase: the whole file stays around three minutes on two cores


@pytest.fixture(scope="module")
def system(tmp_path_factory, settings) -> Iterator[dict]:
    """`crm up` on servers of its own, with the signing key of the test session's tokens."""
    root = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = root / "crm-up.log"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL")},
        "CRM_DATA_DIR": str(root / "data"),
        "CRM_PORT": str(port),
        "CRM_JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "CRM_BOOTSTRAP_ADMIN_USERNAME": ADMIN["username"],
        "CRM_BOOTSTRAP_ADMIN_PASSWORD": ADMIN["password"],
        "CRM_WORKERS": "1",
        "CRM_SYNC_SCHEDULE": "",
    }
    process = _start(["up"], env, log)
    try:
        _wait_ready(base, process, log)
        agent = httpx.post(
            f"{base}/api/agents",
            headers=_token(base),
            json={
                "employeeId": "FUZZ-AGENT",
                "name": "Fuzz Agent",
                "email": "fuzz@bank.vn",
                "type": "AGENT",
                "team": "EARLY_STAGE_CALL",
                "maxCustomers": 100,
            },
        )
        assert agent.status_code == 201, agent.text
        yield {"base": base, "agent_id": agent.json()["id"], "root": root, "log": log}
    finally:
        code = _stop(process)
    assert code == 0, log.read_text()[-3000:]


ROLES = {
    "identity": ["ADMIN", "AGENT", "PAYMENT_PROCESSOR", "SUPERVISOR", "SYSTEM"],
    "payments": ["ADMIN", "AGENT", "PAYMENT_PROCESSOR", "SUPERVISOR", "SYSTEM"],
    "workflow": ["ADMIN", "AGENT", "SUPERVISOR", "SYSTEM"],
    "bank-sync": ["ADMIN", "AGENT", "SUPERVISOR", "SYSTEM"],
}
"""The roles each service's routes name; a test below keeps it equal to the documents."""
CASES = [(service, role) for service in SERVICES for role in ["no token", *ROLES[service]]]


def _roles_named(document: dict) -> list[str]:
    """The roles the document's access rules name (``x-access`` of each operation)."""
    named: set[str] = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            named |= set(re.findall(r"[A-Z_]{4,}", operation.get("x-access", ""))) & set(Role.__members__)
    return sorted(named)


def test_each_role_a_service_names_is_fuzzed(system):
    for service in SERVICES:
        document = httpx.get(f"{system['base']}/api/{service}/openapi.json").json()
        assert _roles_named(document) == ROLES[service], service


@pytest.mark.parametrize(("service", "role"), CASES, ids=[f"{s}-{r.replace(' ', '-')}" for s, r in CASES])
def test_every_route_answers_as_its_document_says(system, token_for, service, role):
    base = system["base"]
    url = f"{base}/api/{service}/openapi.json"
    command = [ST, "--config-file", str(HERE / "schemathesis.toml"), "run", url, "--url", base]
    command += ["--checks", "all", "--exclude-checks", "positive_data_acceptance"]
    command += ["--seed", "20261203", "--max-examples", str(EXAMPLES)]
    command += ["--workers", "1", "--no-color"]
    if role != "no token":
        agent = {"agent_id": system["agent_id"]} if role == Role.AGENT else {}
        header = token_for(Role(role), subject=f"fuzz-{role.lower()}", **agent)["Authorization"]
        command += ["-H", f"Authorization: {header}"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.security.hooks", "PYTHONPATH": str(HERE.parent.parent)}
    # in the run's own folder: schemathesis keeps a cache where it runs
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=system["root"])
    report = result.stdout + result.stderr
    figures = re.search(r"(\d+) generated, .*", report)
    print(f"\n{service} as {role}: {figures.group(0) if figures else 'no figures'}")
    assert result.returncode == 0, report[-12000:]
    assert "Traceback" not in system["log"].read_text()

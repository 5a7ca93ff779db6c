"""The access matrix of docs/api.md, route by route: 401 without a token, 403 with a wrong role, else 2xx."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete

from crm.platform.auth import Role

ROLES = [Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM, Role.PAYMENT_PROCESSOR]
READERS = {Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM}
MATRIX = {
    "bank-sync": {"read": READERS, "write": {Role.ADMIN, Role.SYSTEM}},
    "payments": {"read": READERS, "write": {Role.ADMIN, Role.SYSTEM, Role.PAYMENT_PROCESSOR}},
    "workflow": {"read": READERS, "write": {Role.AGENT, Role.SUPERVISOR, Role.ADMIN}},
}


def _payment() -> dict[str, str]:
    return {
        "referenceNumber": f"RM{uuid.uuid4().hex[:12]}",
        "loanAccountNumber": "LN-RM",
        "cif": "CIF-RM",
        "amount": "1000.00",
        "paymentDate": "2026-11-28T08:00:00+07:00",
        "paymentChannel": "ONLINE",
    }


async def _clear_queued_runs(bank_sync) -> None:
    """Runs stay queued until the sync worker exists; clear them so each allowed call can queue one."""
    from crm.bank_sync.sync.models import SyncRun

    async with bank_sync.app.state.db.transaction() as session:
        await session.execute(delete(SyncRun).where(SyncRun.state == "QUEUED"))


async def _call(service: str, kind: str, clients, headers) -> int:
    bank_sync, payments, workflow = clients
    if service == "bank-sync":
        if kind == "read":
            return (await bank_sync.get("/api/sync/status", headers=headers)).status_code
        await _clear_queued_runs(bank_sync)
        return (
            await bank_sync.post("/api/sync/run", json={"sourceSystem": "OTHER"}, headers=headers)
        ).status_code
    if service == "payments":
        if kind == "read":
            return (await payments.get("/api/payments/customer/CIF-RM", headers=headers)).status_code
        return (await payments.post("/api/payments", json=_payment(), headers=headers)).status_code
    if kind == "read":
        return (await workflow.get("/api/agents", headers=headers)).status_code
    body = {"cif": "CIF-RM", "customerStatus": "COOPERATIVE", "notes": "role matrix"}
    return (await workflow.post("/api/cases", json=body, headers=headers)).status_code


@pytest.mark.parametrize("kind", ["read", "write"])
@pytest.mark.parametrize("service", list(MATRIX))
async def test_access_matrix(service, kind, bank_sync, payments, workflow, token_for):
    clients = (bank_sync, payments, workflow)
    assert await _call(service, kind, clients, {}) == 401
    for role in ROLES:
        status = await _call(service, kind, clients, token_for(role))
        if role in MATRIX[service][kind]:
            assert 200 <= status < 300, f"{service} {kind} as {role}: {status}"
        else:
            assert status == 403, f"{service} {kind} as {role}: {status}"
    assert await _call(service, kind, clients, token_for()) == 403, "a token with no role"

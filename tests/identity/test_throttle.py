"""Failed sign-ins are throttled per username and per client address, in PostgreSQL (every process
and replica counts the same), with 429 and Retry-After; lockouts are audited and an ADMIN lifts them."""

from __future__ import annotations

import httpx
import pytest

from crm.platform.auth import Role


@pytest.fixture
async def throttled(identity):
    """The session's identity app with the default policy (5 per username, 20 per address)."""
    yield identity


async def _token(identity, username: str, password: str, address: str = "198.51.100.7", **headers):
    transport = httpx.ASGITransport(app=identity.app, client=(address, 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(
            "/api/auth/token", data={"username": username, "password": password}, headers=headers
        )


async def _audit(identity, token_for, key: str) -> list[dict]:
    r = await identity.get("/api/auth/audit", params={"pageSize": 500}, headers=token_for(Role.ADMIN))
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["entityType"] == "sign_in" and e["entityKey"] == key]


async def test_a_username_is_locked_after_five_failures_known_or_not(identity, token_for, unique):
    admin = token_for(Role.ADMIN, subject="root")
    name = unique("victim").lower()
    body = {"username": name, "password": "the-right-password", "roles": ["AGENT"]}
    assert (await identity.post("/api/auth/users", json=body, headers=admin)).status_code == 201
    ghost = unique("ghost").lower()
    for who in (name, ghost):
        answers = [
            (await _token(identity, who, f"wrong-{i}", address=f"203.0.113.{i}")).status_code
            for i in range(5)
        ]
        assert answers == [401] * 5, who
        locked = await _token(identity, who, "the-right-password", address="203.0.113.99")
        assert locked.status_code == 429, who  # the right password too, from another address
        assert locked.headers["content-type"] == "application/problem+json"
        assert locked.json()["code"] == "auth.throttled"
        assert 1 <= int(locked.headers["Retry-After"]) <= 300
    assert len(await _audit(identity, token_for, f"username:{name}")) == 1
    assert len(await _audit(identity, token_for, f"username:{ghost}")) == 1, "unknown users alike"

    not_admin = await identity.delete(f"/api/auth/users/{name}/lockout", headers=token_for(Role.SUPERVISOR))
    assert not_admin.status_code == 403
    assert (await identity.delete(f"/api/auth/users/{name}/lockout", headers=admin)).status_code == 204
    assert [e["action"] for e in await _audit(identity, token_for, f"username:{name}")] == [
        "UNLOCK",
        "LOCKOUT",
    ]
    assert (await _token(identity, name, "the-right-password")).status_code == 200
    assert (await identity.delete(f"/api/auth/users/{name}/lockout", headers=admin)).status_code == 404


async def test_an_address_is_locked_after_twenty_failures_over_many_usernames(identity, token_for, unique):
    address = "192.0.2.55"
    answers = [
        (await _token(identity, unique("spray"), "guess", address=address)).status_code for _ in range(20)
    ]
    assert answers == [401] * 20
    refused = await _token(identity, "root", "root-password-123", address=address)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert (await _token(identity, "root", "root-password-123", address="192.0.2.56")).status_code == 200
    # A caller cannot pick its own address: the header is believed from a SYSTEM token only.
    spoofed = await _token(
        identity, "root", "root-password-123", address=address, **{"X-Client-Address": "10.9.9.9"}
    )
    assert spoofed.status_code == 429
    admin = token_for(Role.ADMIN)
    assert (await identity.delete(f"/api/auth/lockouts/address/{address}", headers=admin)).status_code == 204
    assert (await _token(identity, "root", "root-password-123", address=address)).status_code == 200


async def test_a_success_clears_the_username_count(identity, unique, token_for):
    admin = token_for(Role.ADMIN, subject="root")
    name = unique("forgetful").lower()
    body = {"username": name, "password": "the-right-password", "roles": ["AGENT"]}
    assert (await identity.post("/api/auth/users", json=body, headers=admin)).status_code == 201
    for _round in range(3):  # 4 failures, a success: never locked
        for _ in range(4):
            assert (await _token(identity, name, "nope", address="198.51.100.200")).status_code == 401
        assert (
            await _token(identity, name, "the-right-password", address="198.51.100.201")
        ).status_code == 200

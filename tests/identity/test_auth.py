"""Tokens and users through the identity service."""

from __future__ import annotations

import jwt


async def test_bootstrap_admin_gets_a_token_with_its_roles(identity):
    r = await identity.post("/api/auth/token", data={"username": "root", "password": "root-password-123"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "root" and claims["roles"] == ["ADMIN"]


async def test_wrong_password_and_unknown_user_get_the_same_401(identity):
    wrong = await identity.post("/api/auth/token", data={"username": "root", "password": "nope-nope-nope"})
    unknown = await identity.post("/api/auth/token", data={"username": "ghost", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_admin_creates_an_agent_user_who_can_sign_in(identity, token_for, unique):
    from crm.platform.auth import Role

    name = unique("agent").lower()
    r = await identity.post(
        "/api/auth/users",
        json={"username": name, "password": "a-long-password", "roles": ["AGENT"], "agentId": "AGT-9"},
        headers=token_for(Role.ADMIN),
    )
    assert r.status_code == 201, r.text
    assert r.json()["roles"] == ["AGENT"] and "password" not in r.text
    token = await identity.post("/api/auth/token", data={"username": name, "password": "a-long-password"})
    claims = jwt.decode(token.json()["access_token"], options={"verify_signature": False})
    assert claims["agentId"] == "AGT-9" and claims["roles"] == ["AGENT"]
    again = await identity.post(
        "/api/auth/users",
        json={"username": name, "password": "a-long-password", "roles": ["AGENT"]},
        headers=token_for(Role.ADMIN),
    )
    assert again.status_code == 409


async def test_only_admin_creates_users(identity, token_for):
    from crm.platform.auth import Role

    body = {"username": "should-not-exist", "password": "a-long-password", "roles": ["ADMIN"]}
    assert (await identity.post("/api/auth/users", json=body)).status_code == 401
    for role in (Role.AGENT, Role.SUPERVISOR, Role.SYSTEM, Role.PAYMENT_PROCESSOR):
        assert (await identity.post("/api/auth/users", json=body, headers=token_for(role))).status_code == 403
    listed = await identity.get("/api/auth/users?pageSize=500", headers=token_for(Role.ADMIN))
    assert "should-not-exist" not in [u["username"] for u in listed.json()["items"]]

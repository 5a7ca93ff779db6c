"""Tokens and users through the identity service."""

from __future__ import annotations

import jwt

from crm.platform.auth import Role


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


async def test_admin_changes_a_users_roles_agent_and_sign_in(identity, token_for, unique):
    name = unique("user").lower()
    admin = token_for(Role.ADMIN, subject="chief")
    body = {"username": name, "password": "a-long-password", "roles": ["AGENT"], "agentId": "A-1"}
    assert (await identity.post("/api/auth/users", json=body, headers=admin)).status_code == 201

    changed = await identity.put(
        f"/api/auth/users/{name}", json={"roles": ["SUPERVISOR", "AGENT"], "agentId": None}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["AGENT", "SUPERVISOR"] and changed.json()["agentId"] is None
    signed_in = await identity.post("/api/auth/token", data={"username": name, "password": "a-long-password"})
    me = await identity.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    )
    assert me.json()["roles"] == ["AGENT", "SUPERVISOR"] and me.json()["agentId"] is None

    assert (
        await identity.put(f"/api/auth/users/{name}", json={"isActive": False}, headers=admin)
    ).status_code == 200
    refused = await identity.post("/api/auth/token", data={"username": name, "password": "a-long-password"})
    assert refused.status_code == 401

    assert (
        await identity.put("/api/auth/users/nobody-here", json={"isActive": True}, headers=admin)
    ).status_code == 404
    empty_roles = await identity.put(f"/api/auth/users/{name}", json={"roles": []}, headers=admin)
    assert empty_roles.status_code == 422 and empty_roles.json()["errors"][0]["field"] == "roles"
    for field in ("roles", "isActive"):  # null is not "no change": once a 500 (TypeError)
        null = await identity.put(f"/api/auth/users/{name}", json={field: None}, headers=admin)
        assert null.status_code == 422 and null.json()["errors"][0]["field"] == field, null.text
    kept = await identity.get("/api/auth/users", params={"pageSize": 500}, headers=admin)
    assert [u["roles"] for u in kept.json()["items"] if u["username"] == name] == [["AGENT", "SUPERVISOR"]]
    not_admin = await identity.put(
        f"/api/auth/users/{name}", json={"isActive": True}, headers=token_for(Role.SUPERVISOR)
    )
    assert not_admin.status_code == 403


async def test_an_admin_cannot_lock_itself_out(identity, token_for, unique):
    name = unique("admin").lower()
    body = {"username": name, "password": "a-long-password", "roles": ["ADMIN"]}
    assert (
        await identity.post("/api/auth/users", json=body, headers=token_for(Role.ADMIN))
    ).status_code == 201
    itself = token_for(Role.ADMIN, subject=name)
    demoted = await identity.put(f"/api/auth/users/{name}", json={"roles": ["AGENT"]}, headers=itself)
    assert demoted.status_code == 422 and demoted.json()["errors"][0]["field"] == "roles"
    off = await identity.put(f"/api/auth/users/{name}", json={"isActive": False}, headers=itself)
    assert off.status_code == 422 and off.json()["errors"][0]["field"] == "isActive"

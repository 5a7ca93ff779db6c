"""Tokens, the external identity provider (OIDC via JWKS) and the rule that every route declares access."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from crm.platform.auth import Access, Role, SecureRouter, TokenService, assert_every_route_declares_access
from crm.platform.errors import Unauthorized
from crm.platform.settings import PlatformSettings


@pytest.fixture(scope="module")
def identity_provider():
    """A stand-in for the bank's OpenID Connect provider: it serves its JWKS over HTTP on loopback."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "idp-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield key, f"http://127.0.0.1:{server.server_port}/jwks"
    server.shutdown()


def _settings(tmp_path, **kw) -> PlatformSettings:
    return PlatformSettings(data_dir=tmp_path, jwt_secret="unit-test-key-0123456789abcdef0123456789", **kw)


def test_platform_token_round_trip(tmp_path):
    tokens = TokenService(_settings(tmp_path))
    token, ttl = tokens.issue("an", [Role.AGENT], agent_id="AGT7")
    principal = tokens.verify(token)
    assert principal.subject == "an" and principal.roles == {Role.AGENT} and principal.agent_id == "AGT7"
    assert ttl == 3600


def test_system_token_is_short_lived_and_system(tmp_path):
    tokens = TokenService(_settings(tmp_path))
    claims = jwt.decode(tokens.system_token("workflow"), options={"verify_signature": False})
    assert claims["roles"] == ["SYSTEM"] and claims["sub"] == "system:workflow"
    assert claims["exp"] - claims["iat"] == 300


def test_generated_signing_key_is_kept_in_the_data_folder(tmp_path):
    first = PlatformSettings(data_dir=tmp_path).jwt_signing_key()
    again = PlatformSettings(data_dir=tmp_path).jwt_signing_key()
    assert first == again and len(first) >= 48
    assert oct((tmp_path / "secrets" / "jwt-signing-key").stat().st_mode)[-3:] == "600"


def test_oidc_token_from_the_bank_identity_provider(tmp_path, identity_provider):
    key, jwks_url = identity_provider
    tokens = TokenService(
        _settings(
            tmp_path,
            oidc_issuer="https://idp.bank.example",
            oidc_jwks_url=jwks_url,
            oidc_audience="crm",
            oidc_roles_claim="realm_access.roles",
        )
    )
    now = int(time.time())
    claims = {
        "sub": "sup1",
        "iss": "https://idp.bank.example",
        "aud": "crm",
        "iat": now,
        "exp": now + 300,
        "realm_access": {"roles": ["SUPERVISOR", "offline_access"]},
    }
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "idp-1"})
    principal = tokens.verify(good)
    assert principal.subject == "sup1" and principal.roles == {Role.SUPERVISOR}
    for bad in ({**claims, "aud": "other"}, {**claims, "iss": "https://evil"}, {**claims, "exp": now - 10}):
        with pytest.raises(Unauthorized):
            tokens.verify(jwt.encode(bad, key, algorithm="RS256", headers={"kid": "idp-1"}))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        tokens.verify(jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "idp-1"}))


def test_rs256_tokens_are_refused_without_an_identity_provider(tmp_path, identity_provider):
    key, _ = identity_provider
    tokens = TokenService(_settings(tmp_path))
    token = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, key, algorithm="RS256")
    with pytest.raises(Unauthorized):
        tokens.verify(token)


def test_a_route_without_declared_access_cannot_be_added():
    router = SecureRouter()
    with pytest.raises(TypeError, match="must declare access"):

        @router.get("/api/open")
        async def open_route() -> dict[str, str]:
            return {}


def test_an_app_with_an_undeclared_route_refuses_to_start():
    app = FastAPI()

    @app.get("/api/sneaky")
    async def sneaky() -> dict[str, str]:
        return {}

    secure = SecureRouter()

    @secure.get("/api/fine", access=Access.of(Role.ADMIN))
    async def fine() -> dict[str, str]:
        return {}

    app.include_router(secure)
    with pytest.raises(RuntimeError, match="/api/sneaky"):
        assert_every_route_declares_access(app)

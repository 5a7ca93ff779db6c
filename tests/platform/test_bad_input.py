"""Bad input gets a 4xx problem+json that names the problem, and nothing is stored."""

from __future__ import annotations

import time

import jwt
import pytest

from crm.platform.auth import Role


def payment(ref: str, **overrides):
    body = {
        "referenceNumber": ref,
        "loanAccountNumber": "LN-BAD",
        "cif": "CIF-BAD",
        "amount": "100.00",
        "paymentDate": "2026-11-28T09:30:00+07:00",
        "paymentChannel": "CASH",
    }
    return {**body, **overrides}


async def _not_stored(payments, ref: str, headers) -> None:
    r = await payments.get(f"/api/payments/{ref}", headers=headers)
    assert r.status_code == 404


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert {"type", "title", "status", "detail", "code", "params"} <= body.keys() and body["status"] == status
    assert isinstance(body["code"], str) and "." in body["code"] and isinstance(body["params"], dict)
    assert all({"field", "code", "message"} <= e.keys() for e in body.get("errors") or [])
    assert "Traceback" not in r.text and "SELECT" not in r.text and "INSERT" not in r.text
    return body


async def test_malformed_json_is_400(payments, token_for, unique):
    headers = {**token_for(Role.ADMIN), "content-type": "application/json"}
    ref = unique("BAD")
    r = await payments.post(
        "/api/payments", content=b'{"referenceNumber": "' + ref.encode() + b'", ', headers=headers
    )
    body = _problem(r, 400)
    assert body["errors"][0]["field"] == "body"
    await _not_stored(payments, ref, headers)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"amount": "twelve"}, "amount"),
        ({"amount": 100.5}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "1e10"}, "amount"),
        ({"amount": "1E+2"}, "amount"),
        ({"amount": "1_000"}, "amount"),
        ({"amount": "\u0661\u0660\u0660"}, "amount"),  # Arabic-Indic digits
        ({"amount": "Infinity"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": True}, "amount"),
        ({"paymentChannel": "PIGEON"}, "paymentChannel"),
        ({"paymentDate": "yesterday"}, "paymentDate"),
        ({"paymentDate": "2026-11-28T09:30:00"}, "paymentDate"),
        ({"currency": "dong"}, "currency"),
        ({"status": "MAYBE"}, "status"),
        ({"unexpected": "field"}, "unexpected"),
    ],
)
async def test_wrong_values_are_422_naming_the_field(payments, token_for, unique, override, field):
    headers = token_for(Role.ADMIN)
    ref = unique("BAD")
    body = _problem(await payments.post("/api/payments", json=payment(ref, **override), headers=headers), 422)
    assert field in [e["field"] for e in body["errors"]]
    assert all(e["message"] for e in body["errors"])
    await _not_stored(payments, ref, headers)


async def test_missing_field_is_named(payments, token_for, unique):
    body = payment(unique("BAD"))
    del body["cif"]
    problem = _problem(await payments.post("/api/payments", json=body, headers=token_for(Role.ADMIN)), 422)
    assert [e["field"] for e in problem["errors"]] == ["cif"]


async def test_oversize_body_is_413(payments, token_for, unique):
    headers = token_for(Role.ADMIN)
    ref = unique("BAD")
    huge = payment(ref, statusReason="x" * 2_000_000)
    _problem(await payments.post("/api/payments", json=huge, headers=headers), 413)
    await _not_stored(payments, ref, headers)


async def test_oversize_streamed_body_without_length_is_413(payments, token_for):
    async def chunks():
        for _ in range(40):
            yield b"x" * 65536

    r = await payments.post("/api/payments", content=chunks(), headers=token_for(Role.ADMIN))
    _problem(r, 413)


async def test_unknown_route_and_method_are_problems(payments, token_for):
    _problem(await payments.get("/api/payments-nowhere", headers=token_for(Role.ADMIN)), 404)
    _problem(await payments.delete("/api/payments/ABC", headers=token_for(Role.ADMIN)), 405)


async def test_expired_tampered_and_foreign_tokens_are_401(payments, settings, tokens, unique):
    ref = unique("BAD")
    now = int(time.time())
    key = settings.jwt_signing_key()
    claims = {"sub": "x", "roles": ["ADMIN"], "iss": settings.jwt_issuer, "aud": settings.jwt_audience}
    expired = jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, key, algorithm="HS256")
    foreign = jwt.encode(
        {**claims, "exp": now + 600}, "another-key-entirely-0123456789abcdef", algorithm="HS256"
    )
    good, _ = tokens.issue("x", [Role.PAYMENT_PROCESSOR])
    head, _claims, signature = good.split(".")
    tampered_claims = jwt.utils.base64url_encode(
        jwt.api_jws.json.dumps(
            {**jwt.decode(good, options={"verify_signature": False}), "roles": ["ADMIN"]}
        ).encode()
    ).decode()
    tampered = f"{head}.{tampered_claims}.{signature}"
    none_alg = jwt.encode({**claims, "exp": now + 600}, None, algorithm="none")
    for token in (expired, foreign, tampered, none_alg, "not-a-jwt"):
        r = await payments.post(
            "/api/payments", json=payment(ref), headers={"Authorization": f"Bearer {token}"}
        )
        body = _problem(r, 401)
        assert r.headers.get("www-authenticate") == "Bearer"
        assert body["detail"]
    ok, _ = tokens.issue("reader", [Role.AGENT])
    await _not_stored(payments, ref, {"Authorization": f"Bearer {ok}"})


async def test_oversize_streamed_json_body_is_413(payments, token_for):
    async def chunks():
        for _ in range(40):
            yield b"x" * 65536

    headers = {**token_for(Role.ADMIN), "content-type": "application/json"}
    _problem(await payments.post("/api/payments", content=chunks(), headers=headers), 413)


async def test_a_nul_character_anywhere_is_422_naming_the_field(
    payments, bank_sync, workflow, token_for, unique
):
    """PostgreSQL cannot store NUL: it used to fail in the query and answer 503 "try again", which a
    client retries for ever. Path, query, JSON and form bodies: 422, the field named, nothing stored."""
    admin = token_for(Role.ADMIN)
    cases = [
        (bank_sync.get("/api/customers", params={"q": "\x00"}, headers=admin), "q"),
        (bank_sync.get("/api/customers", params={"q": "ab\x00c", "segment": "RETAIL"}, headers=admin), "q"),
        (payments.get("/api/payments/loan/A%00B", headers=admin), "path"),
        (workflow.get("/api/actions/customer/C%00IF", headers=admin), "path"),
    ]
    for request, field in cases:
        body = _problem(await request, 422)
        assert [e["field"] for e in body["errors"]] == [field]
        assert body["code"] == "request.invalid"
    ref = unique("NUL")
    r = await payments.post("/api/payments", json=payment(ref, statusReason="late\x00"), headers=admin)
    assert [e["field"] for e in _problem(r, 422)["errors"]] == ["statusReason"]
    r = await payments.post("/api/payments", json=payment(ref, cif="C\x00"), headers=admin)
    assert [e["field"] for e in _problem(r, 422)["errors"]] == ["cif"]
    await _not_stored(payments, ref, admin)
    r = await workflow.post("/api/cases", json={"cif": "CIF1", "notes": ["x", "\x00"]}, headers=admin)
    assert [e["field"] for e in _problem(r, 422)["errors"]] == ["notes.1"]
    form = await payments.post(
        "/api/payments",
        content=b"a=1&note=x%00y",
        headers={**admin, "content-type": "application/x-www-form-urlencoded"},
    )
    assert [e["field"] for e in _problem(form, 422)["errors"]] == ["note"]


@pytest.mark.parametrize("page", ["9223372036854775808", "99999999999", "0", "-1"])
async def test_a_page_number_out_of_range_is_422(bank_sync, payments, workflow, token_for, page):
    admin = token_for(Role.ADMIN)
    for client, path in (
        (bank_sync, "/api/customers"),
        (bank_sync, "/api/loans/delinquent"),
        (payments, "/api/payments/customer/CIF1"),
        (workflow, "/api/agents"),
        (workflow, "/api/actions/customer/CIF1"),
    ):
        body = _problem(await client.get(path, params={"page": page}, headers=admin), 422)
        assert [e["field"] for e in body["errors"]] == ["page"], path

"""The signature a payment processor puts on a notification (api.md):

    X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

Several secrets may be valid at once (a rotation: the processor moves to the new secret while the
old one still works), and a header may carry several ``v1`` values for the same reason.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from crm.platform.errors import Unauthorized

HEADER = "X-Signature"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The header value for ``body`` (what a processor sends; used by tests and the benchmark)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(header: str | None, body: bytes, secrets: Sequence[str], *, now: float, tolerance: int) -> None:
    """Raise ``Unauthorized`` unless one ``v1`` is the HMAC of ``t.body`` under one of ``secrets``
    and ``t`` is within ``tolerance`` seconds of ``now``. The comparison is constant-time."""
    if not secrets:
        raise Unauthorized("Payment notifications are not accepted: no webhook secret is configured.")
    if not header:
        raise Unauthorized(f"The {HEADER} header is missing.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise Unauthorized(f"The {HEADER} header must be 't=<unix seconds>,v1=<hex HMAC-SHA256>'.")
    if abs(now - timestamp) > tolerance:
        raise Unauthorized(f"The {HEADER} timestamp is more than {tolerance} s from now.")
    signed = f"{timestamp}.".encode() + body
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    # Every pair is compared (no early exit), so the time taken says nothing about which was close.
    matches = [hmac.compare_digest(e, given) for e in expected for given in signatures]
    if not any(matches):
        raise Unauthorized(f"The {HEADER} does not match the body.")

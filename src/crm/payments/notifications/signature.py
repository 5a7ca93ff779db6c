"""The signature a payment processor puts on a notification (docs/api.md):

    X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

Several secrets may be valid at once (a rotation: the processor moves to the new secret while the
old one still works), and a header may carry several ``v1`` values for the same reason.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

from crm.platform.errors import Unauthorized
from crm.platform.problems import declare

SIGNATURE_MALFORMED = declare(
    "signature.malformed", "The {header} header must be 't=<unix seconds>,v1=<hex HMAC-SHA256>'."
)
NO_SECRET = declare(
    "signature.no_secret", "Payment notifications are not accepted: no webhook secret is configured."
)
SIGNATURE_MISSING = declare("signature.missing", "The {header} header is missing.")
SIGNATURE_STALE = declare("signature.stale", "The {header} timestamp is more than {tolerance} s from now.")
SIGNATURE_WRONG = declare("signature.mismatch", "The {header} does not match the body.")

HEADER = "X-Signature"
MAX_HEADER_LENGTH = 1024
"""Room for a timestamp and a few signatures (a rotation); anything longer is refused unread."""
_GRAMMAR = re.compile(r"t=(?P<t>[0-9]{1,12})(?P<sigs>(?:,v1=[0-9a-fA-F]{64})+)", re.ASCII)
"""``t=<1-12 ASCII digits>`` then one or more ``,v1=<64 hex digits>``, nothing else: no spaces, no
other digits ``str.isdigit`` would take (``²``), no timestamp too large for a float."""


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The header value for ``body`` (what a processor sends; used by tests and the benchmark)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def parse(header: str) -> tuple[int, list[str]]:
    """The timestamp and the ``v1`` signatures of a header value; ``Unauthorized`` for anything not
    written exactly as the grammar says."""
    match = _GRAMMAR.fullmatch(header) if len(header) <= MAX_HEADER_LENGTH else None
    if match is None:
        raise Unauthorized.of(SIGNATURE_MALFORMED, header=HEADER)
    signatures = [part.removeprefix("v1=").lower() for part in match["sigs"].split(",") if part]
    return int(match["t"]), signatures


def verify(header: str | None, body: bytes, secrets: Sequence[str], *, now: float, tolerance: int) -> None:
    """Raise ``Unauthorized`` unless one ``v1`` is the HMAC of ``t.body`` under one of ``secrets``
    and ``t`` is within ``tolerance`` seconds of ``now``. The comparison is constant-time."""
    if not secrets:
        raise Unauthorized.of(NO_SECRET)
    if not header:
        raise Unauthorized.of(SIGNATURE_MISSING, header=HEADER)
    timestamp, signatures = parse(header)
    if abs(now - timestamp) > tolerance:
        raise Unauthorized.of(SIGNATURE_STALE, header=HEADER, tolerance=tolerance)
    signed = f"{timestamp}.".encode() + body
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    # Every pair is compared (no early exit), so the time taken says nothing about which was close.
    matches = [hmac.compare_digest(e, given) for e in expected for given in signatures]
    if not any(matches):
        raise Unauthorized.of(SIGNATURE_WRONG, header=HEADER)

"""Throttling of failed sign-ins, per username and per client address (docs/api.md: 429 with Retry-After).

Kept in PostgreSQL, not in memory, so every process and replica counts the same failures. A key
(a username, known or not, or an address) that fails ``max_failures`` times within ``window`` is
refused for ``lockout`` seconds, before its password is even checked; a success clears the
username's count (not the address's: one good password does not excuse a spray of others).
Each lockout is written to the audit trail; an ADMIN can lift one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.identity.models import platform_tables
from crm.platform.audit import record_change
from crm.platform.errors import TooManyRequests
from crm.platform.problems import declare

THROTTLED = declare("auth.throttled", "Too many failed sign-ins; try again in {retryAfter} s.")

_COUNT_FAILURE = """
INSERT INTO identity.sign_in_failure AS f (kind, key, failures, window_started_at)
VALUES (:kind, :key, 1, now())
ON CONFLICT (kind, key) DO UPDATE SET
    failures = CASE WHEN f.window_started_at < now() - make_interval(secs => :window)
        OR f.locked_until <= now() THEN 1 ELSE f.failures + 1 END,
    window_started_at = CASE WHEN f.window_started_at < now() - make_interval(secs => :window)
        OR f.locked_until <= now() THEN now() ELSE f.window_started_at END,
    locked_until = CASE WHEN f.locked_until <= now() THEN NULL ELSE f.locked_until END
RETURNING failures, locked_until
"""
_LOCK = """
UPDATE identity.sign_in_failure SET locked_until = now() + make_interval(secs => :s)
WHERE kind = :kind AND key = :key RETURNING locked_until
"""


@dataclass(frozen=True)
class Policy:
    max_failures_per_username: int
    max_failures_per_address: int
    window_seconds: int
    lockout_seconds: int

    def limit(self, kind: str) -> int:
        return self.max_failures_per_username if kind == "username" else self.max_failures_per_address


async def check(session: AsyncSession, username: str, address: str) -> None:
    """``TooManyRequests`` while the username or the address is locked out."""
    row = (
        await session.execute(
            text(
                "SELECT max(extract(epoch FROM locked_until - now())) FROM identity.sign_in_failure "
                "WHERE ((kind = 'username' AND key = :u) OR (kind = 'address' AND key = :a)) "
                "AND locked_until > now()"
            ),
            {"u": username.lower(), "a": address},
        )
    ).scalar()
    if row is not None:
        wait = max(1, math.ceil(float(row)))
        raise TooManyRequests(THROTTLED.detail(retryAfter=wait), retry_after=wait, code=THROTTLED)


async def failed(session: AsyncSession, policy: Policy, username: str, address: str) -> None:
    """Count one failure of each key; lock a key that reached its limit (audited)."""
    for kind, key in (("username", username.lower()), ("address", address)):
        row = (
            await session.execute(
                text(_COUNT_FAILURE),
                {"kind": kind, "key": key, "window": policy.window_seconds},
            )
        ).one()
        failures, locked_until = int(row[0]), row[1]
        if locked_until is None and failures >= policy.limit(kind):
            until: datetime = (
                await session.execute(
                    text(_LOCK),
                    {"s": policy.lockout_seconds, "kind": kind, "key": key},
                )
            ).scalar_one()
            await record_change(
                session,
                platform_tables,
                action="LOCKOUT",
                entity_type="sign_in",
                entity_key=f"{kind}:{key}",
                before=None,
                after={"failures": failures, "lockedUntil": until.isoformat()},
            )


async def succeeded(session: AsyncSession, username: str) -> None:
    await session.execute(
        text("DELETE FROM identity.sign_in_failure WHERE kind = 'username' AND key = :u"),
        {"u": username.lower()},
    )


async def unlock(session: AsyncSession, kind: str, key: str) -> bool:
    """Lift a lockout (ADMIN); True when there was one. Audited."""
    key = key.lower() if kind == "username" else key
    row = (
        await session.execute(
            text(
                "DELETE FROM identity.sign_in_failure WHERE kind = :kind AND key = :key "
                "RETURNING failures, locked_until"
            ),
            {"kind": kind, "key": key},
        )
    ).first()
    if row is None:
        return False
    await record_change(
        session,
        platform_tables,
        action="UNLOCK",
        entity_type="sign_in",
        entity_key=f"{kind}:{key}",
        before={"failures": int(row[0]), "lockedUntil": row[1].isoformat() if row[1] else None},
        after=None,
    )
    return True

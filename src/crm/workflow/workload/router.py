"""Routes: an agent's workload, performance and call queue."""

from __future__ import annotations

from crm.platform.auth import SecureRouter

router = SecureRouter(prefix="/api/agents", tags=["agents"])

"""``<prefix>/consumers``: how far behind a service's consumers are, for ADMINs (the web UI's screen).

Each service answers for its own consumers, under the prefix of its audit trail; the numbers are
those of ``/health/ready`` and ``/metrics`` (``crm.platform.lag``).
"""

from __future__ import annotations

from typing import Literal

from crm.platform.auth import Access, Role, SecureRouter
from crm.platform.schemas import ApiModel
from crm.platform.state import ConsumerLag


class ConsumerLagRead(ApiModel):
    consumer: str
    stream: str
    pending: int | None
    """Events not yet delivered, or delivered and not yet acked; null when it could not be measured."""
    lag_seconds: float | None
    """Age of the oldest event not applied yet (0 when none is pending)."""
    status: Literal["ok", "behind", "unknown"]


class ConsumersRead(ApiModel):
    degraded_after_seconds: float
    consumers: list[ConsumerLagRead]


def consumer_lag_router(prefix: str) -> SecureRouter:
    router = SecureRouter(prefix=f"{prefix}/consumers", tags=["operations"])

    @router.get("", access=Access.of(Role.ADMIN), response_model=ConsumersRead)
    async def consumers_lag(lag: ConsumerLag) -> ConsumersRead:
        """This service's consumers: events pending for each and how old the oldest is."""
        lags = await lag.current()
        return ConsumersRead(
            degraded_after_seconds=lag.degraded_after,
            consumers=[
                ConsumerLagRead(
                    consumer=x.consumer,
                    stream=x.stream,
                    pending=x.pending,
                    lag_seconds=x.seconds,
                    status=x.status,
                )
                for x in lags
            ],
        )

    return router

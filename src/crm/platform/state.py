"""What a route needs from its service, as typed dependencies: the needs are in the route's signature.

A service keeps its shared parts on ``app.state`` at start (``crm.platform.service``): settings, the
outbox, the bus, the token service, the database, the consumers' lag. Routes do not reach into
``request.app.state``; they ask for ``Outbox``, ``Bus``, ``BusinessZone``, ``Tokens``, ``Db``,
``ConsumerLag`` or their service's typed settings (the ``Settings`` alias beside each service's
settings class), and FastAPI hands them over.
The platform's own routers (audit, dead letters) are given the service's spec when they are built.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from crm.platform.auth import TokenService
from crm.platform.bus import Bus as _Bus
from crm.platform.db import Database
from crm.platform.lag import ConsumerLag as _ConsumerLag
from crm.platform.outbox import Outbox as _Outbox


def _kept(name: str) -> Any:
    """A dependency on what the service keeps as ``app.state.<name>``."""

    def kept(request: Request) -> Any:
        return getattr(request.app.state, name)

    kept.__name__ = f"app_state_{name}"
    return Depends(kept)


def _zone(request: Request) -> ZoneInfo:
    zone: ZoneInfo = request.app.state.settings.tz
    return zone


def settings_of(request: Request) -> Any:
    """The service's settings (typed by the ``Settings`` alias of each service)."""
    return request.app.state.settings


Outbox = Annotated[_Outbox, _kept("outbox")]
Bus = Annotated[_Bus, _kept("bus")]
BusinessZone = Annotated[ZoneInfo, Depends(_zone)]
"""The business time zone (``CRM_TIMEZONE``)."""
Tokens = Annotated[TokenService, _kept("tokens")]
Db = Annotated[Database, _kept("db")]
"""The service's database, for a route that runs its own transactions."""
ConsumerLag = Annotated[_ConsumerLag, _kept("lag")]
"""How far behind the service's consumers are."""

"""What a route needs from its service, as typed dependencies: the needs are in the route's signature.

A service keeps its shared parts on ``app.state`` at start (``crm.platform.service``): settings, the
outbox, the bus, the token service, the database. Routes do not reach into ``request.app.state``;
they ask for ``Outbox``, ``Bus``, ``BusinessZone``, ``Tokens``, ``Db`` or their service's typed
settings (the ``Settings`` alias beside each service's settings class), and FastAPI hands them over.
The platform's own routers (audit, dead letters) are given the service's spec when they are built.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from crm.platform.auth import TokenService
from crm.platform.bus import Bus as _Bus
from crm.platform.db import Database
from crm.platform.outbox import Outbox as _Outbox


def _outbox(request: Request) -> _Outbox:
    outbox: _Outbox = request.app.state.outbox
    return outbox


def _bus(request: Request) -> _Bus:
    bus: _Bus = request.app.state.bus
    return bus


def _zone(request: Request) -> ZoneInfo:
    zone: ZoneInfo = request.app.state.settings.tz
    return zone


def _tokens(request: Request) -> TokenService:
    tokens: TokenService = request.app.state.tokens
    return tokens


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings_of(request: Request) -> Any:
    """The service's settings (typed by the ``Settings`` alias of each service)."""
    return request.app.state.settings


Outbox = Annotated[_Outbox, Depends(_outbox)]
Bus = Annotated[_Bus, Depends(_bus)]
BusinessZone = Annotated[ZoneInfo, Depends(_zone)]
"""The business time zone (``CRM_TIMEZONE``)."""
Tokens = Annotated[TokenService, Depends(_tokens)]
Db = Annotated[Database, Depends(_db)]
"""The service's database, for a route that runs its own transactions."""

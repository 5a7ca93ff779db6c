"""``GET <prefix>/audit``: a service's own audit trail, for ADMINs (the web UI's audit screen).

Each service answers for its own ``audit_log`` under one of its own path prefixes (identity
``/api/auth/audit``, bank-sync ``/api/bank-sync/audit``, payments ``/api/payments/audit``, workflow
``/api/workflow/audit``), newest first, filtered by actor, entity, action and business dates.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import func, select

from crm.platform.auth import Access, Role, SecureRouter
from crm.platform.business_time import check_period, day_bounds
from crm.platform.db import Session
from crm.platform.schemas import ApiModel, Day, Moment, Page, Paging
from crm.platform.state import BusinessZone
from crm.platform.tables import PlatformTables


class AuditEntry(ApiModel):
    id: int
    occurred_at: Moment
    actor: str
    actor_roles: list[str]
    action: str
    entity_type: str
    entity_key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


Text = Annotated[str | None, Query(min_length=1, max_length=200)]


def audit_router(prefix: str, tables: PlatformTables) -> SecureRouter:
    router = SecureRouter(prefix=prefix, tags=["audit"])

    @router.get("/audit", access=Access.of(Role.ADMIN), response_model=Page[AuditEntry])
    async def audit_trail(
        session: Session,
        tz: BusinessZone,
        paging: Paging,
        actor: Text = None,
        entity_type: Annotated[str | None, Query(alias="entityType", min_length=1, max_length=200)] = None,
        entity_key: Annotated[str | None, Query(alias="entityKey", min_length=1, max_length=200)] = None,
        action: Text = None,
        date_from: Annotated[Day | None, Query(alias="from")] = None,
        date_to: Annotated[Day | None, Query(alias="to")] = None,
    ) -> Page[AuditEntry]:
        """The service's audit trail (who changed what, before and after), newest first; ``from`` /
        ``to`` are business dates, both included."""
        check_period(date_from, date_to, max_days=366)
        table = tables.audit_log
        conditions = []
        for column, value in (
            (table.c.actor, actor),
            (table.c.entity_type, entity_type),
            (table.c.entity_key, entity_key),
            (table.c.action, action),
        ):
            if value is not None:
                conditions.append(column == value)
        if date_from is not None:
            conditions.append(table.c.occurred_at >= day_bounds(date_from, tz)[0])
        if date_to is not None:
            conditions.append(table.c.occurred_at < day_bounds(date_to, tz)[1])
        total = await session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0
        rows = (
            await session.execute(
                select(table)
                .where(*conditions)
                .order_by(table.c.occurred_at.desc(), table.c.id.desc())
                .offset(paging.offset)
                .limit(paging.page_size)
            )
        ).mappings()
        return Page[AuditEntry].of([dict(r) for r in rows], total, paging)

    return router

"""The identity service: ``crm serve identity``."""

from __future__ import annotations

from fastapi import FastAPI

from crm.identity.models import Base
from crm.identity.settings import IdentitySettings
from crm.identity.users import service
from crm.identity.users.router import router
from crm.platform.auth import Role
from crm.platform.logging import get_logger
from crm.platform.service import ServiceSpec, create_service_app
from crm.platform.settings import DEMO_AGENT_ID

log = get_logger("crm.identity")

DEMO_USERS = {
    "agent": ([Role.AGENT], DEMO_AGENT_ID),
    "supervisor": ([Role.SUPERVISOR], None),
    "admin": ([Role.ADMIN], None),
    "processor": ([Role.PAYMENT_PROCESSOR], None),
}


async def _bootstrap_users(app: FastAPI) -> None:
    """Create the bootstrap admin from the environment and, in demo mode, one user per role."""
    settings: IdentitySettings = app.state.settings
    async with app.state.db.transaction() as session:
        if settings.bootstrap_admin_username and settings.bootstrap_admin_password:
            created = await service.ensure_user(
                session,
                username=settings.bootstrap_admin_username,
                password=settings.bootstrap_admin_password.get_secret_value(),
                roles=[Role.ADMIN],
            )
            if created:
                log.info("bootstrap_admin_created", username=settings.bootstrap_admin_username)
        if settings.demo:
            password = settings.demo_user_password()
            for username, (roles, agent_id) in DEMO_USERS.items():
                await service.ensure_user(
                    session, username=username, password=password, roles=roles, agent_id=agent_id
                )


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="identity",
        title="Collection CRM - Identity",
        package="crm.identity",
        audit_prefix="/api/auth",
        metadata=Base.metadata,
        routers=[router],
        on_startup=[_bootstrap_users],
    )


def create_app(
    settings: IdentitySettings | None = None, *, migrate: bool = False, standalone: bool = True
) -> FastAPI:
    """The identity service's only entry point."""
    return create_service_app(spec(), settings or IdentitySettings(), migrate=migrate, standalone=standalone)

"""The Collection Workflow service: `crm serve workflow`."""

from __future__ import annotations

from fastapi import FastAPI

from crm.platform.service import ServiceSpec, create_service_app
from crm.workflow.agents.router import router as agents_router
from crm.workflow.cases.router import router as cases_router
from crm.workflow.models import Base
from crm.workflow.settings import WorkflowSettings


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="workflow",
        title="Collection CRM - Collection Workflow",
        package="crm.workflow",
        metadata=Base.metadata,
        routers=[agents_router, cases_router],
    )


def create_app(
    settings: WorkflowSettings | None = None, *, migrate: bool = False, standalone: bool = True
) -> FastAPI:
    """The workflow service's only entry point."""
    return create_service_app(spec(), settings or WorkflowSettings(), migrate=migrate, standalone=standalone)

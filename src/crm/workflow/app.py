"""The Collection Workflow service: `crm serve workflow`."""

from __future__ import annotations

from fastapi import FastAPI

from crm.platform.service import ServiceSpec, create_service_app
from crm.workflow.actions.router import router as actions_router
from crm.workflow.agents.router import router as agents_router
from crm.workflow.assignments.router import router as assignments_router
from crm.workflow.bank_data import close_bank_data, open_bank_data
from crm.workflow.cases.router import router as cases_router
from crm.workflow.demo import demo_agent_waiting, ensure_demo_agent, give_demo_agent_customers
from crm.workflow.models import Base
from crm.workflow.portfolio.router import router as customer_list_router
from crm.workflow.promises.jobs import BACKGROUND as promise_jobs
from crm.workflow.readmodel.consumers import CONSUMERS as readmodel_consumers
from crm.workflow.settings import WorkflowSettings
from crm.workflow.vocabularies.router import router as vocabularies_router
from crm.workflow.workload import models as queue_facts  # noqa: F401 - registers customer_queue_fact
from crm.workflow.workload.router import router as workload_router
from crm.workflow.workload.router import team_router as portfolio_router


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="workflow",
        title="Collection CRM - Collection Workflow",
        package="crm.workflow",
        audit_prefix="/api/workflow",
        metadata=Base.metadata,
        routers=[
            agents_router,
            workload_router,
            portfolio_router,
            customer_list_router,
            actions_router,
            assignments_router,
            cases_router,
            vocabularies_router,
        ],
        consumers=readmodel_consumers,
        on_startup=[open_bank_data, ensure_demo_agent],
        on_shutdown=[close_bank_data],
        background=[*promise_jobs, give_demo_agent_customers],
        readiness={"demo": demo_agent_waiting},
    )


def create_app(
    settings: WorkflowSettings | None = None, *, migrate: bool = False, standalone: bool = True
) -> FastAPI:
    """The workflow service's only entry point."""
    return create_service_app(spec(), settings or WorkflowSettings(), migrate=migrate, standalone=standalone)

"""Routes: the customer list with its filters, and the facts of some customers (search results, 360)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from crm.platform.auth import Caller, SecureRouter
from crm.platform.buckets import DpdBucket
from crm.platform.db import Session
from crm.platform.schemas import Paging
from crm.platform.state import BusinessZone
from crm.workflow.access import READ
from crm.workflow.agents.schemas import AgentTeam
from crm.workflow.portfolio import service
from crm.workflow.portfolio.schemas import (
    CustomerFactsLookup,
    CustomerFactsResult,
    CustomerList,
    CustomerSort,
    PromiseFilter,
)
from crm.workflow.workload.router import Now

router = SecureRouter(prefix="/api/workflow/customers", tags=["customers"])


@router.get(
    "",
    access=READ,
    response_model=CustomerList,
    responses={
        422: {"description": "a bad filter, or q without agentId (code customers.text_needs_agent)"},
        403: {"description": "an AGENT asking for another agent's customers (scope.other_agent)"},
    },
)
async def list_customers(
    session: Session,
    caller: Caller,
    tz: BusinessZone,
    now: Now,
    paging: Paging,
    agent_id: Annotated[
        uuid.UUID | None,
        Query(alias="agentId", description="Customers whose call or field agent this is (AGENT: itself)"),
    ] = None,
    team: Annotated[AgentTeam | None, Query(description="Customers of an agent of this team")] = None,
    bucket: Annotated[DpdBucket | None, Query(description="Bucket of the worst loan")] = None,
    product_type: Annotated[
        str | None, Query(alias="productType", min_length=1, max_length=64, description="A loan's product")
    ] = None,
    promise_status: Annotated[
        PromiseFilter | None, Query(alias="promiseStatus", description="OPEN, BROKEN or NONE")
    ] = None,
    last_result: Annotated[
        str | None,
        Query(
            alias="lastResult", min_length=1, max_length=64, description="Result code of the newest action"
        ),
    ] = None,
    follow_up_due: Annotated[
        bool | None, Query(alias="followUpDue", description="true: follow-up date today or earlier")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1, max_length=200, description="CIF prefix or part of the name, within agentId's book"
        ),
    ] = None,
    sort: Annotated[
        CustomerSort, Query(description="-dpd (default), dpd, -due, due")
    ] = CustomerSort.DPD_DESC,
) -> CustomerList:
    """Customers with their dpd, due, agents, promise, follow-up and last result, filtered and sorted;
    an AGENT reads only its own customers."""
    text = " ".join(q.split()) if q else None
    return await service.customer_list(
        session,
        caller,
        now=now,
        tz=tz,
        agent_id=agent_id,
        team=team.value if team else None,
        bucket=bucket,
        product_type=product_type,
        promise=promise_status,
        last_result=last_result,
        follow_up_due=follow_up_due,
        text=text,
        sort=sort,
        offset=paging.offset,
        limit=paging.page_size,
        page_number=paging.page,
    )


@router.post("/lookup", access=READ, response_model=CustomerFactsResult)
async def lookup_customers(session: Session, body: CustomerFactsLookup) -> CustomerFactsResult:
    """The list facts of several customers by CIF (1 to 500; unknown ones are absent), e.g. of a page
    of search results or of one customer's 360 header."""
    return CustomerFactsResult(items=await service.lookup(session, body.cifs))

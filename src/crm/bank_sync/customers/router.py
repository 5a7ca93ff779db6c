"""Routes: searching customers, reading several by CIF, and reading one with its contacts and references."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from crm.bank_sync.access import READ
from crm.bank_sync.customers import service
from crm.bank_sync.customers.schemas import (
    CustomerFoundRead,
    CustomerFullRead,
    CustomerLookup,
    CustomerLookupResult,
    CustomerStatus,
)
from crm.platform.auth import SecureRouter
from crm.platform.db import Session
from crm.platform.schemas import CountedPage, Paging

router = SecureRouter(prefix="/api/customers", tags=["customers"])
Cif = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("", access=READ, response_model=CountedPage[CustomerFoundRead])
async def search_customers(
    session: Session,
    paging: Paging,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="CIF (exact or prefix), national id, phone number, e-mail, or part of the name "
            "(accents and case ignored; at least 3 characters)",
        ),
    ] = None,
    segment: Annotated[str | None, Query(max_length=64, description="Exact segment, e.g. RETAIL")] = None,
    status: Annotated[CustomerStatus | None, Query()] = None,
) -> CountedPage[CustomerFoundRead]:
    """Customers found by the search box and filters, best matches first, each with its primary phone.
    A name search ranks and counts up to 1,000 name matches: ``totalExact`` is false when there are
    more (``total`` is then 1,000)."""
    items, total, exact = await service.search_customers(
        session, q, segment=segment, status=status, offset=paging.offset, limit=paging.page_size
    )
    return CountedPage[CustomerFoundRead](
        items=items, page=paging.page, page_size=paging.page_size, total=total, total_exact=exact
    )


# Declared before /api/customers/{cif} (a POST would not clash with its GET anyway).
@router.post("/lookup", access=READ, response_model=CustomerLookupResult)
async def lookup_customers(session: Session, body: CustomerLookup) -> CustomerLookupResult:
    """Several customers by CIF at once, for other services (docs/api.md).

    ``POST /api/customers/lookup`` with ``{"cifs": [...]}`` (1 to 1,000 CIFs, else 422 naming
    ``cifs``) answers ``{"items": [...]}``: each customer as ``GET /api/customers`` lists it
    (with its primary phone), by CIF; a CIF bank-sync does not know is simply absent. Workflow refreshes its
    read model with it when a SyncEvent names changed customers.
    """
    return CustomerLookupResult(items=await service.lookup_customers(session, body.cifs))


@router.get("/{cif}", access=READ, response_model=CustomerFullRead)
async def get_customer(session: Session, cif: Cif) -> CustomerFullRead:
    """One customer by CIF with phones, addresses, e-mails and references (CustomerFullView)."""
    return await service.get_customer_full(session, cif)

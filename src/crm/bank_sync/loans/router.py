"""Routes: looking up loans (one, or several at once), a customer's loans, and the delinquency search."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from crm.bank_sync.access import READ
from crm.bank_sync.loans import service
from crm.bank_sync.loans.schemas import (
    DelinquencyStatus,
    LoanFullRead,
    LoanLookup,
    LoanLookupResult,
    LoanRead,
    ProductType,
)
from crm.platform.auth import SecureRouter
from crm.platform.buckets import DpdBucket
from crm.platform.db import Session
from crm.platform.schemas import Page, Paging

router = SecureRouter(tags=["loans"])
AccountNumber = Annotated[str, Path(alias="accountNumber", min_length=1, max_length=64)]
Cif = Annotated[str, Path(min_length=1, max_length=64)]


# Declared before /api/loans/{accountNumber}, which would otherwise take "delinquent" as an account number.
@router.get("/api/loans/delinquent", access=READ, response_model=Page[LoanRead])
async def search_delinquent_loans(
    session: Session,
    paging: Paging,
    min_dpd: Annotated[int | None, Query(alias="minDpd", ge=0, le=100_000)] = None,
    max_dpd: Annotated[int | None, Query(alias="maxDpd", ge=0, le=100_000)] = None,
    bucket: Annotated[DpdBucket | None, Query(description="CURRENT 0, B1 1-30, B2 31-60, ...")] = None,
    product_type: Annotated[ProductType | None, Query(alias="productType")] = None,
    delinquency_status: Annotated[DelinquencyStatus | None, Query(alias="delinquencyStatus")] = None,
    cif: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Page[LoanRead]:
    """Delinquent loans (open, dpd > 0) matching every filter given, most days past due first."""
    items, total = await service.search_delinquent(
        session,
        min_dpd=min_dpd,
        max_dpd=max_dpd,
        bucket=bucket,
        product_type=product_type,
        delinquency_status=delinquency_status,
        cif=cif,
        offset=paging.offset,
        limit=paging.page_size,
    )
    return Page[LoanRead](items=items, page=paging.page, page_size=paging.page_size, total=total)


# Declared before /api/loans/{accountNumber} (a POST would not clash with its GET anyway).
@router.post("/api/loans/lookup", access=READ, response_model=LoanLookupResult)
async def lookup_loans(session: Session, body: LoanLookup) -> LoanLookupResult:
    """Several loans by account number at once, for other services (docs/api.md).

    ``POST /api/loans/lookup`` with ``{"accountNumbers": [...]}`` (1 to 1,000, else 422 naming
    ``accountNumbers``) answers ``{"items": [...]}``: each loan as ``GET /api/customers/:cif/loans``
    lists it (LoanRead), by account number; an account number bank-sync does not know is simply
    absent. Workflow refreshes its read model with it when a SyncEvent names changed loans.
    """
    return LoanLookupResult(items=await service.lookup_loans(session, body.account_numbers))


@router.get("/api/loans/{accountNumber}", access=READ, response_model=LoanFullRead)
async def get_loan(session: Session, account_number: AccountNumber) -> LoanFullRead:
    """One loan by account number with its collaterals and due segmentation (LoanFullView)."""
    return await service.get_loan_full(session, account_number)


@router.get("/api/customers/{cif}/loans", access=READ, response_model=Page[LoanRead])
async def list_customer_loans(session: Session, paging: Paging, cif: Cif) -> Page[LoanRead]:
    """A customer's loans, by account number."""
    items, total = await service.list_customer_loans(
        session, cif, offset=paging.offset, limit=paging.page_size
    )
    return Page[LoanRead](items=items, page=paging.page, page_size=paging.page_size, total=total)

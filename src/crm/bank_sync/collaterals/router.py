"""Routes: a customer's collaterals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from crm.bank_sync.access import READ
from crm.bank_sync.collaterals import service
from crm.bank_sync.collaterals.schemas import CollateralRead
from crm.platform.auth import SecureRouter
from crm.platform.db import Session
from crm.platform.schemas import Page, Paging

router = SecureRouter(tags=["collaterals"])


@router.get("/api/customers/{cif}/collaterals", access=READ, response_model=Page[CollateralRead])
async def list_customer_collaterals(
    session: Session, paging: Paging, cif: Annotated[str, Path(min_length=1, max_length=64)]
) -> Page[CollateralRead]:
    """A customer's collaterals, by collateral number."""
    items, total = await service.list_customer_collaterals(
        session, cif, offset=paging.offset, limit=paging.page_size
    )
    return Page[CollateralRead](items=items, page=paging.page, page_size=paging.page_size, total=total)

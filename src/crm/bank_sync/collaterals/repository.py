"""Queries of collaterals: a customer's (a loan's are read with the loan)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.collaterals.models import Collateral
from crm.bank_sync.records.paging import paged


async def of_customer(
    session: AsyncSession, cif: str, *, offset: int, limit: int
) -> tuple[list[Collateral], int]:
    """A page of a customer's collaterals (by collateral number) and how many it has."""
    query = select(Collateral).where(Collateral.cif == cif)
    return await paged(session, query, Collateral.collateral_number, offset=offset, limit=limit)

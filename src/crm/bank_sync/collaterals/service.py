"""Reading collaterals: a customer's (a loan's are part of the loan's full view)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.collaterals import repository
from crm.bank_sync.collaterals.schemas import CollateralRead
from crm.bank_sync.customers.service import ensure_customer
from crm.bank_sync.records.freshness import Freshness
from crm.bank_sync.records.schemas import EntityType


async def list_customer_collaterals(
    session: AsyncSession, cif: str, *, offset: int, limit: int
) -> tuple[list[CollateralRead], int]:
    """A page of the customer's collaterals by collateral number, or 404 for an unknown customer."""
    await ensure_customer(session, cif)
    rows, total = await repository.of_customer(session, cif, offset=offset, limit=limit)
    freshness = await Freshness.load(session)
    return [freshness.read(CollateralRead, row, EntityType.COLLATERALS) for row in rows], total

"""Reading customers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.customers.models import Customer
from crm.platform.errors import NotFound


async def get_customer(session: AsyncSession, cif: str) -> Customer:
    """The customer with this CIF, or 404."""
    customer = await session.scalar(select(Customer).where(Customer.cif == cif))
    if customer is None:
        raise NotFound(f"No customer with CIF {cif}.")
    return customer

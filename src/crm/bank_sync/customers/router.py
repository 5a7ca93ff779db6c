"""Routes: looking up customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from crm.bank_sync.access import READ
from crm.bank_sync.customers import service
from crm.bank_sync.customers.models import Customer
from crm.bank_sync.customers.schemas import CustomerRead
from crm.platform.auth import SecureRouter
from crm.platform.db import Session

router = SecureRouter(prefix="/api/customers", tags=["customers"])


@router.get("/{cif}", access=READ, response_model=CustomerRead)
async def get_customer(session: Session, cif: Annotated[str, Path(min_length=1, max_length=64)]) -> Customer:
    """One customer by CIF."""
    return await service.get_customer(session, cif)

"""Routes: looking up loans."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from crm.bank_sync.access import READ
from crm.bank_sync.loans import service
from crm.bank_sync.loans.models import Loan
from crm.bank_sync.loans.schemas import LoanRead
from crm.platform.auth import SecureRouter
from crm.platform.db import Session

router = SecureRouter(prefix="/api/loans", tags=["loans"])


@router.get("/{accountNumber}", access=READ, response_model=LoanRead)
async def get_loan(
    session: Session,
    account_number: Annotated[str, Path(alias="accountNumber", min_length=1, max_length=64)],
) -> Loan:
    """One loan by account number, with its current balance."""
    return await service.get_loan(session, account_number)

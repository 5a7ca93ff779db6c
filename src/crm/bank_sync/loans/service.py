"""Reading loans (full view, a customer's, the delinquency search), and keeping their balance in step
with payments (each applied at most once)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Text, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.collaterals.schemas import CollateralRead, DueSegmentationRead
from crm.bank_sync.customers.service import ensure_customer
from crm.bank_sync.loans import repository
from crm.bank_sync.loans.balances import RECEIVED, REVERSED, Move, move_balances
from crm.bank_sync.loans.models import Loan
from crm.bank_sync.loans.repository import DelinquencyCriteria
from crm.bank_sync.loans.schemas import DelinquencyStatus, LoanFullRead, LoanRead, ProductType
from crm.bank_sync.records.freshness import Freshness
from crm.bank_sync.records.schemas import EntityType
from crm.platform.buckets import DpdBucket
from crm.platform.db import utcnow
from crm.platform.errors import BusinessRuleViolation, NotFound
from crm.platform.logging import get_logger
from crm.platform.problems import declare

NO_LOAN = declare("loan.not_found", "No loan with account number {account}.")
MIN_ABOVE_MAX = declare("search.min_above_max", "must not be greater than maxDpd ({maxDpd})")
DPD_RANGE = declare("search.dpd_range", "minDpd ({minDpd}) is greater than maxDpd ({maxDpd}).")

log = get_logger("crm.bank_sync.loans")
UTC = ZoneInfo("UTC")
ZERO = Decimal("0.00")


async def get_loan(session: AsyncSession, account_number: str) -> Loan:
    """The loan with this account number, or 404."""
    loan = await repository.get(session, account_number)
    if loan is None:
        raise NotFound.of(NO_LOAN, account=account_number)
    return loan


async def get_loan_full(session: AsyncSession, account_number: str) -> LoanFullRead:
    """LoanFullView: the loan with its collaterals and its due segmentation (by due date), or 404."""
    loan = await get_loan(session, account_number)
    freshness = await Freshness.load(session)
    collaterals = await repository.collaterals_of(session, account_number)
    dues = await repository.due_segmentations_of(session, account_number)
    return freshness.read(LoanFullRead, loan, EntityType.LOANS).model_copy(
        update={
            "collaterals": [freshness.read(CollateralRead, c, EntityType.COLLATERALS) for c in collaterals],
            "due_segmentations": [
                freshness.read(DueSegmentationRead, d, EntityType.DUE_SEGMENTATIONS) for d in dues
            ],
        }
    )


async def lookup_loans(session: AsyncSession, account_numbers: list[str]) -> list[LoanRead]:
    """The loans with these account numbers, by account number, in one query (``account_number =
    ANY(:keys)``); unknown account numbers are absent."""
    keys = bindparam("account_numbers", list(dict.fromkeys(account_numbers)), type_=ARRAY(Text))
    rows = (
        await session.scalars(
            select(Loan).where(Loan.account_number == any_(keys)).order_by(Loan.account_number)
        )
    ).all()
    freshness = await Freshness.load(session)
    return [freshness.read(LoanRead, row, EntityType.LOANS) for row in rows]


async def list_customer_loans(
    session: AsyncSession, cif: str, *, offset: int, limit: int
) -> tuple[list[LoanRead], int]:
    """A page of the customer's loans by account number, or 404 for an unknown customer."""
    await ensure_customer(session, cif)
    rows, total = await repository.of_customer(session, cif, offset=offset, limit=limit)
    freshness = await Freshness.load(session)
    return [freshness.read(LoanRead, row, EntityType.LOANS) for row in rows], total


def delinquency_criteria(
    *,
    min_dpd: int | None = None,
    max_dpd: int | None = None,
    bucket: DpdBucket | None = None,
    product_type: ProductType | None = None,
    delinquency_status: DelinquencyStatus | None = None,
    cif: str | None = None,
) -> DelinquencyCriteria | None:
    """The delinquency search's dpd range: ``minDpd``/``maxDpd`` intersected with the bucket's range.

    None when that intersection holds no delinquent dpd (no loan can match); 422 if minDpd > maxDpd.
    """
    if min_dpd is not None and max_dpd is not None and min_dpd > max_dpd:
        dpd = {"minDpd": min_dpd, "maxDpd": max_dpd}
        raise BusinessRuleViolation.of(DPD_RANGE, errors=[MIN_ABOVE_MAX.field("minDpd", **dpd)], **dpd)
    lowest, highest = 1, max_dpd
    if min_dpd is not None:
        lowest = max(lowest, min_dpd)
    if bucket is not None:
        first, last = bucket.dpd_range
        lowest = max(lowest, first)
        if last is not None:
            highest = last if highest is None else min(highest, last)
    if highest is not None and lowest > highest:
        return None
    return DelinquencyCriteria(
        min_dpd=lowest,
        max_dpd=highest,
        product_type=product_type.value if product_type else None,
        delinquency_status=delinquency_status.value if delinquency_status else None,
        cif=cif or None,
    )


async def search_delinquent(
    session: AsyncSession,
    *,
    min_dpd: int | None = None,
    max_dpd: int | None = None,
    bucket: DpdBucket | None = None,
    product_type: ProductType | None = None,
    delinquency_status: DelinquencyStatus | None = None,
    cif: str | None = None,
    offset: int,
    limit: int,
) -> tuple[list[LoanRead], int]:
    """A page of delinquent loans (open, dpd > 0) matching every filter given, most days past due first."""
    criteria = delinquency_criteria(
        min_dpd=min_dpd,
        max_dpd=max_dpd,
        bucket=bucket,
        product_type=product_type,
        delinquency_status=delinquency_status,
        cif=cif,
    )
    if criteria is None:
        return [], 0
    rows, total = await repository.delinquent(session, criteria, offset=offset, limit=limit)
    freshness = await Freshness.load(session)
    return [freshness.read(LoanRead, row, EntityType.LOANS) for row in rows], total


async def apply_payment(
    session: AsyncSession,
    *,
    reference_number: str,
    loan_account_number: str,
    amount: Decimal,
    currency: str,
    paid_at: datetime,
    tz: ZoneInfo,
) -> bool:
    """Take a received payment off the loan's outstanding and due amounts (never below zero), once.

    A payment the loan's last snapshot already includes (made before the business day on which the
    sync run read it: the core's own payments, imported after the night's loans) is recorded as
    having taken nothing, so that neither it nor its reversal moves the balances a second time.
    Returns False when nothing changed: unknown loan, other currency, a reference already applied,
    or a payment already in the snapshot. One payment of what ``balances.move_balances`` does for a
    batch.
    """
    move = Move(RECEIVED, reference_number, loan_account_number, amount, currency, paid_at)
    return (await move_balances(session, [move], tz=tz))[0]


async def reverse_payment(session: AsyncSession, *, reference_number: str) -> bool:
    """Put back exactly what an applied payment took; False for an unknown or already reversed payment."""
    move = Move(REVERSED, reference_number, "", ZERO, "", utcnow())
    return (await move_balances(session, [move], tz=UTC))[0]  # a reversal reads no business day

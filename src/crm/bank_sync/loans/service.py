"""Reading loans (full view, a customer's, the delinquency search), and keeping their balance in step
with payments (each applied at most once)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Text, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.collaterals.schemas import CollateralRead, DueSegmentationRead
from crm.bank_sync.customers.service import ensure_customer
from crm.bank_sync.loans import repository
from crm.bank_sync.loans.models import Loan, LoanPaymentApplied
from crm.bank_sync.loans.repository import DelinquencyCriteria
from crm.bank_sync.loans.schemas import DelinquencyStatus, LoanFullRead, LoanRead, ProductType
from crm.bank_sync.records.freshness import Freshness
from crm.bank_sync.records.schemas import EntityType
from crm.platform.buckets import DpdBucket
from crm.platform.business_time import snapshot_includes
from crm.platform.errors import BusinessRuleViolation, NotFound
from crm.platform.logging import get_logger
from crm.platform.problems import declare

NO_LOAN = declare("loan.not_found", "No loan with account number {account}.")
MIN_ABOVE_MAX = declare("search.min_above_max", "must not be greater than maxDpd ({maxDpd})")
DPD_RANGE = declare("search.dpd_range", "minDpd ({minDpd}) is greater than maxDpd ({maxDpd}).")

log = get_logger("crm.bank_sync.loans")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
BALANCE_UPDATER = "SYSTEM"


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


async def _lock_loan(session: AsyncSession, account_number: str) -> Loan | None:
    return await session.scalar(
        select(Loan)
        .where(Loan.account_number == account_number)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _set_balance(loan: Loan, outstanding: Decimal, due: Decimal) -> None:
    loan.outstanding = outstanding
    loan.due_amount = due
    loan.remaining_amount = max(outstanding - due, ZERO)
    loan.updated_by = BALANCE_UPDATER
    loan.sync_hash = None  # the next sync must compare (and restore) the core's values, not skip the row


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
    or a payment already in the snapshot.
    """
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount <= ZERO:
        log.warning("payment_not_positive", reference=reference_number, amount=str(amount))
        return False
    loan = await _lock_loan(session, loan_account_number)
    if loan is None:
        log.warning("payment_for_unknown_loan", reference=reference_number, loan=loan_account_number)
        return False
    if currency != loan.currency:
        log.warning(
            "payment_in_other_currency",
            reference=reference_number,
            loan=loan_account_number,
            payment_currency=currency,
            loan_currency=loan.currency,
        )
        return False
    if snapshot_includes(paid_at, loan.last_synced_at, tz):
        log.info("payment_in_snapshot", reference=reference_number, loan=loan_account_number)
        taken_outstanding = taken_due = ZERO
    else:
        taken_outstanding = min(amount, loan.outstanding)
        taken_due = min(amount, loan.due_amount)
    # The reference number's primary key decides: a second event for the same payment inserts nothing.
    recorded = await session.scalar(
        insert(LoanPaymentApplied)
        .values(
            payment_reference_number=reference_number,
            loan_account_number=loan.account_number,
            applied_outstanding=taken_outstanding,
            applied_due=taken_due,
            amount=amount,
            paid_at=paid_at,
        )
        .on_conflict_do_nothing(index_elements=[LoanPaymentApplied.payment_reference_number])
        .returning(LoanPaymentApplied.payment_reference_number)
    )
    if recorded is None:
        log.info("payment_already_applied", reference=reference_number, loan=loan_account_number)
        return False
    if not (taken_outstanding or taken_due):
        return False
    _set_balance(loan, loan.outstanding - taken_outstanding, loan.due_amount - taken_due)
    await session.flush()
    return True


async def reverse_payment(session: AsyncSession, *, reference_number: str) -> bool:
    """Put back exactly what an applied payment took; False for an unknown or already reversed payment."""
    account_number = await session.scalar(
        select(LoanPaymentApplied.loan_account_number).where(
            LoanPaymentApplied.payment_reference_number == reference_number,
            LoanPaymentApplied.reversed_at.is_(None),
        )
    )
    if account_number is None:
        log.info("reversal_of_unapplied_payment", reference=reference_number)
        return False
    # Lock the loan before the applied row, in the same order as apply_payment.
    loan = await _lock_loan(session, account_number)
    if loan is None:  # pragma: no cover - the foreign key keeps the loan
        return False
    taken = (
        await session.execute(
            update(LoanPaymentApplied)
            .where(
                LoanPaymentApplied.payment_reference_number == reference_number,
                LoanPaymentApplied.reversed_at.is_(None),
            )
            .values(reversed_at=func.now())
            .returning(LoanPaymentApplied.applied_outstanding, LoanPaymentApplied.applied_due)
        )
    ).one_or_none()
    if taken is None:
        log.info("payment_already_reversed", reference=reference_number)
        return False
    _set_balance(loan, loan.outstanding + taken.applied_outstanding, loan.due_amount + taken.applied_due)
    await session.flush()
    return True

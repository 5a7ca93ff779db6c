"""Reading loans, and keeping their balance in step with payments (each applied at most once)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.loans.models import Loan, LoanPaymentApplied
from crm.platform.errors import NotFound
from crm.platform.logging import get_logger

log = get_logger("crm.bank_sync.loans")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
BALANCE_UPDATER = "SYSTEM"


async def get_loan(session: AsyncSession, account_number: str) -> Loan:
    """The loan with this account number, or 404."""
    loan = await session.scalar(select(Loan).where(Loan.account_number == account_number))
    if loan is None:
        raise NotFound(f"No loan with account number {account_number}.")
    return loan


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


async def apply_payment(
    session: AsyncSession,
    *,
    reference_number: str,
    loan_account_number: str,
    amount: Decimal,
    currency: str,
) -> bool:
    """Take a received payment off the loan's outstanding and due amounts (never below zero), once.

    Returns False when nothing changed: unknown loan, other currency, or a reference already applied.
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
        )
        .on_conflict_do_nothing(index_elements=[LoanPaymentApplied.payment_reference_number])
        .returning(LoanPaymentApplied.payment_reference_number)
    )
    if recorded is None:
        log.info("payment_already_applied", reference=reference_number, loan=loan_account_number)
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

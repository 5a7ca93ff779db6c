"""Queries of loans: by key, by customer, the delinquency search, and a loan's collaterals and dues.

The delinquency search always carries ``status = 'OPEN' AND dpd > 0`` as SQL constants (not bound
parameters) so that the planner can use the partial index ``ix_loan_delinquent_dpd`` in every plan;
a product type, delinquency status or CIF filter is answered by ``ix_loan_product_type_dpd``,
``ix_loan_delinquency_status_dpd`` or ``ix_loan_cif``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.collaterals.models import Collateral, DueSegmentation, LoanCollateral
from crm.bank_sync.loans.models import Loan
from crm.bank_sync.records.paging import paged, total


@dataclass(frozen=True)
class DelinquencyCriteria:
    """Open loans with ``min_dpd <= dpd <= max_dpd`` (at least 1) and the other filters given."""

    min_dpd: int = 1
    max_dpd: int | None = None
    product_type: str | None = None
    delinquency_status: str | None = None
    cif: str | None = None


def _delinquent(query: Select, criteria: DelinquencyCriteria) -> Select:
    conditions: list[ColumnElement[bool]] = [
        Loan.status == literal_column("'OPEN'"),
        Loan.dpd > literal_column("0"),
    ]
    if criteria.min_dpd > 1:
        conditions.append(Loan.dpd >= criteria.min_dpd)
    if criteria.max_dpd is not None:
        conditions.append(Loan.dpd <= criteria.max_dpd)
    if criteria.product_type is not None:
        conditions.append(Loan.product_type == criteria.product_type)
    if criteria.delinquency_status is not None:
        conditions.append(Loan.delinquency_status == criteria.delinquency_status)
    if criteria.cif is not None:
        conditions.append(Loan.cif == criteria.cif)
    return query.where(*conditions)


def delinquent_statement(criteria: DelinquencyCriteria, *, offset: int, limit: int) -> Select[Loan]:
    """One page of delinquent loans matching ``criteria``, most days past due first."""
    return (
        _delinquent(select(Loan), criteria)
        .order_by(Loan.dpd.desc(), Loan.account_number)
        .offset(offset)
        .limit(limit)
    )


def delinquent_count_statement(criteria: DelinquencyCriteria) -> Select[int]:
    """How many loans :func:`delinquent_statement` pages through."""
    return _delinquent(select(func.count()).select_from(Loan), criteria)


async def delinquent(
    session: AsyncSession, criteria: DelinquencyCriteria, *, offset: int, limit: int
) -> tuple[list[Loan], int]:
    """A page of delinquent loans and how many match in all."""
    rows = list(await session.scalars(delinquent_statement(criteria, offset=offset, limit=limit)))
    return rows, await total(session, rows, delinquent_count_statement(criteria), offset=offset, limit=limit)


async def get(session: AsyncSession, account_number: str) -> Loan | None:
    return await session.scalar(select(Loan).where(Loan.account_number == account_number))


async def of_customer(session: AsyncSession, cif: str, *, offset: int, limit: int) -> tuple[list[Loan], int]:
    """A page of a customer's loans (by account number) and how many it has."""
    return await paged(
        session, select(Loan).where(Loan.cif == cif), Loan.account_number, offset=offset, limit=limit
    )


async def collaterals_of(session: AsyncSession, account_number: str) -> list[Collateral]:
    """The collaterals linked to a loan, by collateral number."""
    query = (
        select(Collateral)
        .join(LoanCollateral, LoanCollateral.collateral_number == Collateral.collateral_number)
        .where(LoanCollateral.loan_account_number == account_number)
        .order_by(Collateral.collateral_number)
    )
    return list(await session.scalars(query))


async def due_segmentations_of(session: AsyncSession, account_number: str) -> list[DueSegmentation]:
    """A loan's instalments, by due date."""
    query = (
        select(DueSegmentation)
        .where(DueSegmentation.loan_account_number == account_number)
        .order_by(DueSegmentation.due_date)
    )
    return list(await session.scalars(query))

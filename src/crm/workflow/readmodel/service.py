"""Keeping workflow's read model current: customers and loans from bank-sync, payments from their events.

``customer_view`` / ``loan_view`` hold what bank-sync's API answered the last time a SyncEvent
named the key (read through its lookup routes, 1,000 keys a request; a key bank-sync no longer
knows is removed); a PaymentEvent moves the loan's balances at once, before the next nightly sync
confirms them. ``payment_view`` has one row per payment reference: RECEIVED, or REVERSED once a
reversal arrived (then it counts for nothing); it keeps what the payment actually took off the
loan's balances, which is what its reversal puts back.

A payment the loan's snapshot already includes takes nothing off it: a snapshot read by a sync run
on business day S (``synced_at``) describes the days before S, so the core's own payments of those
days, imported after the night's loans, are recorded (promises, amounts collected) but not counted
twice (``crm.platform.business_time.snapshot_includes``; bank-sync keeps its loans by the same rule).
A reversal puts back what its payment took: nothing for such a payment, as the core's next
snapshot has the reversal. Payments are recorded a batch at a time (``readmodel.payments``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.db import utcnow
from crm.platform.logging import get_logger
from crm.workflow.bank_data import LOOKUP_CHUNK, BankDataQueryService
from crm.workflow.readmodel.models import CustomerView, LoanView

log = get_logger("crm.workflow.readmodel")


Document = dict[str, Any]


def _customer_row(document: Document) -> dict[str, Any]:
    return {
        "cif": document["cif"],
        "name": document["name"],
        "segment": document.get("segment"),
        "status": document.get("status"),
    }


def _loan_row(document: Document) -> dict[str, Any]:
    synced = document.get("lastSyncedAt")
    return {
        "account_number": document["accountNumber"],
        "cif": document["cif"],
        "product_type": document.get("productType"),
        "currency": document["currency"],
        "outstanding": Decimal(str(document["outstanding"])),
        "due_amount": Decimal(str(document["dueAmount"])),
        "dpd": int(document["dpd"]),
        "status": document["status"],
        # A record no sync run has seen yet is as current as it gets now.
        "synced_at": datetime.fromisoformat(synced) if synced else utcnow(),
    }


async def _upsert(
    session: AsyncSession, model: type[CustomerView | LoanView], rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    key = "cif" if model is CustomerView else "account_number"
    # In key order, the order the payments consumer locks loans in: the two never deadlock.
    statement = insert(model).values(sorted(rows, key=lambda row: row[key]))
    changed = {name: statement.excluded[name] for name in rows[0] if name != key}
    await session.execute(
        statement.on_conflict_do_update(index_elements=[key], set_={**changed, "updated_at": func.now()})
    )


async def store_customers(session: AsyncSession, documents: dict[str, Document | None]) -> None:
    """Upsert the customers bank-sync answered, delete those it no longer knows."""
    await _upsert(session, CustomerView, [_customer_row(d) for d in documents.values() if d is not None])
    gone = [cif for cif, d in documents.items() if d is None]
    if gone:
        await session.execute(delete(CustomerView).where(CustomerView.cif.in_(gone)))
    await session.flush()


async def store_loans(session: AsyncSession, documents: dict[str, Document | None]) -> None:
    """Upsert the loans bank-sync answered, delete those it no longer knows."""
    await _upsert(session, LoanView, [_loan_row(d) for d in documents.values() if d is not None])
    gone = [account for account, d in documents.items() if d is None]
    if gone:
        await session.execute(delete(LoanView).where(LoanView.account_number.in_(gone)))
    await session.flush()


def _chunks(keys: Iterable[str]) -> Iterable[list[str]]:
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        yield unique[start : start + LOOKUP_CHUNK]


async def refresh_customers(session: AsyncSession, bank_data: BankDataQueryService, cifs: list[str]) -> None:
    """Read the changed customers from bank-sync, one lookup per 1,000 CIFs, and store them; a CIF
    bank-sync does not answer leaves the view. ``ServiceUnavailable`` propagates (the event is
    retried rather than emptying the view)."""
    for chunk in _chunks(cifs):
        found = await bank_data.customers(chunk)
        await store_customers(session, {cif: found.get(cif) for cif in chunk})


async def refresh_loans(session: AsyncSession, bank_data: BankDataQueryService, accounts: list[str]) -> None:
    """Read the changed loans from bank-sync, one lookup per 1,000 account numbers, and store them;
    an account number bank-sync does not answer leaves the view. ``ServiceUnavailable`` propagates."""
    for chunk in _chunks(accounts):
        found = await bank_data.loans(chunk)
        await store_loans(session, {account: found.get(account) for account in chunk})


async def loan_view(session: AsyncSession, account_number: str) -> LoanView | None:
    """One loan of the read model."""
    return await session.scalar(select(LoanView).where(LoanView.account_number == account_number))

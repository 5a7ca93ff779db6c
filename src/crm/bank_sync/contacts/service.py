"""Reading customers' phones in bulk."""

from __future__ import annotations

from sqlalchemy import Text, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.contacts.models import Phone
from crm.bank_sync.contacts.schemas import PrimaryPhone


async def primary_phones(session: AsyncSession, cifs: list[str]) -> list[PrimaryPhone]:
    """One phone per CIF in one query: the primary one, else a verified one, else any (a phone the
    last snapshot no longer has comes last); CIFs without a phone are absent."""
    keys = bindparam("cifs", list(dict.fromkeys(cifs)), type_=ARRAY(Text))
    rows = (
        await session.scalars(
            select(Phone)
            .where(Phone.cif == any_(keys))
            .distinct(Phone.cif)
            .order_by(
                Phone.cif,
                Phone.missing_since.is_not(None),
                Phone.is_primary.desc(),
                Phone.is_verified.desc(),
                Phone.type,
                Phone.number,
            )
        )
    ).all()
    return [
        PrimaryPhone(cif=row.cif, number=row.number, type=row.type, is_verified=row.is_verified)
        for row in rows
    ]

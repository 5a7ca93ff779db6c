"""Reading customers' phones in bulk: the phone to call of each customer of a page."""

from __future__ import annotations

from sqlalchemy import Text, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from crm.bank_sync.contacts.models import Phone


async def primary_phones(session: AsyncSession, cifs: list[str]) -> dict[str, str]:
    """The number to call of each CIF, in one query: its primary phone, else a verified one, else
    any (a phone the last snapshot no longer has comes last); CIFs without a phone are absent."""
    keys = bindparam("cifs", list(dict.fromkeys(cifs)), type_=ARRAY(Text))
    rows = (
        await session.scalars(
            select(Phone)
            .where(Phone.cif == any_(keys))
            .ext(distinct_on(Phone.cif))
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
    return {row.cif: row.number for row in rows}

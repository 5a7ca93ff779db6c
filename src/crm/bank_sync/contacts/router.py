"""Routes: the primary phones of several customers at once."""

from __future__ import annotations

from crm.bank_sync.access import READ
from crm.bank_sync.contacts import service
from crm.bank_sync.contacts.schemas import PrimaryPhoneLookup, PrimaryPhoneResult
from crm.platform.auth import SecureRouter
from crm.platform.db import Session

router = SecureRouter(prefix="/api/customers", tags=["customers"])


@router.post("/primary-phones", access=READ, response_model=PrimaryPhoneResult)
async def primary_phones(session: Session, body: PrimaryPhoneLookup) -> PrimaryPhoneResult:
    """The phone to call of several customers at once (1 to 1,000 CIFs, else 422 naming ``cifs``):
    each one's primary phone, else a verified one; a CIF without a phone is absent."""
    return PrimaryPhoneResult(items=await service.primary_phones(session, body.cifs))

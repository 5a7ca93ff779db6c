"""The primary phones of several customers at once (the web UI's call queue shows one per row)."""

from __future__ import annotations

from pydantic import Field

from crm.bank_sync.records.schemas import MAX_LOOKUP_KEYS, LookupKey
from crm.platform.schemas import ApiModel


class PrimaryPhoneLookup(ApiModel):
    """``POST /api/customers/primary-phones``: the CIFs whose phone to read (1 to 1,000)."""

    cifs: list[LookupKey] = Field(min_length=1, max_length=MAX_LOOKUP_KEYS)


class PrimaryPhone(ApiModel):
    cif: str
    number: str
    type: str
    is_verified: bool


class PrimaryPhoneResult(ApiModel):
    """One phone per CIF that has any: its primary one, else a verified one (by CIF)."""

    items: list[PrimaryPhone]

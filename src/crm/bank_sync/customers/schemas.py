"""What the customer routes answer: a customer, its contacts and references, and the full view."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from crm.bank_sync.records.schemas import MAX_LOOKUP_KEYS, LookupKey, SynchronizedRead
from crm.platform.schemas import ApiModel, Day


class CustomerType(StrEnum):
    INDIVIDUAL = "INDIVIDUAL"
    ORGANIZATION = "ORGANIZATION"


class Gender(StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"
    OTHER = "OTHER"


class CustomerStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class PhoneType(StrEnum):
    MOBILE = "MOBILE"
    HOME = "HOME"
    WORK = "WORK"
    EMERGENCY = "EMERGENCY"
    FAX = "FAX"
    OTHER = "OTHER"


class AddressType(StrEnum):
    HOME = "HOME"
    WORK = "WORK"
    BILLING = "BILLING"
    MAILING = "MAILING"
    PROPERTY = "PROPERTY"
    TEMPORARY = "TEMPORARY"
    OTHER = "OTHER"


class RelationshipType(StrEnum):
    GUARANTOR = "GUARANTOR"
    SPOUSE = "SPOUSE"
    FAMILY_MEMBER = "FAMILY_MEMBER"
    BUSINESS_PARTNER = "BUSINESS_PARTNER"
    EMPLOYER = "EMPLOYER"
    EMPLOYEE = "EMPLOYEE"
    FRIEND = "FRIEND"
    COLLEAGUE = "COLLEAGUE"
    LEGAL_REPRESENTATIVE = "LEGAL_REPRESENTATIVE"
    EMERGENCY_CONTACT = "EMERGENCY_CONTACT"
    OTHER = "OTHER"


class CustomerRead(SynchronizedRead):
    cif: str
    type: CustomerType
    name: str
    date_of_birth: Day | None
    national_id: str | None
    gender: Gender | None
    company_name: str | None
    registration_number: str | None
    tax_id: str | None
    segment: str
    status: CustomerStatus


class CustomerFoundRead(CustomerRead):
    """A customer as the search box lists it: with the number to call, to tell namesakes apart."""

    primary_phone: str | None = None
    """The primary phone's number (the first filed when none is marked primary); null without phones."""


class PhoneRead(SynchronizedRead):
    cif: str
    type: PhoneType
    number: str
    is_primary: bool
    is_verified: bool
    verification_date: Day | None


class AddressRead(SynchronizedRead):
    cif: str
    type: AddressType
    address_line1: str
    address_line2: str | None
    city: str
    district: str | None
    state: str | None
    country: str
    is_primary: bool
    is_verified: bool
    verification_date: Day | None


class EmailRead(SynchronizedRead):
    cif: str
    address: str
    is_primary: bool
    is_verified: bool
    verification_date: Day | None


class ReferenceCustomerRead(SynchronizedRead):
    """A person to contact about the customer's debt, with the phones filed under their ``refCif``."""

    primary_cif: str
    ref_cif: str
    relationship_type: RelationshipType
    type: CustomerType
    name: str
    date_of_birth: Day | None
    national_id: str | None
    gender: Gender | None
    company_name: str | None
    registration_number: str | None
    tax_id: str | None
    phones: list[PhoneRead] = []


class CustomerFullRead(CustomerRead):
    """CustomerFullView: the customer with phones (primary first), addresses, e-mails and references."""

    phones: list[PhoneRead] = []
    addresses: list[AddressRead] = []
    emails: list[EmailRead] = []
    references: list[ReferenceCustomerRead] = []


class CustomerLookup(ApiModel):
    """``POST /api/customers/lookup``: the CIFs to read (1 to 1,000)."""

    cifs: list[LookupKey] = Field(min_length=1, max_length=MAX_LOOKUP_KEYS)


class CustomerLookupResult(ApiModel):
    """The customers found among the CIFs asked for (unknown CIFs are absent), by CIF, each with its
    primary phone."""

    items: list[CustomerFoundRead]

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from crm.bank_sync.sync.schemas import SourceSystem
from crm.platform.schemas import ApiModel


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


class CustomerRead(ApiModel):
    id: uuid.UUID
    cif: str
    type: CustomerType
    name: str
    date_of_birth: date | None
    national_id: str | None
    gender: Gender | None
    company_name: str | None
    registration_number: str | None
    tax_id: str | None
    segment: str
    status: CustomerStatus
    source_system: SourceSystem
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    is_editable: bool
    last_synced_at: datetime | None

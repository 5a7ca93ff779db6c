"""The web UI names the services' codes on its own (it may not import them): exactly their codes."""

from __future__ import annotations

from enum import StrEnum

import pytest

from crm.bank_sync.loans.schemas import ProductType
from crm.bank_sync.records.schemas import EntityType, SourceSystem
from crm.bank_sync.sync.schemas import RunState
from crm.payments.ledger.schemas import PaymentChannel, PaymentStatus
from crm.payments.reconciliation.schemas import DiscrepancyKind
from crm.platform.auth import Role
from crm.web.labels import PAYMENT_CHANNEL_LABELS, PAYMENT_STATUS_LABELS, PRODUCTS, TEAMS
from crm.web.routes import admin_common
from crm.workflow.agents.schemas import AgentTeam, AgentType
from crm.workflow.vocabularies.models import VocabularyKind


@pytest.mark.parametrize(
    ("shown", "codes"),
    [
        (PRODUCTS, ProductType),
        (TEAMS, AgentTeam),
        (PAYMENT_CHANNEL_LABELS, PaymentChannel),
        (PAYMENT_STATUS_LABELS, PaymentStatus),
        (admin_common.AGENT_TYPES, AgentType),
        (admin_common.ROLES, Role),
        (admin_common.RUN_STATES, RunState),
        (admin_common.SOURCES, SourceSystem),
        (admin_common.ENTITIES, EntityType),
        (admin_common.VOCABULARY_KINDS, VocabularyKind),
        (admin_common.DISCREPANCIES, DiscrepancyKind),
    ],
)
def test_the_screens_name_every_code_of_the_services_and_no_other(shown, codes: type[StrEnum]):
    assert set(shown) == {code.value for code in codes}

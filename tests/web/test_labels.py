"""The web UI names the services' codes on its own (it may not import them): exactly their codes."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from crm.bank_sync.loans.schemas import ProductType
from crm.bank_sync.records.schemas import EntityType, SourceSystem
from crm.bank_sync.sync import pipeline
from crm.bank_sync.sync.entities import LOAD_ORDER, EntitySpec
from crm.bank_sync.sync.schemas import RunState
from crm.payments.ledger.schemas import PaymentChannel, PaymentStatus
from crm.payments.reconciliation.schemas import DiscrepancyKind, Resolution
from crm.platform.auth import Role
from crm.web import labels
from crm.web.i18n import catalog
from crm.web.labels import PAYMENT_CHANNEL_LABELS, PAYMENT_STATUS_LABELS, PRODUCTS, TEAMS
from crm.web.problems import explain, explain_fields
from crm.web.routes import admin_common, admin_texts
from crm.workflow.agents.schemas import AgentTeam, AgentType
from crm.workflow.assignments import service as assignments_service
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
        (admin_texts.ENTITY_LABELS, EntityType),
        (admin_texts.RESOLUTIONS, Resolution),
    ],
)
def test_the_screens_name_every_code_of_the_services_and_no_other(shown, codes: type[StrEnum]):
    assert set(shown) == {code.value for code in codes}


def test_the_override_marker_is_the_one_workflow_writes():
    assert labels.OVERRIDE_NOTE == assignments_service.OVERRIDE_NOTE


def _reasons_of(spec: EntitySpec) -> list[str]:
    """The reasons bank-sync's pipeline gives a bad row of ``spec`` (the SQL literals it writes),
    each completed with a value as the pipeline appends it."""
    columns = pipeline._Columns(spec, [f.name for f in spec.fields])
    branches = [b for f in columns.fields for b in columns.problem(f)]
    literals = [m.replace("''", "'") for b in branches for m in re.findall(r"THEN '((?:[^']|'')*)'", b)]
    parents = [f"unknown {parent.what}: " for parent in spec.parents]
    return [text + "X1" if text.endswith(": ") else text for text in [*literals, *parents]]


@pytest.mark.parametrize("spec", LOAD_ORDER, ids=lambda spec: spec.name)
def test_every_reject_reason_of_the_pipeline_has_its_code_and_vietnamese(spec: EntitySpec):
    reasons = _reasons_of(spec)
    assert reasons or spec.name == "due_segmentations" or not spec.fields
    vietnamese = {m.id: m.string for m in catalog("vi") if m.id}
    for reason in reasons:
        code, values = admin_texts.reject_code(reason)
        assert code != "sync.reject.other", reason
        assert vietnamese.get(admin_texts.REJECT_TEXTS[code]), code
        said = admin_texts.reject_reason(reason, "vi")
        assert "missing" not in said and "unknown" not in said and "bad " not in said, said
        assert all(str(v) in said for v in values.values()), said
    duplicate = admin_texts.reject_reason("duplicate key in the file (first at line 4)", "vi")
    assert duplicate == "Khóa này xuất hiện nhiều lần trong tệp (lần đầu ở dòng 4)."


def test_a_runs_errors_are_said_by_their_code():
    error = "Not loaded: phones: phones.csv lacks the required column(s): cif.; due_segmentations: x"
    assert admin_texts.sync_error(error, "vi") == "Chưa nạp được: Số điện thoại, Số tiền đến hạn theo kỳ."
    assert admin_texts.sync_error("not delivered", "vi") == "Nguồn dữ liệu không gửi tệp này."
    assert admin_texts.sync_error("something new went wrong", "vi") == "Không đọc được tệp."
    assert admin_texts.entity_label("due_segmentations", "en") == "Due amounts by period"


def test_a_reconciliation_entry_is_explained_from_its_kind_and_sides():
    core = {
        "sourceSystem": "T24",
        "lineNumber": 7,
        "amount": "1250000.00",
        "currency": "VND",
        "status": "COMPLETED",
    }
    crm = {"sourceSystem": "W4", "amount": "1000000.00", "currency": "VND", "status": "REVERSED"}

    def said(kind: str, resolution: str = "FLAGGED") -> str:
        entry = {"kind": kind, "resolution": resolution, "core": core, "crm": crm}
        return admin_texts.explanation(entry, "vi").replace("\xa0", " ")

    assert said("MISSING_IN_CRM", "IMPORTED") == "Không có trong CRM: đã nhập từ T24, dòng 7 của tệp."
    assert said("MISSING_IN_CRM").startswith("Không có trong CRM và chưa được nhập")
    assert said("MISSING_IN_CORE").startswith("Do W4 ghi nhận")
    assert said("AMOUNT_MISMATCH") == "Hệ thống lõi: 1.250.000 ₫; CRM: 1.000.000 ₫."
    status = said("STATUS_MISMATCH")
    assert "COMPLETED" not in status and "REVERSED" not in status
    assert admin_texts.row_reason("amount: Input should be valid; currency: bad", "vi") == (
        "Không đọc được dòng này: kiểm tra amount, currency."
    )


def test_a_vocabulary_entry_is_shown_in_the_readers_language():
    entry = {"code": "NO_ANSWER", "label": "No answer", "labels": {"en": "No answer", "vi": "Không trả lời"}}
    assert labels.vocabulary_label(entry, "vi") == "Không trả lời"
    assert labels.vocabulary_label(entry, "en") == "No answer"
    added = {"code": "X", "label": "Asked for time", "labels": {"en": "Asked for time", "vi": None}}
    assert labels.vocabulary_label(added, "vi") == "Asked for time"  # no Vietnamese given: the English
    old = {"code": "CALL", "label": "Call"}  # an answer without labels: the catalogues
    assert labels.vocabulary_label(old, "vi") == "Cuộc gọi"


def test_an_api_refusal_names_its_fields_in_the_readers_words():
    """The API's "Invalid value for: maxCustomers." reaches a Vietnamese page as the field's words and
    what is wrong with it, from the codes."""
    refused = {"maxCustomers": ("field.not_whole_number", {}), "unlisted": ("field.missing", {})}
    assert explain_fields(refused, "vi") == [
        "Hạn mức (số khách hàng): Nhập một số nguyên.",
        "Trường này là bắt buộc.",
    ]
    assert explain_fields(refused, "en")[0] == "Capacity (customers): Enter a whole number."
    assert explain("agent.identifier_exists", {"field": "employeeId"}, "vi") == (
        "Một nhân viên khác đã có mã nhân viên này."
    )

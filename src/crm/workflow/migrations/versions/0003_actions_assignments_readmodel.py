"""Vocabularies (seeded with data-model.md's defaults), actions and promises, SCD2 assignments, and
the read model of customers, loans and payments kept from other services' events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
SCHEMA = "workflow"

# The defaults, frozen here as of this revision (later edits are data, made by an ADMIN).
TYPES = ["CALL", "SMS", "EMAIL", "LETTER", "VISIT", "MEETING", "ZALO", "LEGAL_NOTICE", "NOTE", "OTHER"]
SUBTYPES = {
    "CALL": ["CALL_OUTBOUND", "CALL_INBOUND", "CALL_FOLLOWUP"],
    "SMS": ["SMS_REMINDER"],
    "EMAIL": ["EMAIL_REMINDER", "EMAIL_STATEMENT"],
    "LETTER": [],
    "VISIT": ["VISIT_SCHEDULED", "VISIT_UNSCHEDULED"],
    "MEETING": [],
    "ZALO": [],
    "LEGAL_NOTICE": ["LEGAL_WARNING", "LEGAL_DEMAND"],
    "NOTE": [],
    "OTHER": [],
}
# code: (is_promise, is_contact, follow-up in days)
RESULTS = {
    "CONTACTED": (False, True, 3),
    "PROMISE_TO_PAY": (True, True, None),
    "PAYMENT_MADE": (False, True, None),
    "LEFT_MESSAGE": (False, False, 1),
    "NO_ANSWER": (False, False, 1),
    "NOT_CONTACTED": (False, False, 1),
    "WRONG_CONTACT": (False, False, None),
    "DISCONNECTED": (False, False, None),
    "REFUSED": (False, True, 3),
    "DISPUTE": (False, True, 7),
    "HARDSHIP_CLAIM": (False, True, 7),
    "CALLBACK_REQUESTED": (False, True, 1),
    "NOT_HOME": (False, False, 2),
    "ADDRESS_NOT_FOUND": (False, False, None),
    "PENDING": (False, False, 1),
    "OTHER": (False, False, None),
}
_TALK = ["CONTACTED", "PROMISE_TO_PAY", "PAYMENT_MADE", "REFUSED", "DISPUTE", "HARDSHIP_CLAIM", "OTHER"]
_MESSAGE = ["PENDING", "CONTACTED", "NOT_CONTACTED", "WRONG_CONTACT", "OTHER"]
TYPE_RESULTS = {
    "CALL": [
        *_TALK,
        "LEFT_MESSAGE",
        "NO_ANSWER",
        "WRONG_CONTACT",
        "DISCONNECTED",
        "CALLBACK_REQUESTED",
    ],
    "SMS": _MESSAGE,
    "EMAIL": _MESSAGE,
    "LETTER": ["PENDING", "CONTACTED", "NOT_CONTACTED", "ADDRESS_NOT_FOUND", "OTHER"],
    "VISIT": [*_TALK, "NOT_HOME", "ADDRESS_NOT_FOUND"],
    "MEETING": _TALK,
    "ZALO": [*_MESSAGE, "PROMISE_TO_PAY"],
    "LEGAL_NOTICE": ["PENDING", "CONTACTED", "NOT_CONTACTED", "ADDRESS_NOT_FOUND", "OTHER"],
    "NOTE": ["PENDING", "OTHER"],
    "OTHER": list(RESULTS),
}
CASE_STATUSES = {
    "CUSTOMER_STATUS": [
        "COOPERATIVE", "PARTIALLY_COOPERATIVE", "UNCOOPERATIVE", "UNREACHABLE", "DISPUTED", "BANKRUPT",
        "DECEASED", "LEGAL_REPRESENTATION", "UNKNOWN",
    ],
    "COLLATERAL_STATUS": [
        "SECURED", "PARTIALLY_SECURED", "AT_RISK", "DAMAGED", "MISSING", "SEIZED", "IN_LIQUIDATION",
        "LIQUIDATED", "NOT_APPLICABLE", "UNKNOWN",
    ],
    "PROCESSING_STATE_STATUS": [
        "NEW", "IN_PROGRESS", "PENDING_CUSTOMER", "PENDING_APPROVAL", "PENDING_LEGAL", "ON_HOLD",
        "ESCALATED", "RESOLVED", "CLOSED", "REOPENED",
    ],
    "LENDING_VIOLATION_STATUS": [
        "NONE", "PAYMENT_DELAY", "COVENANT_BREACH", "COLLATERAL_ISSUE", "FINANCIAL_REPORTING", "MULTIPLE",
        "SEVERE", "UNDER_INVESTIGATION", "RESOLVED", "UNKNOWN",
    ],
    "RECOVERY_ABILITY_STATUS": [
        "HIGH", "MEDIUM", "LOW", "VERY_LOW", "REQUIRES_RESTRUCTURING", "REQUIRES_LEGAL",
        "WRITE_OFF_RECOMMENDED", "UNKNOWN",
    ],
}  # fmt: skip


def _label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _now() -> sa.sql.elements.TextClause:
    return sa.text("now()")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=None)


def upgrade() -> None:
    op.create_table(
        "vocabulary_entry",
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("is_promise", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("is_contact", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("follow_up_days", sa.Integer),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("sort_order", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("kind", "code", name="pk_vocabulary_entry"),
        sa.CheckConstraint(
            "follow_up_days IS NULL OR follow_up_days >= 0",
            name="ck_vocabulary_entry_follow_up_days_non_negative",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "vocabulary_link",
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("parent_kind", sa.Text, nullable=False),
        sa.Column("parent_code", sa.Text, nullable=False),
        sa.Column("child_kind", sa.Text, nullable=False),
        sa.Column("child_code", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("link", "parent_code", "child_code", name="pk_vocabulary_link"),
        sa.ForeignKeyConstraint(
            ["parent_kind", "parent_code"],
            [f"{SCHEMA}.vocabulary_entry.kind", f"{SCHEMA}.vocabulary_entry.code"],
            name="fk_vocabulary_link_parent_kind_vocabulary_entry",
        ),
        sa.ForeignKeyConstraint(
            ["child_kind", "child_code"],
            [f"{SCHEMA}.vocabulary_entry.kind", f"{SCHEMA}.vocabulary_entry.code"],
            name="fk_vocabulary_link_child_kind_vocabulary_entry",
        ),
        schema=SCHEMA,
    )
    entry = sa.table(
        "vocabulary_entry",
        sa.column("kind"),
        sa.column("code"),
        sa.column("label"),
        sa.column("is_promise"),
        sa.column("is_contact"),
        sa.column("follow_up_days"),
        sa.column("sort_order"),
        schema=SCHEMA,
    )
    link = sa.table(
        "vocabulary_link",
        sa.column("link"),
        sa.column("parent_kind"),
        sa.column("parent_code"),
        sa.column("child_kind"),
        sa.column("child_code"),
        schema=SCHEMA,
    )
    subtypes = list(dict.fromkeys([s for codes in SUBTYPES.values() for s in codes] + ["OTHER"]))
    rows = [
        {"kind": "ACTION_TYPE", "code": c, "label": _label(c), "sort_order": i} for i, c in enumerate(TYPES)
    ]
    rows += [
        {"kind": "ACTION_SUBTYPE", "code": c, "label": _label(c), "sort_order": i}
        for i, c in enumerate(subtypes)
    ]
    rows += [
        {
            "kind": "ACTION_RESULT",
            "code": c,
            "label": _label(c),
            "is_promise": promise,
            "is_contact": contact,
            "follow_up_days": days,
            "sort_order": i,
        }
        for i, (c, (promise, contact, days)) in enumerate(RESULTS.items())
    ]
    rows += [
        {"kind": kind, "code": c, "label": _label(c), "sort_order": i}
        for kind, codes in CASE_STATUSES.items()
        for i, c in enumerate(codes)
    ]
    defaults = {"is_promise": False, "is_contact": False, "follow_up_days": None}
    op.bulk_insert(entry, [{**defaults, **row} for row in rows])
    links = [
        {"link": "TYPE_SUBTYPE", "parent_code": t, "child_kind": "ACTION_SUBTYPE", "child_code": s}
        for t, codes in SUBTYPES.items()
        for s in [*codes, "OTHER"]
    ]
    links += [
        {"link": "TYPE_RESULT", "parent_code": t, "child_kind": "ACTION_RESULT", "child_code": r}
        for t, codes in TYPE_RESULTS.items()
        for r in dict.fromkeys(codes)
    ]
    op.bulk_insert(link, [{"parent_kind": "ACTION_TYPE", **row} for row in links])

    op.create_table(
        "action_record",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("loan_account_number", sa.Text),
        sa.Column("agent_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("subtype", sa.Text),
        sa.Column("action_result", sa.Text, nullable=False),
        _ts("action_date"),
        sa.Column("notes", sa.Text),
        sa.Column("promise_amount", sa.Numeric(18, 2)),
        sa.Column("promise_date", sa.Date),
        sa.Column("promise_status", sa.Text),
        _ts("promise_settled_at", nullable=True),
        sa.Column("follow_up_date", sa.Date),
        sa.Column("dpd_at_action", sa.Integer),
        sa.Column("due_amount_at_action", sa.Numeric(18, 2)),
        sa.Column("call_trace_id", sa.Text),
        sa.Column("visit_latitude", sa.Numeric(9, 6)),
        sa.Column("visit_longitude", sa.Numeric(9, 6)),
        sa.Column("visit_address", sa.Text),
        sa.Column("rules_overridden_by", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_action_record"),
        sa.ForeignKeyConstraint(["agent_id"], [f"{SCHEMA}.agent.id"], name="fk_action_record_agent_id_agent"),
        sa.CheckConstraint(
            "promise_status IN ('OPEN', 'KEPT', 'BROKEN')", name="ck_action_record_promise_status_known"
        ),
        sa.CheckConstraint(
            "(promise_amount IS NULL) = (promise_date IS NULL)",
            name="ck_action_record_promise_amount_and_date",
        ),
        sa.CheckConstraint(
            "promise_amount IS NULL OR promise_amount > 0", name="ck_action_record_promise_amount_positive"
        ),
        sa.CheckConstraint(
            "(promise_status IS NULL) = (promise_amount IS NULL)", name="ck_action_record_promise_has_status"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_action_record_cif_action_date",
        "action_record",
        ["cif", sa.text("action_date DESC")],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_action_record_loan_action_date",
        "action_record",
        ["loan_account_number", sa.text("action_date DESC")],
        schema=SCHEMA,
        postgresql_where=sa.text("loan_account_number IS NOT NULL"),
    )
    op.create_index(
        "ix_action_record_agent_action_date",
        "action_record",
        ["agent_id", sa.text("action_date DESC")],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_action_record_open_promise_date",
        "action_record",
        ["promise_date"],
        schema=SCHEMA,
        postgresql_where=sa.text("promise_status = 'OPEN'"),
    )
    op.create_index(
        "ix_action_record_open_promise_cif",
        "action_record",
        ["cif"],
        schema=SCHEMA,
        postgresql_where=sa.text("promise_status = 'OPEN'"),
    )

    op.create_table(
        "customer_agent",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("assigned_call_agent_id", postgresql.UUID(as_uuid=True)),
        sa.Column("assigned_field_agent_id", postgresql.UUID(as_uuid=True)),
        _ts("start_date"),
        _ts("end_date", nullable=True),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_customer_agent"),
        sa.ForeignKeyConstraint(
            ["assigned_call_agent_id"],
            [f"{SCHEMA}.agent.id"],
            name="fk_customer_agent_assigned_call_agent_id_agent",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_field_agent_id"],
            [f"{SCHEMA}.agent.id"],
            name="fk_customer_agent_assigned_field_agent_id_agent",
        ),
        sa.CheckConstraint("is_current = (end_date IS NULL)", name="ck_customer_agent_current_has_no_end"),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name="ck_customer_agent_ends_after_start"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_customer_agent_current_cif",
        "customer_agent",
        ["cif"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("is_current"),
    )
    op.create_index(
        "ix_customer_agent_cif_start_date", "customer_agent", ["cif", "start_date"], schema=SCHEMA
    )
    op.create_index(
        "ix_customer_agent_current_call_agent",
        "customer_agent",
        ["assigned_call_agent_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("is_current"),
    )
    op.create_index(
        "ix_customer_agent_current_field_agent",
        "customer_agent",
        ["assigned_field_agent_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("is_current"),
    )

    op.create_table(
        "customer_view",
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("segment", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("cif", name="pk_customer_view"),
        schema=SCHEMA,
    )
    op.create_table(
        "loan_view",
        sa.Column("account_number", sa.Text, nullable=False),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("product_type", sa.Text),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("outstanding", sa.Numeric(18, 2), nullable=False),
        sa.Column("due_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("dpd", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("account_number", name="pk_loan_view"),
        schema=SCHEMA,
    )
    op.create_index("ix_loan_view_cif", "loan_view", ["cif"], schema=SCHEMA)
    op.create_table(
        "payment_view",
        sa.Column("reference_number", sa.Text, nullable=False),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("loan_account_number", sa.Text, nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        _ts("payment_date"),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("reference_number", name="pk_payment_view"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_payment_view_cif_payment_date", "payment_view", ["cif", "payment_date"], schema=SCHEMA
    )
    op.create_index(
        "ix_payment_view_loan_payment_date",
        "payment_view",
        ["loan_account_number", "payment_date"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in (
        "payment_view",
        "loan_view",
        "customer_view",
        "customer_agent",
        "action_record",
        "vocabulary_link",
        "vocabulary_entry",
    ):
        op.drop_table(table, schema=SCHEMA)

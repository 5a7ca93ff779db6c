"""Customers, loans, the payments applied to loan balances, and sync runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "bank_sync"


def _synchronized_columns() -> list[sa.Column]:
    """The SynchronizedEntity fields besides id (which comes first in each table)."""
    return [
        sa.Column("source_system", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("is_editable", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("last_synced_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    ]


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("national_id", sa.Text),
        sa.Column("gender", sa.Text),
        sa.Column("company_name", sa.Text),
        sa.Column("registration_number", sa.Text),
        sa.Column("tax_id", sa.Text),
        sa.Column("segment", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        *_synchronized_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_customer"),
        sa.UniqueConstraint("cif", name="uq_customer_cif"),
        schema=SCHEMA,
    )
    op.create_table(
        "loan",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_number", sa.Text, nullable=False),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("product_type", sa.Text, nullable=False),
        sa.Column("original_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default=sa.text("'VND'")),
        sa.Column("disbursement_date", sa.Date, nullable=False),
        sa.Column("maturity_date", sa.Date, nullable=False),
        sa.Column("interest_rate", sa.Numeric(8, 4), nullable=False, comment="percent per year"),
        sa.Column("term", sa.Integer, nullable=False, comment="months"),
        sa.Column("payment_frequency", sa.Text, nullable=False),
        sa.Column("limit_amount", sa.Numeric(18, 2)),
        sa.Column("outstanding", sa.Numeric(18, 2), nullable=False),
        sa.Column("remaining_amount", sa.Numeric(18, 2), nullable=False, comment="outstanding - due_amount"),
        sa.Column("due_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("min_pay", sa.Numeric(18, 2)),
        sa.Column("next_payment_date", sa.Date),
        sa.Column("dpd", sa.Integer, nullable=False, comment="days past due"),
        sa.Column("delinquency_status", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("close_date", sa.Date),
        sa.Column("resolution_code", sa.Text),
        sa.Column("resolution_notes", sa.Text),
        *_synchronized_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_loan"),
        sa.UniqueConstraint("account_number", name="uq_loan_account_number"),
        sa.ForeignKeyConstraint(["cif"], [f"{SCHEMA}.customer.cif"], name="fk_loan_cif_customer"),
        sa.CheckConstraint("dpd >= 0", name="ck_loan_dpd_non_negative"),
        schema=SCHEMA,
    )
    op.create_index("ix_loan_cif", "loan", ["cif"], schema=SCHEMA)
    op.create_table(
        "loan_payment_applied",
        sa.Column("payment_reference_number", sa.Text, nullable=False),
        sa.Column("loan_account_number", sa.Text, nullable=False),
        sa.Column("applied_outstanding", sa.Numeric(18, 2), nullable=False),
        sa.Column("applied_due", sa.Numeric(18, 2), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("reversed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("payment_reference_number", name="pk_loan_payment_applied"),
        sa.ForeignKeyConstraint(
            ["loan_account_number"],
            [f"{SCHEMA}.loan.account_number"],
            name="fk_loan_payment_applied_loan_account_number_loan",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "sync_run",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("source_system", sa.Text, nullable=False),
        sa.Column("entity_type", sa.Text),
        sa.Column("business_date", sa.Date),
        sa.Column("state", sa.Text, nullable=False, server_default=sa.text("'QUEUED'")),
        sa.Column("counts", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("error", sa.Text),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_sync_run"),
        sa.CheckConstraint(
            "state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')", name="ck_sync_run_state_known"
        ),
        schema=SCHEMA,
    )
    # At most one QUEUED-or-RUNNING run per source system, enforced by the database.
    op.create_index(
        "ix_sync_run_source_system",
        "sync_run",
        ["source_system"],
        unique=True,
        postgresql_where=sa.text("state IN ('QUEUED', 'RUNNING')"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_sync_run_source_system_created_at", "sync_run", ["source_system", "created_at"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("sync_run", schema=SCHEMA)
    op.drop_table("loan_payment_applied", schema=SCHEMA)
    op.drop_table("loan", schema=SCHEMA)
    op.drop_table("customer", schema=SCHEMA)

"""Reconciliation reports: one per business date, with its discrepancies.

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
SCHEMA = "payments"


def upgrade() -> None:
    op.create_table(
        "reconciliation_report",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column(
            "sources",
            postgresql.ARRAY(sa.Text),
            nullable=False,
            comment="the core systems whose file was compared",
        ),
        sa.Column(
            "core_rows", sa.Integer, nullable=False, comment="valid core rows dated on the business date"
        ),
        sa.Column("crm_rows", sa.Integer, nullable=False, comment="CRM payments dated on the business date"),
        sa.Column("matched", sa.Integer, nullable=False),
        sa.Column("missing_in_crm", sa.Integer, nullable=False),
        sa.Column("missing_in_core", sa.Integer, nullable=False),
        sa.Column("amount_mismatch", sa.Integer, nullable=False),
        sa.Column("status_mismatch", sa.Integer, nullable=False),
        sa.Column(
            "rejected", sa.Integer, nullable=False, comment="core rows that could not be read or validated"
        ),
        sa.Column("rejects", postgresql.JSONB, nullable=False),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("run_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation_report"),
        sa.UniqueConstraint("business_date", name="uq_reconciliation_report_business_date"),
        schema=SCHEMA,
    )
    op.create_table(
        "reconciliation_discrepancy",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("report_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("reference_number", sa.Text, nullable=False),
        sa.Column("core", postgresql.JSONB),
        sa.Column("crm", postgresql.JSONB),
        sa.Column("resolution", sa.Text, nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation_discrepancy"),
        sa.UniqueConstraint("report_id", "position", name="uq_reconciliation_discrepancy_report_id_position"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            [f"{SCHEMA}.reconciliation_report.id"],
            name="fk_reconciliation_discrepancy_report_id_reconciliation_report",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "kind IN ('MISSING_IN_CRM', 'MISSING_IN_CORE', 'AMOUNT_MISMATCH', 'STATUS_MISMATCH')",
            name="ck_reconciliation_discrepancy_kind",
        ),
        sa.CheckConstraint(
            "resolution IN ('IMPORTED', 'FLAGGED')", name="ck_reconciliation_discrepancy_resolution"
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("reconciliation_discrepancy", schema=SCHEMA)
    op.drop_table("reconciliation_report", schema=SCHEMA)

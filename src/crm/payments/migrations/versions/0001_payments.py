"""Payments and the platform tables of the payments schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crm.platform.migrations import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
SCHEMA = "payments"


def upgrade() -> None:
    create_platform_tables(SCHEMA)
    op.create_table(
        "payment",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("reference_number", sa.Text, nullable=False),
        sa.Column("loan_account_number", sa.Text, nullable=False),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payment_channel", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_reason", sa.Text),
        sa.Column("source_system", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("is_editable", sa.Boolean, nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_payment"),
        sa.UniqueConstraint("reference_number", name="uq_payment_reference_number"),
        sa.CheckConstraint("amount > 0", name="ck_payment_amount_positive"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_payment_loan_account_number_payment_date",
        "payment",
        ["loan_account_number", "payment_date"],
        schema=SCHEMA,
    )
    op.create_index("ix_payment_cif_payment_date", "payment", ["cif", "payment_date"], schema=SCHEMA)
    op.create_index("ix_payment_payment_date", "payment", ["payment_date"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("payment", schema=SCHEMA)
    for table in ("audit_log", "processed_event", "outbox_event"):
        op.drop_table(table, schema=SCHEMA)

"""Agents and customer case actions.

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
SCHEMA = "workflow"


def upgrade() -> None:
    op.create_table(
        "agent",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("employee_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("phone", sa.Text),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("team", sa.Text, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("max_customers", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_agent"),
        sa.UniqueConstraint("employee_id", name="uq_agent_employee_id"),
        sa.UniqueConstraint("user_id", name="uq_agent_user_id"),
        sa.CheckConstraint("max_customers >= 0", name="ck_agent_max_customers_non_negative"),
        schema=SCHEMA,
    )
    op.create_table(
        "customer_case_action",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("action_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("customer_status", sa.Text),
        sa.Column("collateral_status", sa.Text),
        sa.Column("processing_state_status", sa.Text),
        sa.Column("lending_violation_status", sa.Text),
        sa.Column("recovery_ability_status", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_customer_case_action"),
        sa.CheckConstraint(
            "num_nonnulls(notes, customer_status, collateral_status, processing_state_status, "
            "lending_violation_status, recovery_ability_status) > 0",
            name="ck_customer_case_action_has_content",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_customer_case_action_cif_action_date",
        "customer_case_action",
        ["cif", "action_date"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("customer_case_action", schema=SCHEMA)
    op.drop_table("agent", schema=SCHEMA)

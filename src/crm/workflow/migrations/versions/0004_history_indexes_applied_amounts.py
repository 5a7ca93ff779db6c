"""Indexes for an agent's assignment history and settled promises; what each payment took off its
loan in the read model, so that a reversal puts back exactly that.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
SCHEMA = "workflow"


def upgrade() -> None:
    op.create_index(
        "ix_customer_agent_call_agent_start",
        "customer_agent",
        ["assigned_call_agent_id", "start_date"],
        schema=SCHEMA,
        postgresql_where=sa.text("assigned_call_agent_id IS NOT NULL"),
    )
    op.create_index(
        "ix_customer_agent_field_agent_start",
        "customer_agent",
        ["assigned_field_agent_id", "start_date"],
        schema=SCHEMA,
        postgresql_where=sa.text("assigned_field_agent_id IS NOT NULL"),
    )
    op.create_index(
        "ix_action_record_agent_settled",
        "action_record",
        ["agent_id", "promise_settled_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("promise_settled_at IS NOT NULL"),
    )
    op.add_column("payment_view", sa.Column("applied_outstanding", sa.Numeric(18, 2)), schema=SCHEMA)
    op.add_column("payment_view", sa.Column("applied_due", sa.Numeric(18, 2)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("payment_view", "applied_due", schema=SCHEMA)
    op.drop_column("payment_view", "applied_outstanding", schema=SCHEMA)
    op.drop_index("ix_action_record_agent_settled", "action_record", schema=SCHEMA)
    op.drop_index("ix_customer_agent_field_agent_start", "customer_agent", schema=SCHEMA)
    op.drop_index("ix_customer_agent_call_agent_start", "customer_agent", schema=SCHEMA)

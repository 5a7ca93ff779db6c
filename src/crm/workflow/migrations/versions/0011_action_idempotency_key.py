"""The ``Idempotency-Key`` of ``POST /api/actions``: a repeated submit answers the action it recorded.

A key is unique per caller (``created_by``), only among the actions recorded with one.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None
SCHEMA = "workflow"


def upgrade() -> None:
    op.add_column("action_record", sa.Column("idempotency_key", sa.Text()), schema=SCHEMA)
    op.create_index(
        "uq_action_record_idempotency",
        "action_record",
        ["created_by", "idempotency_key"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_action_record_idempotency", table_name="action_record", schema=SCHEMA)
    op.drop_column("action_record", "idempotency_key", schema=SCHEMA)

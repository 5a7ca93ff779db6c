"""Users and the platform tables of the identity schema.

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
SCHEMA = "identity"


def upgrade() -> None:
    create_platform_tables(SCHEMA)
    op.create_table(
        "app_user",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("agent_id", sa.Text),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_app_user"),
        sa.UniqueConstraint("username", name="uq_app_user_username"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("app_user", schema=SCHEMA)
    for table in ("audit_log", "processed_event", "outbox_event"):
        op.drop_table(table, schema=SCHEMA)

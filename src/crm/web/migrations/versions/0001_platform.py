"""The platform tables of the web schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from crm.platform.migrations import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
SCHEMA = "web"


def upgrade() -> None:
    create_platform_tables(SCHEMA)


def downgrade() -> None:
    from alembic import op

    for table in ("audit_log", "processed_event", "outbox_event"):
        op.drop_table(table, schema=SCHEMA)

"""Signed-in sessions and user preferences of the web UI.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "web"


def _ts(name: str, default: bool = True) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()") if default else None
    )


def upgrade() -> None:
    op.create_table(
        "session",
        sa.Column("id_hash", sa.Text, nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("agent_id", sa.Text),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("csrf_token", sa.Text, nullable=False),
        _ts("created_at"),
        _ts("last_seen_at"),
        _ts("expires_at", default=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_session"),
        schema=SCHEMA,
    )
    op.create_index("ix_session_expires_at", "session", ["expires_at"], schema=SCHEMA)
    op.create_table(
        "preference",
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("username", name="pk_preference"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("preference", schema=SCHEMA)
    op.drop_table("session", schema=SCHEMA)

"""Failed sign-ins counted per username and per client address, shared by every process.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "identity"


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.CheckConstraint("kind IN ('username', 'address')", name="ck_sign_in_failure_kind"),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_sign_in_failure"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("sign_in_failure", schema=SCHEMA)

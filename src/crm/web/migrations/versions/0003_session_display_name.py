"""The name the header shows for a signed-in user (an agent's name, not its login).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
SCHEMA = "web"


def upgrade() -> None:
    op.add_column("session", sa.Column("display_name", sa.Text), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("session", "display_name", schema=SCHEMA)

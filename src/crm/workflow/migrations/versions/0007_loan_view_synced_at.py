"""When bank-sync read each loan snapshot from the core (``loan_view.synced_at``), so that a payment
the snapshot already includes is not taken off its balances a second time.

Rows stored before this revision have no time (NULL): every payment is taken off them, as before,
until the loan's next snapshot.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
SCHEMA = "workflow"


def upgrade() -> None:
    op.add_column("loan_view", sa.Column("synced_at", sa.DateTime(timezone=True)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("loan_view", "synced_at", schema=SCHEMA)

"""What each applied payment was (its amount and when it was made), so that a load can take the
payments made since its snapshot's cut off the fresh balances again.

Rows applied before this revision have neither (NULL): a load leaves them alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
SCHEMA = "bank_sync"


def upgrade() -> None:
    op.add_column("loan_payment_applied", sa.Column("amount", sa.Numeric(18, 2)), schema=SCHEMA)
    op.add_column("loan_payment_applied", sa.Column("paid_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.create_index(
        "ix_loan_payment_applied_paid_at",
        "loan_payment_applied",
        ["paid_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("reversed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_loan_payment_applied_paid_at", "loan_payment_applied", schema=SCHEMA)
    op.drop_column("loan_payment_applied", "paid_at", schema=SCHEMA)
    op.drop_column("loan_payment_applied", "amount", schema=SCHEMA)

"""A payment whose loan could not be checked yet (bank-sync unreachable when it arrived).

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
SCHEMA = "payments"


def upgrade() -> None:
    op.add_column(
        "payment",
        sa.Column(
            "loan_check_pending",
            sa.Boolean,
            nullable=False,
            server_default=sa.text("false"),
            comment="stored PENDING because bank-sync could not confirm the loan; confirmed later",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_payment_loan_check_pending",
        "payment",
        ["created_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("loan_check_pending"),
    )


def downgrade() -> None:
    op.drop_index("ix_payment_loan_check_pending", "payment", schema=SCHEMA)
    op.drop_column("payment", "loan_check_pending", schema=SCHEMA)

"""Read API: a CIF prefix index (the search box matches CIFs by prefix).

The unique index on ``customer.cif`` uses the database collation, which serves ``LIKE 'abc%'`` only
under the C collation; ``text_pattern_ops`` serves it under any collation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
SCHEMA = "bank_sync"


def upgrade() -> None:
    op.execute(f"CREATE INDEX ix_customer_cif_pattern ON {SCHEMA}.customer (cif text_pattern_ops)")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {SCHEMA}.ix_customer_cif_pattern")

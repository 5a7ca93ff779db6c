"""Row fingerprints for the sync's fast path; no foreign keys between synchronized tables.

``sync_hash`` holds a fingerprint of the source row that was last loaded, so that tomorrow's
identical row is recognised without validating, casting and comparing each column again.

The foreign keys between synchronized tables go: the pipeline already rejects orphans set-based
(anti-joins against the parents, with a reason per row), so the constraints only re-checked the
same thing row by row, which cost a third of a first load (docs/benchmarks.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
SCHEMA = "bank_sync"
SYNCHRONIZED = (
    "customer",
    "reference_customer",
    "phone",
    "address",
    "email",
    "loan",
    "collateral",
    "loan_collateral",
    "due_segmentation",
)
FOREIGN_KEYS = (
    ("loan", "fk_loan_cif_customer", ["cif"], "customer", ["cif"]),
    ("address", "fk_address_cif_customer", ["cif"], "customer", ["cif"]),
    ("email", "fk_email_cif_customer", ["cif"], "customer", ["cif"]),
    (
        "reference_customer",
        "fk_reference_customer_primary_cif_customer",
        ["primary_cif"],
        "customer",
        ["cif"],
    ),
    ("collateral", "fk_collateral_cif_customer", ["cif"], "customer", ["cif"]),
    (
        "loan_collateral",
        "fk_loan_collateral_loan_account_number_loan",
        ["loan_account_number"],
        "loan",
        ["account_number"],
    ),
    (
        "loan_collateral",
        "fk_loan_collateral_collateral_number_collateral",
        ["collateral_number"],
        "collateral",
        ["collateral_number"],
    ),
    (
        "due_segmentation",
        "fk_due_segmentation_loan_account_number_loan",
        ["loan_account_number"],
        "loan",
        ["account_number"],
    ),
)


def upgrade() -> None:
    for table in SYNCHRONIZED:
        op.add_column(
            table,
            sa.Column(
                "sync_hash",
                postgresql.UUID(as_uuid=True),
                comment="fingerprint of the source row last loaded; NULL once the CRM changed the record itself",
            ),
            schema=SCHEMA,
        )
    for table, name, *_ in FOREIGN_KEYS:
        op.drop_constraint(name, table, schema=SCHEMA, type_="foreignkey")


def downgrade() -> None:
    for table, name, columns, parent, parent_columns in FOREIGN_KEYS:
        op.create_foreign_key(
            name, table, parent, columns, parent_columns, source_schema=SCHEMA, referent_schema=SCHEMA
        )
    for table in SYNCHRONIZED:
        op.drop_column(table, "sync_hash", schema=SCHEMA)

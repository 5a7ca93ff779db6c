"""Contacts, references, collaterals, due segmentation, sync rejects and state; search indexes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
SCHEMA = "bank_sync"


def _synchronized() -> list[sa.Column]:
    return [
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("source_system", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("is_editable", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("last_synced_at", sa.DateTime(timezone=True)),
        sa.Column(
            "missing_since",
            sa.DateTime(timezone=True),
            comment="set when a full snapshot of its source no longer has the record (stale)",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    ]


def upgrade() -> None:
    # Contrib extensions the search needs (a production DBA may have created them already).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    # unaccent() is only STABLE; an index needs an IMMUTABLE wrapper with a fixed dictionary.
    op.execute(
        f"""CREATE OR REPLACE FUNCTION {SCHEMA}.search_text(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$"""
    )
    for table in ("customer", "loan"):
        op.add_column(
            table,
            sa.Column(
                "missing_since",
                sa.DateTime(timezone=True),
                comment="set when a full snapshot of its source no longer has the record (stale)",
            ),
            schema=SCHEMA,
        )

    op.create_table(
        "phone",
        *_synchronized(),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("is_primary", sa.Boolean, nullable=False),
        sa.Column("is_verified", sa.Boolean, nullable=False),
        sa.Column("verification_date", sa.Date),
        sa.PrimaryKeyConstraint("id", name="pk_phone"),
        sa.UniqueConstraint("cif", "type", "number", name="uq_phone_cif_type_number"),
        schema=SCHEMA,
    )
    op.create_index("ix_phone_number", "phone", ["number"], schema=SCHEMA)

    op.create_table(
        "address",
        *_synchronized(),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("address_line1", sa.Text, nullable=False),
        sa.Column("address_line2", sa.Text),
        sa.Column("city", sa.Text, nullable=False),
        sa.Column("district", sa.Text),
        sa.Column("state", sa.Text),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("is_primary", sa.Boolean, nullable=False),
        sa.Column("is_verified", sa.Boolean, nullable=False),
        sa.Column("verification_date", sa.Date),
        sa.PrimaryKeyConstraint("id", name="pk_address"),
        sa.UniqueConstraint("cif", "type", name="uq_address_cif_type"),
        sa.ForeignKeyConstraint(["cif"], [f"{SCHEMA}.customer.cif"], name="fk_address_cif_customer"),
        schema=SCHEMA,
    )

    op.create_table(
        "email",
        *_synchronized(),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("is_primary", sa.Boolean, nullable=False),
        sa.Column("is_verified", sa.Boolean, nullable=False),
        sa.Column("verification_date", sa.Date),
        sa.PrimaryKeyConstraint("id", name="pk_email"),
        sa.UniqueConstraint("cif", "address", name="uq_email_cif_address"),
        sa.ForeignKeyConstraint(["cif"], [f"{SCHEMA}.customer.cif"], name="fk_email_cif_customer"),
        schema=SCHEMA,
    )

    op.create_table(
        "reference_customer",
        *_synchronized(),
        sa.Column("primary_cif", sa.Text, nullable=False),
        sa.Column("ref_cif", sa.Text, nullable=False),
        sa.Column("relationship_type", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("national_id", sa.Text),
        sa.Column("gender", sa.Text),
        sa.Column("company_name", sa.Text),
        sa.Column("registration_number", sa.Text),
        sa.Column("tax_id", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_reference_customer"),
        sa.UniqueConstraint("primary_cif", "ref_cif", name="uq_reference_customer_primary_cif_ref_cif"),
        sa.ForeignKeyConstraint(
            ["primary_cif"], [f"{SCHEMA}.customer.cif"], name="fk_reference_customer_primary_cif_customer"
        ),
        schema=SCHEMA,
    )
    op.create_index("ix_reference_customer_ref_cif", "reference_customer", ["ref_cif"], schema=SCHEMA)

    op.create_table(
        "collateral",
        *_synchronized(),
        sa.Column("collateral_number", sa.Text, nullable=False),
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("value", sa.Numeric(18, 2), nullable=False),
        sa.Column("valuation_date", sa.Date),
        sa.Column("make", sa.Text),
        sa.Column("model", sa.Text),
        sa.Column("year", sa.Integer),
        sa.Column("vin", sa.Text),
        sa.Column("license_plate", sa.Text),
        sa.Column("property_type", sa.Text),
        sa.Column("address", sa.Text),
        sa.Column("size", sa.Numeric(12, 2), comment="square metres"),
        sa.Column("title_number", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_collateral"),
        sa.UniqueConstraint("collateral_number", name="uq_collateral_collateral_number"),
        sa.ForeignKeyConstraint(["cif"], [f"{SCHEMA}.customer.cif"], name="fk_collateral_cif_customer"),
        schema=SCHEMA,
    )
    op.create_index("ix_collateral_cif", "collateral", ["cif"], schema=SCHEMA)

    op.create_table(
        "loan_collateral",
        *_synchronized(),
        sa.Column("loan_account_number", sa.Text, nullable=False),
        sa.Column("collateral_number", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_loan_collateral"),
        sa.UniqueConstraint(
            "loan_account_number",
            "collateral_number",
            name="uq_loan_collateral_loan_account_number_collateral_number",
        ),
        sa.ForeignKeyConstraint(
            ["loan_account_number"],
            [f"{SCHEMA}.loan.account_number"],
            name="fk_loan_collateral_loan_account_number_loan",
        ),
        sa.ForeignKeyConstraint(
            ["collateral_number"],
            [f"{SCHEMA}.collateral.collateral_number"],
            name="fk_loan_collateral_collateral_number_collateral",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_loan_collateral_collateral_number", "loan_collateral", ["collateral_number"], schema=SCHEMA
    )

    op.create_table(
        "due_segmentation",
        *_synchronized(),
        sa.Column("loan_account_number", sa.Text, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("principal_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("interest_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("fees_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("penalty_amount", sa.Numeric(18, 2), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_due_segmentation"),
        sa.UniqueConstraint(
            "loan_account_number", "due_date", name="uq_due_segmentation_loan_account_number_due_date"
        ),
        sa.ForeignKeyConstraint(
            ["loan_account_number"],
            [f"{SCHEMA}.loan.account_number"],
            name="fk_due_segmentation_loan_account_number_loan",
        ),
        schema=SCHEMA,
    )

    op.create_table(
        "sync_reject",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("run_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("line_number", sa.BigInteger),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("row", postgresql.JSONB),
        sa.PrimaryKeyConstraint("id", name="pk_sync_reject"),
        sa.ForeignKeyConstraint(
            ["run_id"], [f"{SCHEMA}.sync_run.id"], name="fk_sync_reject_run_id_sync_run", ondelete="CASCADE"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_sync_reject_run_id_entity_type_line_number",
        "sync_reject",
        ["run_id", "entity_type", "line_number"],
        schema=SCHEMA,
    )

    op.create_table(
        "sync_entity_state",
        sa.Column("source_system", sa.Text, nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("last_snapshot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_date", sa.Date),
        sa.Column("run_id", postgresql.UUID(as_uuid=True)),
        sa.PrimaryKeyConstraint("source_system", "entity_type", name="pk_sync_entity_state"),
        schema=SCHEMA,
    )

    # Search: accent-insensitive name (trigram), national id, e-mail, phone; delinquency search.
    op.execute(
        f"CREATE INDEX ix_customer_name_search ON {SCHEMA}.customer "
        f"USING gin ({SCHEMA}.search_text(name) gin_trgm_ops)"
    )
    op.execute(f"CREATE INDEX ix_customer_national_id ON {SCHEMA}.customer (national_id)")
    op.execute(f"CREATE INDEX ix_email_address_lower ON {SCHEMA}.email (lower(address))")
    op.execute(
        f"CREATE INDEX ix_loan_delinquent_dpd ON {SCHEMA}.loan (dpd) WHERE status = 'OPEN' AND dpd > 0"
    )
    op.execute(f"CREATE INDEX ix_loan_product_type_dpd ON {SCHEMA}.loan (product_type, dpd)")
    op.execute(f"CREATE INDEX ix_loan_delinquency_status_dpd ON {SCHEMA}.loan (delinquency_status, dpd)")


def downgrade() -> None:
    for index in (
        "ix_loan_delinquency_status_dpd",
        "ix_loan_product_type_dpd",
        "ix_loan_delinquent_dpd",
        "ix_customer_national_id",
        "ix_customer_name_search",
    ):
        op.execute(f"DROP INDEX IF EXISTS {SCHEMA}.{index}")
    for table in (
        "sync_entity_state",
        "sync_reject",
        "due_segmentation",
        "loan_collateral",
        "collateral",
        "reference_customer",
        "email",
        "address",
        "phone",
    ):
        op.drop_table(table, schema=SCHEMA)
    for table in ("loan", "customer"):
        op.drop_column(table, "missing_since", schema=SCHEMA)
    op.execute(f"DROP FUNCTION IF EXISTS {SCHEMA}.search_text(text)")

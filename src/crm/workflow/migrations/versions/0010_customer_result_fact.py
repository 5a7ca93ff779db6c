"""Each customer's latest action result on one row, and indexes for the customer list.

The customer list (``GET /api/workflow/customers``) filters and sorts every customer workflow knows
by the queue's facts (``customer_queue_fact``) and by the result of the newest action. That result
is kept in its own table, ``customer_result_fact``, by statement triggers on ``action_record`` of
their own (the queue's function and triggers are left as they are): the newest action's result and
date, and the result of the newest action that reached the customer (``is_contact``).

Locking follows ``refresh_queue_facts`` (migration 0005): the customers' rows are created, locked in
cif order, and only then computed, in a VOLATILE function, so the last writer counts every committed
action.

The list sorts by worst dpd or total due (an index each keeps the first page a short index range on a
million customers) and filters by product through ``loan_view`` (an index on product and cif).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None
SCHEMA = "workflow"

REFRESH_FUNCTION = """
CREATE FUNCTION workflow.refresh_result_facts(cifs text[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF cifs IS NULL OR cardinality(cifs) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO workflow.customer_result_fact (cif)
    SELECT DISTINCT c FROM unnest(cifs) AS c ORDER BY c
    ON CONFLICT (cif) DO NOTHING;
    PERFORM 1 FROM workflow.customer_result_fact
    WHERE cif = ANY (cifs) ORDER BY cif FOR UPDATE;

    UPDATE workflow.customer_result_fact f
    SET last_result = last_action.action_result,
        last_result_at = last_action.action_date,
        last_contact_result = contact.action_result,
        updated_at = now()
    FROM (SELECT DISTINCT c AS cif FROM unnest(cifs) AS c) k
    LEFT JOIN LATERAL (
        SELECT a.action_result, a.action_date
        FROM workflow.action_record a WHERE a.cif = k.cif
        ORDER BY a.action_date DESC LIMIT 1
    ) last_action ON true
    LEFT JOIN LATERAL (
        SELECT a.action_result
        FROM workflow.action_record a
        JOIN workflow.vocabulary_entry v
          ON v.kind = 'ACTION_RESULT' AND v.code = a.action_result AND v.is_contact
        WHERE a.cif = k.cif
        ORDER BY a.action_date DESC LIMIT 1
    ) contact ON true
    WHERE f.cif = k.cif;
END
$$;
"""

TRIGGER_FUNCTION = """
CREATE FUNCTION workflow.result_facts_after_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workflow.refresh_result_facts(ARRAY(SELECT DISTINCT cif FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM workflow.refresh_result_facts(
            ARRAY(SELECT cif FROM new_rows UNION SELECT cif FROM old_rows));
    ELSE
        PERFORM workflow.refresh_result_facts(ARRAY(SELECT DISTINCT cif FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
"""

REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}

FACT_INDEXES = {
    "ix_customer_queue_fact_max_dpd": ["max_dpd", "cif"],
    "ix_customer_queue_fact_total_due": ["total_due", "cif"],
}


def upgrade() -> None:
    # The list's name search folds accents (a production DBA may have created it already).
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.create_table(
        "customer_result_fact",
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("last_result", sa.Text),
        sa.Column("last_result_at", sa.DateTime(timezone=True)),
        sa.Column("last_contact_result", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("cif", name="pk_customer_result_fact"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_customer_result_fact_last_result", "customer_result_fact", ["last_result", "cif"], schema=SCHEMA
    )
    for name, columns in FACT_INDEXES.items():
        op.create_index(name, "customer_queue_fact", columns, schema=SCHEMA)
    # the product filter: the customers holding a product, without reading every loan
    op.create_index("ix_loan_view_product_type_cif", "loan_view", ["product_type", "cif"], schema=SCHEMA)
    op.execute(REFRESH_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    for event, referencing in REFERENCING.items():
        op.execute(
            f"CREATE TRIGGER result_facts_after_{event.lower()} AFTER {event} ON {SCHEMA}.action_record "
            f"{referencing} FOR EACH STATEMENT "
            "EXECUTE FUNCTION workflow.result_facts_after_statement()"
        )
    op.execute("SELECT workflow.refresh_result_facts(ARRAY(SELECT DISTINCT cif FROM workflow.action_record))")


def downgrade() -> None:
    for event in REFERENCING:
        op.execute(f"DROP TRIGGER result_facts_after_{event.lower()} ON {SCHEMA}.action_record")
    op.execute("DROP FUNCTION workflow.result_facts_after_statement()")
    op.execute("DROP FUNCTION workflow.refresh_result_facts(text[])")
    op.drop_index("ix_loan_view_product_type_cif", "loan_view", schema=SCHEMA)
    for name in FACT_INDEXES:
        op.drop_index(name, "customer_queue_fact", schema=SCHEMA)
    op.drop_table("customer_result_fact", schema=SCHEMA)

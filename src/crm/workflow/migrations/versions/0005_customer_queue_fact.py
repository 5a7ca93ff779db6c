"""Each customer's call-queue facts on one row, kept by triggers on the tables they come from.

An agent's queue used to rank every current customer of the agent by probing ``loan_view`` and
``action_record`` four times each per customer (about 17,000 index probes for a book of 3,333
customers, 60-90 ms warm and seconds cold at 10 M actions). ``customer_queue_fact`` holds what the
ranking needs, so the queue reads one row per customer by primary key.

The facts do not depend on the day: the queue compares them with "today" when it reads them.

``workflow.refresh_queue_facts(cifs)`` recomputes the facts of some customers from ``loan_view``,
``action_record`` and the ACTION_RESULT vocabulary. Statement-level triggers on ``loan_view`` and
``action_record`` call it with the customers each statement touched, so every write path (the API,
the event consumers, the promise round, a repair by hand) keeps the facts without knowing of them.

Concurrency: the function first locks the customers' fact rows (creating the missing ones), in cif
order, and only then computes. It is VOLATILE, so that computation runs on a fresh snapshot taken
after the lock was granted: a concurrent transaction that wrote the same customer has committed by
then and its rows are counted; the last writer always recomputes from everything committed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
SCHEMA = "workflow"

REFRESH_FUNCTION = """
CREATE FUNCTION workflow.refresh_queue_facts(cifs text[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF cifs IS NULL OR cardinality(cifs) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO workflow.customer_queue_fact (cif)
    SELECT DISTINCT c FROM unnest(cifs) AS c ORDER BY c
    ON CONFLICT (cif) DO NOTHING;
    PERFORM 1 FROM workflow.customer_queue_fact
    WHERE cif = ANY (cifs) ORDER BY cif FOR UPDATE;

    UPDATE workflow.customer_queue_fact f
    SET max_dpd = loans.max_dpd,
        total_due = loans.total_due,
        total_outstanding = loans.total_outstanding,
        last_action_date = last_action.action_date,
        follow_up_date = last_action.follow_up_date,
        last_contact_at = contact.action_date,
        open_promise_date = open_promise.promise_date,
        open_promise_amount = open_promise.promise_amount,
        broken_settled_at = broken.promise_settled_at,
        broken_promise_date = broken.promise_date,
        broken_promise_amount = broken.promise_amount,
        updated_at = now()
    FROM (SELECT DISTINCT c AS cif FROM unnest(cifs) AS c) k
    CROSS JOIN LATERAL (
        SELECT coalesce(max(l.dpd), 0) AS max_dpd,
               coalesce(sum(l.due_amount), 0) AS total_due,
               coalesce(sum(l.outstanding), 0) AS total_outstanding
        FROM workflow.loan_view l WHERE l.cif = k.cif
    ) loans
    LEFT JOIN LATERAL (  -- the newest action: its date and follow-up
        SELECT a.action_date, a.follow_up_date
        FROM workflow.action_record a WHERE a.cif = k.cif
        ORDER BY a.action_date DESC LIMIT 1
    ) last_action ON true
    LEFT JOIN LATERAL (  -- the newest action that reached the customer
        SELECT a.action_date
        FROM workflow.action_record a
        JOIN workflow.vocabulary_entry v
          ON v.kind = 'ACTION_RESULT' AND v.code = a.action_result AND v.is_contact
        WHERE a.cif = k.cif
        ORDER BY a.action_date DESC LIMIT 1
    ) contact ON true
    LEFT JOIN LATERAL (  -- the OPEN promise that falls due first
        SELECT a.promise_date, a.promise_amount
        FROM workflow.action_record a
        WHERE a.cif = k.cif AND a.promise_status = 'OPEN'
        ORDER BY a.promise_date, a.action_date DESC LIMIT 1
    ) open_promise ON true
    LEFT JOIN LATERAL (  -- the last BROKEN promise, unless a newer promise was made since
        SELECT a.promise_settled_at, a.promise_date, a.promise_amount
        FROM workflow.action_record a
        WHERE a.cif = k.cif AND a.promise_status = 'BROKEN'
          AND NOT EXISTS (
              SELECT 1 FROM workflow.action_record n
              WHERE n.cif = a.cif AND n.promise_amount IS NOT NULL AND n.action_date > a.action_date
          )
        ORDER BY a.promise_settled_at DESC LIMIT 1
    ) broken ON true
    WHERE f.cif = k.cif;
END
$$;
"""

# One function for every trigger: the customers of the rows the statement inserted, changed or deleted.
TRIGGER_FUNCTION = """
CREATE FUNCTION workflow.queue_facts_after_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM workflow.refresh_queue_facts(ARRAY(SELECT DISTINCT cif FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM workflow.refresh_queue_facts(
            ARRAY(SELECT cif FROM new_rows UNION SELECT cif FROM old_rows));
    ELSE
        PERFORM workflow.refresh_queue_facts(ARRAY(SELECT DISTINCT cif FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
"""

TABLES = ("loan_view", "action_record")
REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        "customer_queue_fact",
        sa.Column("cif", sa.Text, nullable=False),
        sa.Column("max_dpd", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("total_due", sa.Numeric(20, 2), nullable=False, server_default=sa.text("0")),
        sa.Column("total_outstanding", sa.Numeric(20, 2), nullable=False, server_default=sa.text("0")),
        sa.Column("last_action_date", sa.DateTime(timezone=True)),
        sa.Column("follow_up_date", sa.Date),
        sa.Column("last_contact_at", sa.DateTime(timezone=True)),
        sa.Column("open_promise_date", sa.Date),
        sa.Column("open_promise_amount", sa.Numeric(18, 2)),
        sa.Column("broken_settled_at", sa.DateTime(timezone=True)),
        sa.Column("broken_promise_date", sa.Date),
        sa.Column("broken_promise_amount", sa.Numeric(18, 2)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("cif", name="pk_customer_queue_fact"),
        schema=SCHEMA,
    )
    op.execute(REFRESH_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    for table in TABLES:
        for event, referencing in REFERENCING.items():
            op.execute(
                f"CREATE TRIGGER queue_facts_after_{event.lower()} AFTER {event} ON {SCHEMA}.{table} "
                f"{referencing} FOR EACH STATEMENT "
                "EXECUTE FUNCTION workflow.queue_facts_after_statement()"
            )
    # the customers already known
    op.execute(
        "SELECT workflow.refresh_queue_facts(ARRAY("
        "SELECT cif FROM workflow.loan_view UNION SELECT cif FROM workflow.action_record))"
    )


def downgrade() -> None:
    for table in TABLES:
        for event in REFERENCING:
            op.execute(f"DROP TRIGGER queue_facts_after_{event.lower()} ON {SCHEMA}.{table}")
    op.execute("DROP FUNCTION workflow.queue_facts_after_statement()")
    op.execute("DROP FUNCTION workflow.refresh_queue_facts(text[])")
    op.drop_table("customer_queue_fact", schema=SCHEMA)

"""The result of each customer's newest action (table ``customer_result_fact``), and the indexes the
customer list reads ``customer_queue_fact`` by.

Written only by the database: statement triggers on ``action_record`` call
``workflow.refresh_result_facts`` with the customers a statement touched (migration 0010).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.workflow.models import Base
from crm.workflow.readmodel.models import LoanView
from crm.workflow.workload.models import QueueFact


class ResultFact(Base):
    __tablename__ = "customer_result_fact"
    __table_args__ = (Index("ix_customer_result_fact_last_result", "last_result", "cif"),)

    cif: Mapped[str] = mapped_column(Text, primary_key=True)
    last_result: Mapped[str | None] = mapped_column(Text)
    """The result of the customer's newest action, and that action's date."""
    last_result_at: Mapped[datetime | None]
    last_contact_result: Mapped[str | None] = mapped_column(Text)
    """The result of the newest action that reached the customer (the result's ``is_contact``)."""
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


_facts = QueueFact.__table__.c
# The list's two sort orders over every customer: a backward range of one index each.
Index("ix_customer_queue_fact_max_dpd", _facts.max_dpd, _facts.cif)
Index("ix_customer_queue_fact_total_due", _facts.total_due, _facts.cif)
# The product filter: which customers hold a product, read from an index, not from every loan.
Index("ix_loan_view_product_type_cif", LoanView.__table__.c.product_type, LoanView.__table__.c.cif)

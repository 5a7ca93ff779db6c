"""The payments service's row of the access matrix (docs/api.md)."""

from crm.platform.auth import Access, Role

READ = Access.of(Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM)
WRITE = Access.of(Role.ADMIN, Role.SYSTEM, Role.PAYMENT_PROCESSOR)
RECONCILE = Access.of(Role.ADMIN, Role.SYSTEM)
"""Running a reconciliation: it imports the core's payments the CRM lacks."""

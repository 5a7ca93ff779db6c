"""The bank-sync service's row of the access matrix (docs/api.md)."""

from crm.platform.auth import Access, Role

READ = Access.of(Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM)
WRITE = Access.of(Role.ADMIN, Role.SYSTEM)

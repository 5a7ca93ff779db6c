"""The workflow service's row of the access matrix (docs/api.md)."""

from crm.platform.auth import Access, Role

READ = Access.of(Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM)
WRITE = Access.of(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
ADMIN_ONLY = Access.of(Role.ADMIN)
"""Creating and updating agents."""

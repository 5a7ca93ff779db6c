"""Routes: actions agents record, and their promises."""

from __future__ import annotations

from crm.platform.auth import SecureRouter
from crm.workflow.actions import models as _models  # noqa: F401

router = SecureRouter(prefix="/api/actions", tags=["actions"])

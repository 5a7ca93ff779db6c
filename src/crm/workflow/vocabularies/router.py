"""Routes: the action and case-status vocabularies (read by all, edited by ADMIN)."""

from __future__ import annotations

from crm.platform.auth import SecureRouter
from crm.workflow.vocabularies import models as _models  # noqa: F401

router = SecureRouter(prefix="/api/vocabularies", tags=["vocabularies"])

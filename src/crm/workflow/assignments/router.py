"""Routes: who works which customer (SCD Type 2)."""

from __future__ import annotations

from crm.platform.auth import SecureRouter
from crm.workflow.assignments import models as _models  # noqa: F401

router = SecureRouter(prefix="/api/assignments", tags=["assignments"])

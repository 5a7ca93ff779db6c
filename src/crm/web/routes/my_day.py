"""Pages: (being built)."""

from __future__ import annotations

from crm.web.session import PageRouter

router = PageRouter(tags=["web"])

"""The API documentation at /docs renders every service's document (OpenAPI 3.1) and switches between them."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.e2e


async def test_the_api_documentation_shows_each_service(system, page):
    await page.goto(f"{system.base}/docs")
    await expect(page.get_by_text("/api/auth/audit").first).to_be_visible(timeout=30_000)
    await expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    await page.select_option("select#select", label="Collection CRM - Collection Workflow")
    await expect(page.get_by_text("/api/agents").first).to_be_visible(timeout=30_000)
    await expect(page.get_by_text("OAS 3.1")).to_be_visible()

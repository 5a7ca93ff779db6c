"""Issue 17, item 5: every slow request shows the busy bar; a form is not sent twice.

No timing is measured: the answer is held back by the test (``page.route``) until it lets it through,
so the request is slow for as long as the test wants.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from playwright.async_api import Page, Route, expect

from crm.web.i18n import gettext_for
from tests.web.conftest import assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.e2e
vi = gettext_for("vi")


class Held:
    """Requests of one route held until ``release()``; the methods of those seen."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._go = asyncio.Event()

    async def handle(self, route: Route) -> None:
        self.seen.append(route.request.method)
        await self._go.wait()
        await route.continue_()

    def release(self) -> None:
        self._go.set()


WATCH_BUSY = """() => {
  const bar = document.getElementById("busy");
  new MutationObserver(() => {
    if (!bar.hidden && document.body.getAttribute("aria-busy") === "true") console.log("busy shown");
  }).observe(document.body, {attributes: true, subtree: true, attributeFilter: ["hidden", "aria-busy"]});
}"""
"""Reports (on the console) the bar shown on the page being left: while a navigation is pending,
Playwright's locators and evaluate wait for the next page, but console messages still arrive."""


async def _supervisor(page: Page, system) -> None:
    username, password = system.new_supervisor()
    await sign_in(page, system, username, password)


async def test_a_slow_navigation_shows_the_busy_bar_until_the_page_comes(system, page):
    await _supervisor(page, system)
    await page.goto(f"{system.base}/customers")
    busy = page.locator("#busy")
    await expect(busy).to_be_hidden()
    held = Held()
    await page.route("**/assignments", held.handle)
    nav = page.get_by_role("navigation", name=vi("Main"))
    await page.evaluate(WATCH_BUSY)
    async with page.expect_console_message(lambda m: m.text == "busy shown"):
        await nav.get_by_role("link", name=vi("Assignments")).click(no_wait_after=True)
    held.release()
    await page.wait_for_url("**/assignments")
    await expect(page.locator("h1")).to_have_text(vi("Assignments"))
    await expect(page.locator("#busy")).to_be_hidden()


async def test_a_slow_htmx_search_shows_the_busy_bar(system, page):
    await _supervisor(page, system)
    await page.goto(f"{system.base}/customers")
    held = Held()
    await page.route("**/customers?q=*", held.handle)
    await page.fill("#q", "Nguyen")
    await expect(page.locator("#busy")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "busy-indicator")
    held.release()
    await expect(page.locator("#busy")).to_be_hidden()
    assert held.seen and set(held.seen) == {"GET"}


async def test_a_plain_form_clicked_twice_is_sent_once(system, page):
    await _supervisor(page, system)
    await page.goto(f"{system.base}/assignments")
    content = f"cif,agent\nNOPE{uuid.uuid4().hex[:8]},NOBODY\n"
    await page.set_input_files(
        "#file", files=[{"name": "twice.csv", "mimeType": "text/csv", "buffer": content.encode()}]
    )
    held = Held()
    await page.route("**/assignments/upload", held.handle)
    await page.evaluate(WATCH_BUSY)
    async with page.expect_console_message(lambda m: m.text == "busy shown"):
        await page.get_by_role("button", name=vi("Preview")).dblclick(no_wait_after=True)
    held.release()
    await expect(page.locator("h1")).to_have_text(vi("Preview of the upload"))
    assert held.seen == ["POST"]

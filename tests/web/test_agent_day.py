"""An agent's working loop across the screens: My day → the first customer → record a promise →
the timeline shows it (no page reload) → My day's counts include it."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from crm.platform.settings import PlatformSettings
from crm.web.i18n import money
from tests.web.conftest import assert_accessible, screenshot, sign_in
from tests.web.test_my_day import _assign, _choose_language, _free_delinquent_cifs

pytestmark = pytest.mark.e2e


SETTLE_COUNTER = """
window.settledInto = {};
document.addEventListener("htmx:afterSettle", (e) => {
    const id = e.detail.target && e.detail.target.id;
    window.settledInto[id] = (window.settledInto[id] || 0) + 1;
});
"""
"""Counts, per target id, the htmx answers put into the page and wired up, from the page's start
(``page.add_init_script``): htmx wires a swapped part's own hx- attributes only when it settles."""


async def record_form_ready(page: Page) -> None:
    """Wait until the 360's record-action form (loaded by htmx after the page) is in and wired up:
    a choice made before that went to a form about to be replaced, or to one htmx did not wire yet."""
    await page.wait_for_function("() => (window.settledInto['record-action'] || 0) > 0")


async def swapped_by_htmx(page: Page, action: Awaitable[object], target: str) -> None:
    """Do ``action`` and wait until htmx has put the answer into the element with id ``target`` and
    wired it up (a person is slower than that; a test choosing the next field at once would use the
    old one). Only that target counts: the page's other htmx parts (its tab, the bell) settle
    whenever their own answers come."""
    before = await page.evaluate("target => window.settledInto[target] || 0", target)
    await action
    await page.wait_for_function(
        "([target, n]) => (window.settledInto[target] || 0) > n", arg=[target, before]
    )


async def test_an_agent_records_a_promise_from_the_queue_and_sees_it_in_the_timeline_and_the_counts(
    system, page
):
    await page.add_init_script(SETTLE_COUNTER)
    agent = system.new_agent()
    _assign(system, agent, _free_delinquent_cifs(system, 2))
    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/my-day")
    await _choose_language(page, "en")
    first = page.locator("table.queue tbody tr a").first
    cif = (await first.get_attribute("href") or "").rsplit("/", 1)[-1]
    await first.click()
    await page.wait_for_url(f"**/customers/{cif}")
    await record_form_ready(page)

    # A message (ZALO) is not a call or a visit: the contact hours do not apply, at any time of day.
    await page.locator("#tab-actions").click()  # the timeline is open while the action is recorded
    await expect(page.locator("#tab-actions")).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#tab-panel[data-tab=actions]")).not_to_contain_text(money("2500000"))
    await page.wait_for_load_state("networkidle")
    await page.evaluate("window.stillTheSamePage = true")
    form = page.locator("#record-action-form")
    await swapped_by_htmx(
        page, form.locator("#action-type").select_option("ZALO"), "action-choices"
    )  # ZALO's results
    await swapped_by_htmx(
        page, form.locator("#action-result").select_option("PROMISE_TO_PAY"), "action-promise"
    )
    await expect(form.locator("#promise-amount")).to_be_visible()
    promised_on = (datetime.now(PlatformSettings().tz) + timedelta(days=3)).date()
    await form.locator("#promise-amount").fill("2.500.000")
    await form.locator("#promise-date").fill(promised_on.isoformat())
    await form.locator("button[type=submit].primary").click()
    await expect(page.locator("#record-action-form .notice")).to_contain_text("2.500.000")

    await expect(page.locator("#tab-panel[data-tab=actions]")).to_contain_text(money("2500000"))
    await expect(page.locator("#tab-panel[data-tab=actions]")).to_contain_text("Open")
    assert await page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"

    await page.goto(f"{system.base}/my-day")
    counts = page.locator(".counts")
    await expect(counts.locator("[data-count=promises] .value")).to_have_text("1")
    await expect(counts.locator("[data-count=promised] .value")).to_have_text(money("2500000"))


async def test_after_recording_an_action_next_customer_opens_the_next_one_of_the_queue(system, page):
    await page.add_init_script(SETTLE_COUNTER)
    agent = system.new_agent()
    _assign(system, agent, _free_delinquent_cifs(system, 3))
    await sign_in(page, system, agent.username, agent.password)
    await _choose_language(page, "en")
    queue = await page.locator("table.queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.cif)")
    assert len(queue) == 3
    await page.locator("table.queue tbody tr a").first.click()
    await page.wait_for_url(f"**/customers/{queue[0]}")
    await record_form_ready(page)

    form = page.locator("#record-action-form")
    await expect(form.locator("[data-next-customer]")).to_have_count(0)  # nothing recorded yet
    await swapped_by_htmx(page, form.locator("#action-type").select_option("ZALO"), "action-choices")
    await swapped_by_htmx(
        page, form.locator("#action-result").select_option("NOT_CONTACTED"), "action-promise"
    )
    await form.locator("button[type=submit].primary").click()
    following = page.locator("#record-action-form [data-next-customer]")
    await expect(following).to_have_text("Next customer →")
    await assert_accessible(page)
    await screenshot(page, "customer-next-in-queue")
    await following.click()
    await page.wait_for_url(f"**/customers/{queue[1]}")  # the one after it in the queue
    await record_form_ready(page)

    # a contact takes the customer off today's queue: the next is the one that followed it, not
    # the first one (tried already, not reached)
    await swapped_by_htmx(page, form.locator("#action-type").select_option("ZALO"), "action-choices")
    await swapped_by_htmx(page, form.locator("#action-result").select_option("CONTACTED"), "action-promise")
    await form.locator("button[type=submit].primary").click()
    await following.click()
    await page.wait_for_url(f"**/customers/{queue[2]}")

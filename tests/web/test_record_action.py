"""Recording an action (with a promise) and updating the case status from the web UI.

Each test makes its own agent and assigns it a delinquent demo customer picked at random (so tests
of other areas, which record on the worst customers, do not share its daily call attempts).
The agent's UI speaks Vietnamese (the default language), so what it sees is checked in Vietnamese.
"""

from __future__ import annotations

import asyncio
import random
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import AgentLogin, RunningSystem, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.e2e

BUSINESS_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _assigned_customer(system: RunningSystem, agent: AgentLogin) -> str:
    cif = str(random.choice(system.customers(300)[30:])["cif"])
    with system.api("supervisor") as supervisor:
        r = supervisor.post(
            "/api/assignments",
            json={"cif": cif, "assignedCallAgentId": agent.agent_id, "reason": "web test", "override": True},
        )
        assert r.status_code in (200, 201), r.text
    return cif


def _actions_of(system: RunningSystem, cif: str, agent: AgentLogin) -> list[dict]:
    with system.api("supervisor") as supervisor:
        r = supervisor.get(f"/api/actions/customer/{cif}", params={"pageSize": 100})
        assert r.status_code == 200, r.text
        return [a for a in r.json()["items"] if a["agentId"] == agent.agent_id]


def _case_updates(system: RunningSystem, cif: str) -> int:
    with system.api("supervisor") as supervisor:
        r = supervisor.get(f"/api/cases/customer/{cif}")
        assert r.status_code == 200, r.text
        return int(r.json()["total"])


def _yesterday_at(hour: int) -> str:
    """A ``datetime-local`` value: yesterday (business date) at that hour, always in the past."""
    yesterday = datetime.now(BUSINESS_TZ).date() - timedelta(days=1)
    return f"{yesterday.isoformat()}T{hour:02d}:00"


def _today() -> date:
    return datetime.now(BUSINESS_TZ).date()


async def _choose_promise_with_the_keyboard(page: Page) -> None:
    """Type, then result, chosen with the keyboard only; the promise fields then appear."""
    await page.focus("#action-type")
    await page.keyboard.press("Home")  # the first type: CALL
    await expect(page.locator("#action-type")).to_have_value("CALL")
    await page.keyboard.press("Tab")  # subtype
    await page.keyboard.press("ArrowDown")  # the first subtype (outbound call)
    await page.keyboard.press("Tab")  # result
    await expect(page.locator("#action-result")).to_be_focused()
    for _ in range(10):
        if await page.locator("#action-result").input_value() == "PROMISE_TO_PAY":
            break
        await page.keyboard.press("ArrowDown")
    await expect(page.locator("#action-result")).to_have_value("PROMISE_TO_PAY")
    await expect(page.locator("#promise-amount")).to_be_visible()


async def test_an_agent_records_a_promise_with_the_keyboard(system, page):
    agent = system.new_agent()
    cif = _assigned_customer(system, agent)
    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/customers/{cif}/actions/new")
    await expect(page.locator("h2#record-action-title")).to_have_text("Ghi nhận hoạt động")

    await _choose_promise_with_the_keyboard(page)
    await page.keyboard.press("Tab")
    await expect(page.locator("#promise-amount")).to_be_focused()
    await page.keyboard.type("1.250.000")
    promised = _today() + timedelta(days=7)
    await page.fill("#promise-date", promised.isoformat())
    await page.fill("#action-date", _yesterday_at(10))  # within the contact hours at any time of day
    await page.fill("#action-notes", "Khách hứa trả cuối tuần")
    await page.focus("#promise-amount")
    await page.keyboard.press("Enter")

    notice = page.locator("#record-action-form .notice[role=status]")
    await expect(notice).to_contain_text("Đã ghi nhận hoạt động")
    await expect(notice).to_contain_text("1.250.000 ₫")
    await expect(notice).to_contain_text(promised.strftime("%d/%m/%Y"))
    await expect(page.locator("#promise-amount")).to_have_count(0)  # a fresh, empty form

    recorded = _actions_of(system, cif, agent)
    assert len(recorded) == 1
    assert recorded[0]["type"] == "CALL" and recorded[0]["actionResult"] == "PROMISE_TO_PAY"
    assert recorded[0]["promiseAmount"] == "1250000.00"
    assert recorded[0]["promiseDate"] == promised.isoformat()
    assert recorded[0]["promiseStatus"] == "OPEN"
    await screenshot(page, "record-action")
    await assert_accessible(page)


async def test_refusals_are_shown_next_to_their_field_and_nothing_is_stored(system, page):
    agent = system.new_agent()
    cif = _assigned_customer(system, agent)
    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/customers/{cif}/actions/new")
    await _choose_promise_with_the_keyboard(page)

    # A promise date beyond the 30-day horizon.
    await page.fill("#promise-amount", "500000")
    await page.fill("#promise-date", (_today() + timedelta(days=45)).isoformat())
    await page.fill("#action-date", _yesterday_at(10))
    await page.click("#record-action-form button.primary")
    error = page.locator("#promise-date-error")
    last = (_today() + timedelta(days=30)).strftime("%d/%m/%Y")
    await expect(error).to_have_text(f"Ngày hứa trả phải trong vòng 30 ngày tới (không sau ngày {last}).")
    await expect(page.locator("#promise-date")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#promise-amount")).to_have_value("500000")  # what was typed is kept
    assert _actions_of(system, cif, agent) == []
    await screenshot(page, "record-action-refused")
    await assert_accessible(page)

    # A call at 03:00 (business time): outside the contact hours.
    await page.fill("#promise-date", (_today() + timedelta(days=3)).isoformat())
    await page.fill("#action-date", _yesterday_at(3))
    await page.click("#record-action-form button.primary")
    await expect(page.locator("#action-date-error")).to_have_text(
        "Chỉ được ghi nhận cuộc gọi và chuyến thăm trong khoảng từ 07:00 đến 21:00."
    )
    await expect(page.locator("#promise-date-error")).to_have_count(0)
    assert _actions_of(system, cif, agent) == []

    # An amount that is not one.
    await page.fill("#action-date", _yesterday_at(10))
    await page.fill("#promise-amount", "1.25.0")
    await page.click("#record-action-form button.primary")
    await expect(page.locator("#promise-amount-error")).to_have_text("Nhập số tiền, ví dụ 1.250.000.")
    assert _actions_of(system, cif, agent) == []


async def test_a_supervisor_may_override_the_contact_hours_for_the_customers_agent(system, page):
    agent = system.new_agent()
    cif = _assigned_customer(system, agent)
    await sign_in(page, system, "supervisor")
    await page.goto(f"{system.base}/customers/{cif}/actions/new")
    await expect(page.locator("#action-agent")).to_have_value(agent.agent_id)  # the customer's agent
    await page.select_option("#action-result", "NO_ANSWER")
    await page.fill("#action-date", _yesterday_at(3))
    await page.check("#override-rules")
    await page.click("#record-action-form button.primary")
    await expect(page.locator("#record-action-form .notice[role=status]")).to_be_visible()
    recorded = _actions_of(system, cif, agent)
    assert [(a["actionResult"], a["rulesOverriddenBy"]) for a in recorded] == [("NO_ANSWER", "supervisor")]


async def test_the_case_status_is_updated_from_the_same_screen(system, page):
    agent = system.new_agent()
    cif = _assigned_customer(system, agent)
    before = _case_updates(system, cif)
    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/customers/{cif}/cases/new")
    await page.focus("#case-customerStatus")
    await page.select_option("#case-customerStatus", "PARTIALLY_COOPERATIVE")
    await page.fill("#case-notes", "Khách hợp tác một phần")
    await page.click("#case-status-form button.primary")
    await expect(page.locator("#case-status-form .notice[role=status]")).to_have_text(
        "Đã cập nhật trạng thái hồ sơ."
    )
    await expect(page.locator("[data-current=customerStatus]")).to_have_text("Hợp tác một phần")
    with system.api("supervisor") as supervisor:
        case = supervisor.get(f"/api/cases/customer/{cif}").json()
    assert case["current"]["customerStatus"] == "PARTIALLY_COOPERATIVE"
    assert case["history"][0]["notes"] == "Khách hợp tác một phần"
    await assert_accessible(page)

    # Nothing chosen and no note: refused in the form, nothing stored.
    await page.click("#case-status-form button.primary")
    await expect(page.locator("#case-status-form .alert")).to_have_text(
        "Hãy chọn ít nhất một trạng thái hoặc viết ghi chú."
    )
    assert _case_updates(system, cif) == before + 1


async def test_a_form_without_its_csrf_token_is_refused_and_a_plain_post_redirects(system, page):
    agent = system.new_agent()
    cif = _assigned_customer(system, agent)
    case_updates = _case_updates(system, cif)
    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/customers/{cif}/actions/new")
    cookie = next(c for c in await page.context.cookies() if c["name"] == "crm_session")
    token = await page.get_attribute("meta[name=csrf-token]", "content")
    form = {
        "type": "CALL",
        "actionResult": "NO_ANSWER",
        "actionDate": _yesterday_at(11),
    }
    with httpx.Client(base_url=system.base, cookies={"crm_session": cookie["value"]}) as browser_like:
        refused = browser_like.post(f"/customers/{cif}/actions", data=form)
        assert refused.status_code == 403
        refused = browser_like.post(f"/customers/{cif}/cases", data={"customerStatus": "COOPERATIVE"})
        assert refused.status_code == 403
        assert _actions_of(system, cif, agent) == []
        assert _case_updates(system, cif) == case_updates

        # The same form with its token, posted without JavaScript: stored, then back to the customer.
        done = browser_like.post(f"/customers/{cif}/actions", data={**form, "csrf_token": token})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"/customers/{cif}?tab=actions"
    assert [a["actionResult"] for a in _actions_of(system, cif, agent)] == ["NO_ANSWER"]


async def test_quick_choose_and_submit_always_ends_in_a_record_or_a_message(system, page):
    """Issue 17, item 5: a result chosen and the form submitted at once, four times in a row.

    Before: the two promise attempts sent nothing. The promise fields arrived (``required``) between
    the choice and the click, the browser's own check stopped the submit with a passing bubble in
    its own language, and the previous "Action recorded." stayed on the form.
    """
    agent = system.new_agent()
    cif = _assigned_customer(system, agent)
    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/customers/{cif}/actions/new")
    submit = page.locator("#record-action-form button.primary")
    notice = page.locator("#record-action-form .notice[role=status]")
    recorded = 0
    for hour, result in ((8, "NO_ANSWER"), (9, "PROMISE_TO_PAY"), (10, "NO_ANSWER"), (11, "PROMISE_TO_PAY")):
        await page.fill("#action-date", _yesterday_at(hour))
        await page.select_option("#action-result", result)
        await submit.click()
        if result == "NO_ANSWER":
            recorded += 1
            await expect(notice).to_have_text("Đã ghi nhận hoạt động.")
        else:  # no amount typed: said in Vietnamese next to the field, and no stale success notice
            await expect(page.locator("#promise-amount-error")).to_be_visible()
            await expect(notice).to_have_count(0)
        assert len(_actions_of(system, cif, agent)) == recorded

    await page.fill("#promise-amount", "300.000")
    await page.fill("#promise-date", (_today() + timedelta(days=2)).isoformat())
    await submit.click()
    await expect(notice).to_contain_text("300.000 ₫")
    results = sorted(a["actionResult"] for a in _actions_of(system, cif, agent))
    assert results == ["NO_ANSWER", "NO_ANSWER", "PROMISE_TO_PAY"]


async def test_a_double_click_records_one_action_and_a_slow_answer_shows_the_busy_bar(system, page):
    agent = system.new_agent()
    cif = _assigned_customer(system, agent)
    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/customers/{cif}/actions/new")
    await page.fill("#action-date", _yesterday_at(14))
    await page.select_option("#action-result", "NO_ANSWER")
    await expect(page.locator("#action-result")).to_have_value("NO_ANSWER")
    busy = page.locator("#busy")
    await expect(busy).to_be_hidden()

    # The answer is held back until the test lets it through: the bar shows while it is awaited.
    release = asyncio.Event()
    posts: list[str] = []

    async def hold(route):
        posts.append(route.request.method)
        await release.wait()
        await route.continue_()

    await page.route(f"**/customers/{cif}/actions", hold)
    await page.locator("#record-action-form button.primary").dblclick()
    await expect(busy).to_be_visible()
    await expect(busy).to_have_text("Đang tải…")
    release.set()
    await expect(page.locator("#record-action-form .notice[role=status]")).to_be_visible()
    await expect(busy).to_be_hidden()
    assert posts == ["POST"]
    assert [a["actionResult"] for a in _actions_of(system, cif, agent)] == ["NO_ANSWER"]
    await assert_accessible(page)


def test_a_form_submitted_twice_with_its_key_records_once(system):
    """What a lost answer and a retry do: the form's idempotency key makes the second submit a no-op."""
    agent = system.new_agent()
    cif = _assigned_customer(system, agent)
    with httpx.Client(base_url=system.base) as browser_like:
        form_page = browser_like.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text)
        assert token, form_page.text
        signed = browser_like.post(
            "/login",
            data={"username": agent.username, "password": agent.password, "csrf_token": token.group(1)},
        )
        assert signed.status_code in (200, 303), signed.text
        form_page = browser_like.get(f"/customers/{cif}/actions/new")
        key = re.search(r'name="idempotencyKey" value="([^"]+)"', form_page.text)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text)
        assert key and csrf, form_page.text
        form = {
            "type": "CALL",
            "actionResult": "NO_ANSWER",
            "actionDate": _yesterday_at(15),
            "csrf_token": csrf.group(1),
            "idempotencyKey": key.group(1),
        }
        for _ in range(2):
            done = browser_like.post(f"/customers/{cif}/actions", data=form)
            assert done.status_code == 303, done.text
    assert [a["actionResult"] for a in _actions_of(system, cif, agent)] == ["NO_ANSWER"]

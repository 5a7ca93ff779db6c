"""The agent's day (/my-day: call queue and counts) and the live notification bell.

Each test makes its own agent and assigns it delinquent demo customers that nobody works yet,
picked at random among the delinquent loans (other areas' tests take the worst customers).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from playwright.async_api import Page, expect
from prometheus_client.parser import text_string_to_metric_families

from crm.platform.events import PaymentEvent, WorkflowEvent
from crm.web.i18n import money
from crm.web.notifications import AgentWatch, history
from tests.web.conftest import AgentLogin, RunningSystem, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.e2e


def _free_delinquent_cifs(system: RunningSystem, count: int) -> list[str]:
    """``count`` customers with a delinquent loan and no current assignment, at random."""
    found: list[str] = []
    with system.api("supervisor") as supervisor:
        total = supervisor.get("/api/loans/delinquent", params={"pageSize": 1}).json()["total"]
        pages = list(range(2, max(3, total // 50)))
        random.shuffle(pages)
        for number in pages:
            r = supervisor.get("/api/loans/delinquent", params={"page": number, "pageSize": 50})
            assert r.status_code == 200, r.text
            cifs = list(dict.fromkeys(str(loan["cif"]) for loan in r.json()["items"]))
            random.shuffle(cifs)
            for cif in cifs:
                history = supervisor.get(f"/api/assignments/customer/{cif}/history", params={"pageSize": 1})
                assert history.status_code == 200, history.text
                current = [a for a in history.json()["items"] if a["isCurrent"]]
                if not current and cif not in found:
                    found.append(cif)
                if len(found) == count:
                    return found
    raise AssertionError(f"fewer than {count} unassigned delinquent customers")


def _assign(system: RunningSystem, agent: AgentLogin, cifs: list[str]) -> None:
    with system.api("supervisor") as supervisor:
        for cif in cifs:
            r = supervisor.post(
                "/api/assignments",
                json={"cif": cif, "assignedCallAgentId": agent.agent_id, "reason": "my day test"},
            )
            assert r.status_code == 201, r.text


def _names(system: RunningSystem, cifs: list[str]) -> dict[str, str]:
    """The customers' names as bank-sync has them."""
    with system.api("supervisor") as supervisor:
        r = supervisor.post("/api/customers/lookup", json={"cifs": cifs})
        assert r.status_code == 200, r.text
        return {item["cif"]: item["name"] for item in r.json()["items"]}


async def _choose_language(page: Page, language: str) -> None:
    async with page.expect_navigation():
        await page.select_option("#language", language)


async def test_my_day_shows_the_queue_and_the_counts_and_opens_a_customer(system, page):
    agent = system.new_agent()
    cifs = _free_delinquent_cifs(system, 3)
    _assign(system, agent, cifs)

    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/my-day")
    await _choose_language(page, "en")
    await expect(page.locator("h1")).to_have_text("My day")

    rows = page.locator("table.queue tbody tr")
    await expect(rows).to_have_count(3)
    shown = await rows.evaluate_all("rows => rows.map(r => r.dataset.href.split('/').pop())")
    assert sorted(shown) == sorted(cifs)
    for cif in cifs:
        row = page.locator("table.queue tbody tr", has_text=cif)
        await expect(row.locator(".badge").first).to_have_text("Overdue")
        await expect(row.locator("td.num .badge")).to_contain_text("days")
        await expect(row.locator("td.num").nth(1)).to_contain_text("₫")

    counts = page.locator(".counts")
    await expect(counts.locator("[data-count=to-contact]")).to_contain_text("Customers to contact")
    await expect(counts.locator("[data-count=to-contact] .value")).to_have_text("3")
    await expect(counts.locator("[data-count=to-contact]")).to_contain_text("of 3 assigned to me")
    await expect(counts.locator("[data-count=contacted] .value")).to_have_text("0")
    await expect(counts.locator("[data-count=promises] .value")).to_have_text("0")
    await expect(counts.locator("[data-count=collected] .value")).to_have_text("0 ₫")
    await expect(page.locator(".pager")).to_contain_text("1\u20133 of 3")

    await screenshot(page, "my-day")
    await assert_accessible(page)

    # Vietnamese labels once the language is switched in the header
    await _choose_language(page, "vi")
    await expect(page.locator("h1")).to_have_text("Ngày làm việc")
    await expect(counts.locator("[data-count=to-contact]")).to_contain_text("Khách hàng cần liên hệ")
    await expect(counts.locator("[data-count=contacted]")).to_contain_text("Đã liên hệ hôm nay")
    await expect(page.locator("table.queue thead")).to_contain_text("Lý do")
    await expect(rows.first.locator(".badge").first).to_have_text("Quá hạn")

    # keyboard: the first row's link takes the focus, Enter opens the customer
    first = await rows.first.get_attribute("data-href")
    assert first is not None and first.split("/")[-1] in cifs
    link = rows.first.locator("a").first  # the customer, before its phone
    await link.focus()
    await expect(link).to_be_focused()
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**{first}")


async def test_an_agent_user_without_an_agent_record_is_told_so(system, page):
    suffix = uuid.uuid4().hex[:8]
    username, password = f"unlinked.{suffix}", f"pw-{uuid.uuid4().hex}"
    with system.api("admin") as admin:
        r = admin.post(
            "/api/auth/users", json={"username": username, "password": password, "roles": ["AGENT"]}
        )
        assert r.status_code == 201, r.text

    await sign_in(page, system, username, password)
    await page.goto(f"{system.base}/my-day")
    await _choose_language(page, "en")
    await expect(page.locator("main")).to_contain_text("not linked to a collection agent")
    await expect(page.locator("#bell")).to_have_count(0)


async def test_the_bell_shows_new_assignments_without_a_reload(system, page):
    agent = system.new_agent()
    cifs = _free_delinquent_cifs(system, 10)

    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/my-day")
    await _choose_language(page, "en")
    await expect(page.locator("#bell")).to_have_attribute("data-live", "true", timeout=30_000)
    await expect(page.locator("#bell [data-unread]")).to_be_hidden()
    await page.evaluate("window.sameDocument = true")

    with system.api("supervisor") as supervisor:
        r = supervisor.post(
            "/api/assignments/bulk",
            json={"cifs": cifs, "assignedCallAgentId": agent.agent_id, "reason": "bell test"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["assigned"] == 10, r.text

    await expect(page.locator("#bell [data-unread]")).to_have_text("10", timeout=30_000)
    await expect(page.locator("#bell button")).to_contain_text("10 unread")
    await page.click("#bell button")
    items = page.locator("#bell-panel li")
    await expect(items).to_have_count(10)
    names = _names(system, cifs)
    for cif in cifs:  # named by the customer's name, not its CIF
        item = page.locator("#bell-panel li", has_text=names[cif]).first
        await expect(item).to_contain_text("has been assigned to you")
        await expect(item).not_to_contain_text(cif)
    await expect(page.locator("#bell [data-unread]")).to_be_hidden()
    await screenshot(page, "my-day-bell")
    assert await page.evaluate("window.sameDocument === true")  # no reload happened
    await assert_accessible(page)

    # a notification links to the customer
    async with page.expect_navigation():
        await items.first.locator("a").click()
    assert "/customers/" in page.url


def _assignments_received(system) -> dict[str, float]:
    """CUSTOMER_ASSIGNED events each web process has received for the bells (``/metrics``)."""
    text = httpx.get(f"{system.base}/metrics", timeout=10).text
    return {
        sample.labels.get("pid", ""): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "crm_web_notification_events" and sample.labels.get("type") == "CUSTOMER_ASSIGNED"
    }


async def test_the_bell_keeps_what_happened_while_the_agent_moved_between_pages(system, page):
    agent = system.new_agent()
    cif = _free_delinquent_cifs(system, 1)[0]
    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/my-day")
    await expect(page.locator("#bell")).to_have_attribute("data-live", "true", timeout=30_000)

    await page.goto("about:blank")  # between two pages: no stream open
    before = _assignments_received(system)
    assert before, "no web process reports the events of its bells"
    _assign(system, agent, [cif])
    # every web process has received it while no stream was open: shown later only if it was kept
    deadline = time.monotonic() + 30
    while any(_assignments_received(system).get(pid, 0) <= n for pid, n in before.items()):
        assert time.monotonic() < deadline, "a web process never received the assignment"
        await asyncio.sleep(0.05)

    await page.goto(f"{system.base}/my-day")
    await expect(page.locator("#bell [data-unread]")).to_have_text("1", timeout=30_000)
    await page.click("#bell button")
    await expect(page.locator("#bell-panel li", has_text=_names(system, [cif])[cif])).to_have_count(1)


def test_an_agent_is_told_of_its_own_customers_only():
    """What the bell's stream keeps of the events (no browser needed)."""
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    watch = AgentWatch(me, {"C1"})

    def assigned(cif: str, call: str | None, previous: str | None) -> WorkflowEvent:
        details = {"assignedCallAgentId": call, "previousCallAgentId": previous}
        return WorkflowEvent(type="CUSTOMER_ASSIGNED", entity_id="x", agent_id=call, cif=cif, details=details)

    def paid(cif: str) -> PaymentEvent:
        return PaymentEvent(
            type="PAYMENT_RECEIVED",
            payment_reference_number="P1",
            loan_account_number="L1",
            cif=cif,
            amount=Decimal("1500000"),
            status="RECEIVED",
        )

    note = watch.notice(assigned("C2", me, None))
    assert note is not None and (note.kind, note.cif) == ("ASSIGNED", "C2")
    assert watch.notice(assigned("C9", other, None)) is None
    assert watch.notice(paid("C2")) is not None and watch.notice(paid("C9")) is None
    note = watch.notice(paid("C1"))
    assert note is not None and (note.kind, note.amount) == ("PAYMENT_RECEIVED", "1500000.00")

    assert watch.notice(assigned("C1", other, me)) is None  # moved to someone else: no longer mine
    assert watch.notice(paid("C1")) is None

    broken = WorkflowEvent(
        type="PROMISE_BROKEN",
        entity_id="p",
        agent_id=other,
        cif="C2",
        details={"promiseAmount": "200000.00", "promiseDate": "2026-03-01", "paidAmount": "0.00"},
    )
    note = watch.notice(broken)
    assert note is not None and note.kind == "PROMISE_BROKEN" and note.on == date(2026, 3, 1)
    assert watch.notice(broken.model_copy(update={"cif": "C9"})) is None


def _pay(system: RunningSystem, cif: str, amount: str) -> None:
    """A payment received now on the customer's first loan (as the payments API records one)."""
    with system.api("admin") as admin:
        loans = admin.get(f"/api/customers/{cif}/loans")
        assert loans.status_code == 200, loans.text
        body = {
            "referenceNumber": f"MYDAY{uuid.uuid4().hex[:12]}",
            "loanAccountNumber": loans.json()["items"][0]["accountNumber"],
            "cif": cif,
            "amount": amount,
            "paymentDate": datetime.now(UTC).isoformat(),
            "paymentChannel": "CASH",
        }
        r = admin.post("/api/payments", json=body)
        assert r.status_code == 201, r.text


def _phone_to_call(system: RunningSystem, cif: str) -> tuple[str, list[str]]:
    """The customer's primary phone (if it has one) and all its phones, as bank-sync has them."""
    with system.api("supervisor") as supervisor:
        r = supervisor.get(f"/api/customers/{cif}")
        assert r.status_code == 200, r.text
        phones = r.json()["phones"]
    primary = next((p["number"] for p in phones if p["isPrimary"]), "")
    return primary, [p["number"] for p in phones]


async def test_my_day_fits_fifteen_customers_with_their_phones_and_names_the_agent(system, page):
    name = f"Trần Thị Hạnh {uuid.uuid4().hex[:4]}"
    agent = system.new_agent(name=name)
    cifs = _free_delinquent_cifs(system, 20)
    _assign(system, agent, cifs)

    await sign_in(page, system, agent.username, agent.password)
    assert page.url.endswith("/my-day"), page.url  # an agent starts on its day
    await _choose_language(page, "vi")
    await expect(page.locator("header .user")).to_have_text(name)  # its name, not its login
    assert agent.username not in await page.inner_text("header")

    rows = page.locator("table.queue tbody tr")
    await expect(rows).to_have_count(20)
    visible = await rows.evaluate_all(
        "rows => rows.filter(r => r.getBoundingClientRect().bottom <= window.innerHeight).length"
    )
    assert visible >= 15, f"only {visible} queue rows fit at 1366x768"

    for row in (await rows.all())[:5]:
        cif = await row.get_attribute("data-cif")
        assert cif in cifs
        primary, numbers = _phone_to_call(system, cif)
        link = row.locator("[data-phone] a")
        if not numbers:
            await expect(link).to_have_count(0)
            continue
        shown = await link.inner_text()
        assert shown == (primary or shown) and shown in numbers
        href = await link.get_attribute("href")
        assert href == "tel:" + "".join(c for c in shown if c.isdigit() or c == "+")
        await expect(row.locator("td.num .badge")).to_contain_text("ngày")
        await expect(row.locator("td.num").nth(1)).to_contain_text("₫")

    # a big total stays on one line, its ₫ with it
    for amount in await page.locator(".my-day-counts .amount").all():
        lines = await amount.evaluate("e => e.getClientRects().length")
        assert lines == 1, await amount.inner_text()
    await screenshot(page, "my-day")
    await assert_accessible(page)


async def test_a_payment_shows_in_the_bell_by_name_and_in_collected_today_without_a_reload(system, page):
    agent = system.new_agent()
    cifs = _free_delinquent_cifs(system, 2)
    _assign(system, agent, cifs)
    name = _names(system, [cifs[0]])[cifs[0]]

    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/my-day")
    await _choose_language(page, "en")
    await expect(page.locator("#bell")).to_have_attribute("data-live", "true", timeout=30_000)
    collected = page.locator("#my-day-counts [data-count=collected] .value")
    await expect(collected).to_have_text("0 ₫")
    await expect(page.locator("#bell [data-unread]")).to_have_text("2")  # the two new customers
    await page.click("#bell button")  # seen: opening the list marks them read
    await page.click("#bell button")
    await expect(page.locator("#bell [data-unread]")).to_be_hidden()
    await page.evaluate("window.sameDocument = true")

    _pay(system, cifs[0], "1234000")

    await expect(page.locator("#bell [data-unread]")).to_have_text("1", timeout=30_000)
    await expect(collected).to_have_text(money("1234000"), timeout=30_000)
    await page.click("#bell button")
    item = page.locator("#bell-panel li.unread")
    await expect(item).to_contain_text(f"{name} paid {money('1234000')}")
    await expect(item).not_to_contain_text(cifs[0])
    assert await page.evaluate("window.sameDocument === true")  # no reload happened
    await screenshot(page, "my-day-payment")
    await assert_accessible(page)


async def test_a_fresh_sign_in_shows_what_happened_to_my_customers_while_i_was_away(system, page):
    agent = system.new_agent()
    cifs = _free_delinquent_cifs(system, 3)
    _assign(system, agent, cifs)  # while the agent is not signed in
    _pay(system, cifs[1], "500000")
    other = system.new_agent()
    moved = _free_delinquent_cifs(system, 1)
    _assign(system, agent, moved)
    _assign(system, other, moved)  # given to another agent since: no longer my business
    names = _names(system, cifs)

    await sign_in(page, system, agent.username, agent.password)
    await page.goto(f"{system.base}/my-day")
    await _choose_language(page, "en")  # a page change: the list is kept, not asked for again
    await expect(page.locator("#bell")).to_have_attribute("data-live", "true", timeout=30_000)
    await expect(page.locator("#bell [data-unread]")).to_have_text("4")
    await page.click("#bell button")
    panel = page.locator("#bell-panel")
    for cif in cifs:
        await expect(panel.locator("li", has_text=f"{names[cif]} has been assigned to you")).to_have_count(1)
    await expect(panel.locator("li", has_text=f"{names[cifs[1]]} paid {money('500000')}")).to_have_count(1)
    await expect(panel).not_to_contain_text(_names(system, moved)[moved[0]])
    await screenshot(page, "my-day-bell-after-sign-in")
    await assert_accessible(page)


def test_the_bells_history_keeps_what_concerns_my_current_customers():
    """A fresh sign-in's notifications from past events (no browser needed): mine only, and not
    those about a customer moved to another agent since."""
    me, other = str(uuid.uuid4()), str(uuid.uuid4())

    def assigned(cif: str, call: str, previous: str | None) -> WorkflowEvent:
        details = {"assignedCallAgentId": call, "previousCallAgentId": previous}
        return WorkflowEvent(type="CUSTOMER_ASSIGNED", entity_id="x", agent_id=call, cif=cif, details=details)

    def paid(cif: str) -> PaymentEvent:
        return PaymentEvent(
            type="PAYMENT_RECEIVED",
            payment_reference_number=f"P-{cif}",
            loan_account_number="L1",
            cif=cif,
            amount=Decimal("100000"),
            status="RECEIVED",
        )

    past = [assigned("C1", me, None), assigned("C2", me, None), paid("C1"), assigned("C2", other, me)]
    past += [paid("C2"), assigned("C3", other, None), paid("C3"), paid("C4")]
    notes = history(past, me, {"C1", "C4"})
    assert [(n.kind, n.cif) for n in notes] == [
        ("ASSIGNED", "C1"),
        ("PAYMENT_RECEIVED", "C1"),
        ("PAYMENT_RECEIVED", "C4"),
    ]

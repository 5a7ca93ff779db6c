"""Customer search and the customer 360 page, as a supervisor and an agent see them."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from crm.web.i18n import gettext_for, money
from crm.web.labels import SEGMENT_LABELS
from tests.web.conftest import RunningSystem, assert_accessible, sign_in

pytestmark = pytest.mark.e2e

BUCKET_WORDS = (
    (0, "current", "Không quá hạn"),
    (30, "dpd-1-30", "Quá hạn 1-30 ngày"),
    (60, "dpd-31-60", "Quá hạn 31-60 ngày"),
    (90, "dpd-61-90", "Quá hạn 61-90 ngày"),
    (180, "dpd-90", "Quá hạn 91-180 ngày"),
    (None, "dpd-90", "Quá hạn trên 180 ngày"),
)


def plain(text: str) -> str:
    """The text without diacritics (đ as d), as a person types a name on any keyboard."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def spaces(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def bucket(dpd: int) -> tuple[str, str]:
    for last, css, words in BUCKET_WORDS:
        if last is None or dpd <= last:
            return css, words
    raise AssertionError(dpd)


def full_view(system: RunningSystem, cif: str) -> dict[str, Any]:
    """The customer with contacts, its loans and (for the test's own checks) what search finds by name."""
    with system.api("admin") as admin:
        customer = admin.get(f"/api/customers/{cif}").json()
        loans = admin.get(f"/api/customers/{cif}/loans", params={"pageSize": 500}).json()["items"]
        by_name = admin.get("/api/customers", params={"q": plain(customer["name"]), "pageSize": 20}).json()
    return {"customer": customer, "loans": loans, "by_name": [c["cif"] for c in by_name["items"]]}


def a_customer(system: RunningSystem, nth: int = 0) -> dict[str, Any]:
    """A demo customer 31-90 days past due with a phone, a loan and a name with diacritics that search finds
    (``nth``: the first, second... such customer, so tests that change data keep to their own)."""
    with system.api("admin") as admin:
        r = admin.get("/api/loans/delinquent", params={"minDpd": 31, "maxDpd": 90, "pageSize": 100})
        assert r.status_code == 200, r.text
    for cif in dict.fromkeys(loan["cif"] for loan in r.json()["items"]):
        view = full_view(system, cif)
        customer = view["customer"]
        if (
            customer["phones"]
            and view["loans"]
            and plain(customer["name"]) != customer["name"]
            and customer["cif"] in view["by_name"]
        ):
            if nth == 0:
                return view
            nth -= 1
    raise AssertionError("no demo customer with a phone, a loan and an accented name")


async def in_vietnamese(page: Page) -> None:
    if await page.input_value("#language") != "vi":
        async with page.expect_navigation():
            await page.select_option("#language", "vi")


async def test_a_supervisor_finds_a_customer_by_name_and_phone_and_opens_the_360(system, page):
    view = a_customer(system)
    customer, loans = view["customer"], view["loans"]
    cif = customer["cif"]
    open_loans = [loan for loan in loans if loan["status"] != "CLOSED"]
    worst = max((loan["dpd"] for loan in open_loans), default=0)
    due = sum((Decimal(loan["dueAmount"]) for loan in open_loans if loan["currency"] == "VND"), Decimal(0))
    outstanding = sum(
        (Decimal(loan["outstanding"]) for loan in open_loans if loan["currency"] == "VND"), Decimal(0)
    )

    await sign_in(page, system, "supervisor")
    await page.goto(f"{system.base}/customers")
    await in_vietnamese(page)
    # An empty search is a hint, not an error.
    await expect(page.locator("#results .notice")).to_contain_text("Nhập CIF")

    # Live search: typing the name without diacritics shows the customer.
    await page.fill("[data-search]", plain(customer["name"]))
    row = page.locator("#results tbody tr", has_text=cif)
    await expect(row).to_be_visible()
    # the segment in words (issue 17: no raw code such as "RETAIL" on screen)
    await expect(row).to_contain_text(gettext_for("vi")(SEGMENT_LABELS[customer["segment"]]))
    assert "/customers?q=" in page.url  # the search is in the address bar, to share or come back to
    await assert_accessible(page)

    # Without JavaScript's help: the search button posts the form as a plain GET (by phone here).
    phone = customer["phones"][0]["number"]
    await page.fill("[data-search]", phone)
    async with page.expect_navigation():
        await page.click("form[role=search] button[type=submit]")
    await expect(page.locator("#results tbody tr", has_text=cif)).to_be_visible()

    # The 360: header values.
    await (
        page.locator("#results tbody tr", has_text=cif)
        .get_by_role("link", name=customer["name"], exact=True)
        .click()
    )
    await page.wait_for_url(f"**/customers/{cif}")
    await expect(page.locator("h1")).to_have_text(customer["name"])
    assert await page.inner_text("[data-cif]") == cif
    css, words = bucket(worst)
    badge = page.locator("[data-bucket]")
    await expect(badge).to_have_text(words)
    assert css in (await badge.get_attribute("class") or "")
    assert spaces(money(due)) in spaces(await page.inner_text("[data-due]"))
    assert spaces(money(outstanding)) in spaces(await page.inner_text("[data-outstanding]"))
    # contacts, the first tab: the primary phone first, marked
    panel = page.locator("#tab-panel")
    await expect(panel).to_contain_text(phone)
    primary = next((p for p in customer["phones"] if p["isPrimary"]), None)
    if primary:
        first = panel.locator("table").first.locator("tbody tr").first
        await expect(first).to_contain_text(primary["number"])
        await expect(first).to_contain_text("Chính")
    await page.wait_for_load_state("networkidle")  # the record-action form beside the tabs, too
    await assert_accessible(page)

    # Tabs: loans (with the account number), then back to contacts; the URL follows.
    await page.get_by_role("tab", name="Khoản vay").click()
    await expect(page.locator("#tab-panel[data-tab=loans]")).to_contain_text(loans[0]["accountNumber"])
    await expect(page.get_by_role("tab", name="Khoản vay")).to_have_attribute("aria-selected", "true")
    await expect(page).to_have_url(f"{system.base}/customers/{cif}?tab=loans")
    await assert_accessible(page)
    for tab, name in (("payments", "Thanh toán"), ("actions", "Hoạt động"), ("case", "Trạng thái hồ sơ")):
        await page.get_by_role("tab", name=name, exact=True).click()
        await expect(page.locator(f"#tab-panel[data-tab={tab}]")).to_be_visible()
    await expect(page.locator("#tab-panel")).to_contain_text("Khả năng thu hồi")  # a case dimension
    await page.get_by_role("tab", name="Liên hệ").click()
    await expect(page.locator("#tab-panel[data-tab=contacts]")).to_contain_text(phone)

    # Each tab is a page of its own too (no JavaScript needed).
    await page.goto(f"{system.base}/customers/{cif}?tab=loans")
    await expect(page.locator("#tab-panel[data-tab=loans]")).to_contain_text(loans[-1]["accountNumber"])


async def test_an_agent_sees_the_360_of_a_customer_with_its_agent_and_history(system, page):
    view = a_customer(system, nth=2)
    cif = view["customer"]["cif"]
    login = system.new_agent(name=f"Trần Thị Web {uuid.uuid4().hex[:4]}")
    with system.api("supervisor") as supervisor:
        r = supervisor.post(
            "/api/assignments",
            json={"cif": cif, "assignedCallAgentId": login.agent_id, "reason": "web test", "override": True},
        )
        assert r.status_code in (200, 201), r.text

    await sign_in(page, system, login.username, login.password)
    await page.goto(f"{system.base}/customers/{cif}")
    await in_vietnamese(page)
    await expect(page.locator("h1")).to_have_text(view["customer"]["name"])
    name = await _agent_name(system, login.agent_id)
    await expect(page.locator("[data-agent]")).to_contain_text(name)
    await page.get_by_role("tab", name="Lịch sử phân công").click()
    history = page.locator("#tab-panel[data-tab=assignments]")
    await expect(history.locator("tbody tr").first).to_contain_text(name)
    await expect(history.locator("tbody tr").first).to_contain_text("web test")
    # the record-action container is on the page, for the action form (another part of the UI)
    assert await page.locator(f'#record-action[hx-get="/customers/{cif}/actions/new"]').count() == 1

    # A promise and a case status update recorded for the customer show on their tabs.
    promised = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date() + timedelta(days=3)).isoformat()
    with system.api("supervisor") as supervisor:
        r = supervisor.post(
            "/api/actions",
            json={
                "cif": cif,
                "agentId": login.agent_id,
                "type": "CALL",
                "actionResult": "PROMISE_TO_PAY",
                "promiseAmount": "2500000",
                "promiseDate": promised,
                "notes": "promised on the phone",
                "overrideContactRules": True,
            },
        )
        assert r.status_code == 201, r.text
        r = supervisor.post(
            "/api/cases", json={"cif": cif, "customerStatus": "COOPERATIVE", "notes": "case note"}
        )
        assert r.status_code == 201, r.text
    await page.get_by_role("tab", name="Hoạt động").click()
    timeline = page.locator("#tab-panel[data-tab=actions] li").first
    await expect(timeline).to_contain_text("promised on the phone")
    await expect(timeline.locator(".badge.open")).to_have_text("Hứa trả: Đang mở")
    assert spaces(money("2500000")) in spaces(await timeline.inner_text())
    assert name in await timeline.inner_text()

    # When the action form says an action was recorded, the timeline reloads itself.
    with system.api("supervisor") as supervisor:
        r = supervisor.post(
            "/api/actions",
            json={
                "cif": cif,
                "agentId": login.agent_id,
                "type": "NOTE",
                "actionResult": "OTHER",
                "notes": "a newer note",
                "overrideContactRules": True,
            },
        )
        assert r.status_code == 201, r.text
    await page.evaluate("htmx.trigger(document.body, 'action-recorded')")
    await expect(page.locator("#tab-panel[data-tab=actions] li").first).to_contain_text("a newer note")
    await assert_accessible(page)

    await page.get_by_role("tab", name="Trạng thái hồ sơ").click()
    await expect(page.locator("#tab-panel[data-tab=case]")).to_contain_text("case note")
    await page.reload()
    assert (await page.inner_text("[data-case]")).strip() not in ("", "Chưa có trạng thái hồ sơ")


async def _agent_name(system: RunningSystem, agent_id: str) -> str:
    with system.api("admin") as admin:
        return str(admin.get(f"/api/agents/{agent_id}").json()["name"])


async def test_a_payment_shows_with_its_receipt_pdf(system, page):
    view = a_customer(system, nth=1)
    customer, loan = view["customer"], view["loans"][0]
    ref = f"WEB-{uuid.uuid4().hex[:10]}"
    with system.api("admin") as admin:
        r = admin.post(
            "/api/payments",
            json={
                "referenceNumber": ref,
                "loanAccountNumber": loan["accountNumber"],
                "cif": customer["cif"],
                "amount": "1250000",
                "currency": loan["currency"],
                "paymentDate": datetime.now(UTC).isoformat(),
                "paymentChannel": "CASH",
            },
        )
        assert r.status_code in (200, 201), r.text

    await sign_in(page, system, "supervisor")
    await page.goto(f"{system.base}/customers/{customer['cif']}?tab=payments")
    await in_vietnamese(page)
    row = page.locator("#tab-panel tbody tr", has_text=ref)
    await expect(row).to_be_visible()
    assert spaces(money("1250000", loan["currency"])) in spaces(await row.inner_text())
    href = await row.get_by_role("link").get_attribute("href")
    assert href == f"/customers/{customer['cif']}/payments/{ref}/receipt"
    pdf = await page.request.get(f"{system.base}{href}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert (await pdf.body()).startswith(b"%PDF")
    # not through another customer's page
    other = await page.request.get(f"{system.base}/customers/NO-SUCH-CIF/payments/{ref}/receipt")
    assert other.status == 404


async def test_an_unknown_customer_is_a_404_page_in_words(system, page):
    await sign_in(page, system, "supervisor")
    response = await page.goto(f"{system.base}/customers/NO-SUCH-CIF-{uuid.uuid4().hex[:6]}")
    assert response is not None and response.status == 404
    await in_vietnamese(page)
    await expect(page.locator("h1")).to_have_text("Không tìm thấy khách hàng")
    await expect(page.locator("[role=alert]")).to_contain_text("Không có khách hàng nào có CIF NO-SUCH-CIF")

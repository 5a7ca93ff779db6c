"""Issue 17, items 3 and 4: search results that tell namesakes apart, an agent's *my customers*
filter, the customer list with its filters, and the 360's header, case form and tabs (1366x768)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from crm.web.i18n import gettext_for, money
from tests.web.conftest import AgentLogin, RunningSystem, assert_accessible, screenshot, sign_in
from tests.web.test_customers import a_customer, in_vietnamese, plain, spaces

pytestmark = pytest.mark.e2e


def _today() -> str:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()


def _assign(system: RunningSystem, login: AgentLogin, *cifs: str) -> None:
    with system.api("supervisor") as supervisor:
        for cif in cifs:
            r = supervisor.post(
                "/api/assignments",
                json={
                    "cif": cif,
                    "assignedCallAgentId": login.agent_id,
                    "reason": "list test",
                    "override": True,
                },
            )
            assert r.status_code in (200, 201), r.text


def _act(system: RunningSystem, login: AgentLogin, cif: str, **fields: Any) -> None:
    with system.api("supervisor") as supervisor:
        body = {"cif": cif, "agentId": login.agent_id, "type": "CALL", "overrideContactRules": True, **fields}
        r = supervisor.post("/api/actions", json=body)
        assert r.status_code == 201, r.text


def _result_labels(system: RunningSystem) -> dict[str, str]:
    """The action results' labels as a Vietnamese page shows them."""
    with system.api("supervisor") as supervisor:
        entries = supervisor.get("/api/vocabularies").json()["actionResults"]
    vietnamese = gettext_for("vi")
    return {e["code"]: vietnamese(e["label"]) for e in entries}


def _facts(system: RunningSystem, cif: str) -> dict[str, Any]:
    with system.api("supervisor") as supervisor:
        r = supervisor.post("/api/workflow/customers/lookup", json={"cifs": [cif]})
        assert r.status_code == 200, r.text
        (facts,) = r.json()["items"]
        return dict(facts)


async def test_search_results_tell_namesakes_apart_by_dpd_due_agent_phone_and_birth(system, page: Page):
    view = a_customer(system, nth=3)
    customer = view["customer"]
    cif = customer["cif"]
    login = system.new_agent(name=f"Phạm Thu Tìm {uuid.uuid4().hex[:4]}")
    _assign(system, login, cif)
    facts = _facts(system, cif)
    primary = next((p for p in customer["phones"] if p["isPrimary"]), customer["phones"][0])

    await sign_in(page, system, "supervisor")
    await page.goto(f"{system.base}/customers")
    await in_vietnamese(page)
    await page.fill("[data-search]", plain(customer["name"]))
    row = page.locator("#results tbody tr", has_text=cif)
    await expect(row).to_be_visible()
    await expect(row.locator("[data-dpd]")).to_have_text(str(facts["maxDpd"]))
    assert spaces(money(facts["totalDue"])) in spaces(await row.locator("[data-due]").inner_text())
    await expect(row.locator("[data-agent]")).to_have_text(login_name := facts["callAgentName"])
    assert login_name.startswith("Phạm Thu Tìm")
    phone = row.locator("[data-phone] a")
    await expect(phone).to_have_text(primary["number"])
    assert await phone.get_attribute("href") == f"tel:{primary['number']}"
    if customer["dateOfBirth"]:
        await expect(row.locator("[data-born]")).to_contain_text("sinh ngày")
    else:
        await expect(row.locator("[data-id]")).to_contain_text(customer["nationalId"][-4:])
        assert customer["nationalId"] not in await row.inner_text()  # masked, not shown whole
    # the segment in words, never its code
    assert customer["segment"] not in await row.locator("td").nth(1).inner_text()
    await screenshot(page, "customer-search")
    await assert_accessible(page)


async def test_an_agent_narrows_the_search_to_its_own_customers(system, page: Page):
    mine, other = a_customer(system, nth=4), a_customer(system, nth=5)
    login = system.new_agent()
    _assign(system, login, mine["customer"]["cif"])

    await sign_in(page, system, login.username, login.password)
    await page.goto(f"{system.base}/customers")
    await in_vietnamese(page)
    await page.get_by_label("Chỉ khách hàng của tôi").check()
    rows = page.locator("#results tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(mine["customer"]["cif"])
    await expect(page.locator("#results")).to_contain_text("1 khách hàng của bạn")
    assert "mine=true" in page.url
    # a name typed with the filter on: another agent's customer is not found, the agent's own is
    await page.fill("[data-search]", plain(other["customer"]["name"]))
    await expect(page.locator("#results .notice")).to_contain_text("Không có khách hàng nào khớp")
    await page.fill("[data-search]", plain(mine["customer"]["name"]))
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator("[data-phone] a")).to_be_visible()
    await assert_accessible(page)


async def test_the_customer_list_filters_an_agents_book_and_a_supervisor_any_agents(system, page: Page):
    login = system.new_agent(name=f"Đỗ Văn Danh {uuid.uuid4().hex[:4]}")
    promised, plain_one = a_customer(system, nth=6), a_customer(system, nth=7)
    _assign(system, login, promised["customer"]["cif"], plain_one["customer"]["cif"])
    in_three_days = (datetime.fromisoformat(_today()) + timedelta(days=3)).date().isoformat()
    _act(
        system,
        login,
        promised["customer"]["cif"],
        actionResult="PROMISE_TO_PAY",
        promiseAmount="3000000",
        promiseDate=in_three_days,
    )
    # not answered two days ago: its follow-up (a day after, by the vocabulary) is due
    two_days_ago = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) - timedelta(days=2)).replace(hour=10, minute=0)
    _act(
        system,
        login,
        plain_one["customer"]["cif"],
        actionResult="NO_ANSWER",
        actionDate=two_days_ago.isoformat(),
    )

    # the agent: its own two customers, with their facts; filters narrow them
    await sign_in(page, system, login.username, login.password)
    await page.goto(f"{system.base}/customers/list")
    await in_vietnamese(page)
    await expect(page.locator("h1")).to_have_text("Khách hàng của tôi")
    rows = page.locator("#list-results tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#f-agent")).to_have_count(0)  # an agent lists only its own
    await page.select_option("#f-promise", "OPEN")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(promised["customer"]["cif"])
    assert spaces(money("3000000")) in spaces(await rows.first.locator("[data-promise]").inner_text())
    await page.select_option("#f-promise", "")
    await page.get_by_label("Đến hạn theo dõi").check()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(plain_one["customer"]["cif"])
    await expect(rows.first.locator("[data-result]")).to_contain_text(_result_labels(system)["NO_ANSWER"])
    await page.get_by_label("Đến hạn theo dõi").uncheck()
    await page.select_option("#f-result", "PROMISE_TO_PAY")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(promised["customer"]["cif"])
    await assert_accessible(page)

    # a supervisor: the same agent's book by its select, sorted by amount due
    await page.context.clear_cookies()
    await sign_in(page, system, "supervisor")
    await page.goto(f"{system.base}/customers/list?agent={login.agent_id}&sort=-due")
    await in_vietnamese(page)
    await expect(rows).to_have_count(2)
    dues = [
        _facts(system, c)["totalDue"] for c in (promised["customer"]["cif"], plain_one["customer"]["cif"])
    ]
    first = promised if float(dues[0]) >= float(dues[1]) else plain_one
    await expect(rows.first).to_contain_text(first["customer"]["cif"])
    await expect(page.locator("#f-agent")).to_have_value(login.agent_id)
    await screenshot(page, "customer-list")
    await assert_accessible(page)
    # every customer of the bank, worst first, paged
    await page.goto(f"{system.base}/customers/list")
    await expect(rows).to_have_count(20)
    dpds = [int(await rows.nth(i).locator("[data-dpd]").inner_text()) for i in range(20)]
    assert dpds == sorted(dpds, reverse=True)
    await expect(page.locator(".pager")).to_be_visible()
    # a filter the API refuses is said in the page's language, beside the filters, not a server error
    response = await page.goto(f"{system.base}/customers/list?bucket=B9")
    assert response is not None and response.status == 422
    await expect(page.locator("#list-results [role=alert]")).to_be_visible()
    await expect(page.locator("#f-bucket")).to_have_attribute("aria-invalid", "true")
    assert "Invalid value" not in await page.inner_text("#list-results")
    await assert_accessible(page)


async def test_the_360_header_shows_promise_last_contact_and_follow_up(system, page: Page):
    view = a_customer(system, nth=8)
    cif = view["customer"]["cif"]
    login = system.new_agent()
    _assign(system, login, cif)
    in_five_days = (datetime.fromisoformat(_today()) + timedelta(days=5)).date().isoformat()
    _act(system, login, cif, actionResult="PROMISE_TO_PAY", promiseAmount="4500000", promiseDate=in_five_days)
    _act(system, login, cif, actionResult="NO_ANSWER")  # newer, not a contact: follow up tomorrow

    await sign_in(page, system, "supervisor")
    await page.goto(f"{system.base}/customers/{cif}")
    await in_vietnamese(page)
    promise = page.locator("[data-promise]")
    assert spaces(money("4500000")) in spaces(await promise.inner_text())
    day_shown = datetime.fromisoformat(in_five_days).strftime("%d/%m/%Y")
    await expect(promise).to_contain_text(day_shown)
    contact = page.locator("[data-last-contact]")
    labels = _result_labels(system)
    await expect(contact).to_contain_text(labels["PROMISE_TO_PAY"])  # the contact's result in words
    await expect(contact.locator("[data-last-action]")).to_contain_text(labels["NO_ANSWER"])
    await expect(contact).not_to_contain_text("PROMISE_TO_PAY")
    tomorrow = datetime.fromisoformat(_today()) + timedelta(days=1)
    await expect(page.locator("[data-follow-up]")).to_contain_text(tomorrow.strftime("%d/%m/%Y"))
    await page.wait_for_load_state("networkidle")
    await screenshot(page, "customer-360")
    await assert_accessible(page)


async def test_the_case_tab_is_one_form_holding_the_current_values(system, page: Page):
    view = a_customer(system, nth=9)
    cif = view["customer"]["cif"]
    with system.api("supervisor") as supervisor:
        r = supervisor.post("/api/cases", json={"cif": cif, "customerStatus": "COOPERATIVE"})
        assert r.status_code == 201, r.text

    await sign_in(page, system, "supervisor")
    await page.goto(f"{system.base}/customers/{cif}?tab=case")
    await in_vietnamese(page)
    panel = page.locator("#tab-panel[data-tab=case]")
    await expect(panel.locator("form")).to_have_count(1)
    # no table of the current values beside the form: the only table is the history's
    await expect(panel.locator("table")).to_have_count(1)
    await expect(panel.locator("#case-status-form table")).to_have_count(0)
    await expect(panel.locator("#case-customerStatus")).to_have_value("COOPERATIVE")
    await page.wait_for_load_state("networkidle")
    await screenshot(page, "customer-case")
    await assert_accessible(page)

    # saving nothing changed says so, in Vietnamese
    async with page.expect_navigation():
        await panel.get_by_role("button", name="Lưu trạng thái hồ sơ").click()
    await expect(page.locator("#case-status-form [role=alert]")).to_contain_text("Hãy thay đổi")

    # one status changed: only that one is recorded, the form then holds the new value
    choices = await page.locator("#case-recoveryAbilityStatus option").evaluate_all(
        "options => options.map(o => o.value).filter(v => v)"
    )
    async with page.expect_navigation():
        await page.select_option("#case-recoveryAbilityStatus", choices[0])
        await page.fill("#case-notes", "one change")
        await page.get_by_role("button", name="Lưu trạng thái hồ sơ").click()
    await expect(page.locator("#case-status-form [role=status]")).to_contain_text("Đã cập nhật")
    await expect(page.locator("#case-recoveryAbilityStatus")).to_have_value(choices[0])
    await expect(page.locator("#case-customerStatus")).to_have_value("COOPERATIVE")
    with system.api("supervisor") as supervisor:
        newest = supervisor.get(f"/api/cases/customer/{cif}").json()["history"][0]
    assert newest["recoveryAbilityStatus"] == choices[0] and newest["notes"] == "one change"
    assert newest.get("customerStatus") is None  # the unchanged status is not recorded again


async def test_collaterals_and_references_have_tabs_of_their_own(system, page: Page):
    with system.api("admin") as admin:
        found = None
        delinquent = admin.get("/api/loans/delinquent", params={"minDpd": 1, "pageSize": 200}).json()["items"]
        for cif in dict.fromkeys(loan["cif"] for loan in delinquent):
            full = admin.get(f"/api/customers/{cif}").json()
            collaterals = admin.get(f"/api/customers/{cif}/collaterals").json()["items"]
            if full["references"] and collaterals:
                found = (full, collaterals)
                break
    assert found, "a demo customer with references and collaterals"
    full, collaterals = found

    await sign_in(page, system, "supervisor")
    await page.goto(f"{system.base}/customers/{full['cif']}")
    await in_vietnamese(page)
    await expect(page.locator("#tab-panel[data-tab=contacts]")).not_to_contain_text(
        full["references"][0]["name"]
    )
    await page.get_by_role("tab", name="Người tham chiếu").click()
    await expect(page.locator("#tab-panel[data-tab=references]")).to_contain_text(
        full["references"][0]["name"]
    )
    await assert_accessible(page)
    await page.get_by_role("tab", name="Tài sản bảo đảm", exact=True).click()
    panel = page.locator("#tab-panel[data-tab=collaterals]")
    await expect(panel).to_contain_text(collaterals[0]["collateralNumber"])
    await expect(page).to_have_url(f"{system.base}/customers/{full['cif']}?tab=collaterals")
    await assert_accessible(page)

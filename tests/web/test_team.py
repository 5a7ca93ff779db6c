"""The supervisor's team dashboard: a row of figures per agent, charts drawn, closed to agents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from crm.web.i18n import gettext_for
from tests.web.conftest import assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.e2e
BUSINESS_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CHARTS = ("chart-promises", "chart-rates", "chart-collected", "chart-buckets")


async def test_the_dashboard_shows_each_agent_of_the_team_with_their_figures_and_draws_the_charts(
    system, page
):
    name = f"Dashboard {uuid.uuid4().hex[:6]}"
    agent = system.new_agent(name=name, team="SPECIAL_ASSETS", maxCustomers=40)
    customers = system.customers(3, page=11)
    with system.api("supervisor") as supervisor:
        for customer in customers:
            r = supervisor.post(
                "/api/assignments", json={"cif": customer["cif"], "assignedCallAgentId": agent.agent_id}
            )
            assert r.status_code in (200, 201), r.text
    promise_day = (datetime.now(UTC).astimezone(BUSINESS_TZ).date() + timedelta(days=3)).isoformat()
    with system.api(agent.username, agent.password) as as_agent:
        r = as_agent.post(
            "/api/actions",
            json={
                "cif": customers[0]["cif"],
                "agentId": agent.agent_id,
                "type": "ZALO",  # not a call or visit: the contact hours do not apply, whatever the time
                "actionResult": "PROMISE_TO_PAY",
                "promiseAmount": "1500000",
                "promiseDate": promise_day,
            },
        )
        assert r.status_code == 201, r.text

    username, password = system.new_supervisor()
    await sign_in(page, system, username, password)
    await page.goto(f"{system.base}/team?team=SPECIAL_ASSETS")
    row = page.locator(f"tr[data-agent='{agent.agent_id}']")
    await expect(row).to_be_visible()
    assert name in await row.locator("th").inner_text()
    cells = {
        field: (await row.locator(f"[data-field='{field}']").inner_text()).strip()
        for field in (
            "customers",
            "actions-today",
            "open-promises",
            "actions",
            "contact-rate",
            "promises-made",
        )
    }
    assert cells["customers"] == "3 / 40"
    assert cells["actions-today"] == "1"
    assert cells["open-promises"].startswith("1")
    assert cells["actions"] == "1"
    assert cells["contact-rate"] == "100 %"
    assert cells["promises-made"] == "1"
    assert await page.inner_text("h1") == gettext_for("vi")("Team dashboard")  # a new user's language: vi

    for chart in CHARTS:
        await expect(page.locator(f"#{chart}")).to_have_attribute("data-drawn", "true")
    await expect(page.locator("#chart-trend")).to_have_attribute("data-drawn", "true")
    drawn = await page.evaluate(
        "ids => ids.map(id => Chart.getChart(document.getElementById(id)) !== undefined)",
        [*CHARTS, "chart-trend"],
    )
    assert all(drawn), drawn
    # The trend's accessible table counts today's promise, on a row named by today's date as the
    # business writes it; the chart's labels are the same dates.
    today_row = page.locator("#trends table tbody tr").last
    assert int((await today_row.locator("td").first.text_content() or "").strip()) >= 1
    today = datetime.now(UTC).astimezone(BUSINESS_TZ).date()
    assert (await today_row.locator("th").text_content() or "").strip() == today.strftime("%d/%m/%Y")
    labels = await page.evaluate("Chart.getChart(document.getElementById('chart-trend')).data.labels")
    assert len(labels) == 30 and labels[-1] == today.strftime("%d/%m/%Y")
    # No internals: nothing says how many calls or queries the page took.
    text = (await page.inner_text("main")).lower()
    assert not any(word in text for word in ("truy vấn", "lượt gọi api", "queries", "calls")), text
    await screenshot(page, "team-dashboard")
    await assert_accessible(page)


async def test_an_agent_gets_the_403_page_and_no_team_link(system, page):
    agent = system.new_agent()
    await sign_in(page, system, agent.username, agent.password)
    assert await page.locator("header nav a[href='/team']").count() == 0
    response = await page.goto(f"{system.base}/team")
    assert response is not None and response.status == 403
    assert "403" in await page.inner_text("h1")
    assert await page.locator("#agents-table").count() == 0


async def test_every_agent_of_a_team_shows_the_figures_its_own_workload_and_performance_give(system, page):
    team = "HIGH_VALUE"
    first, second = system.new_agent(team=team, maxCustomers=30), system.new_agent(team=team, maxCustomers=50)
    customers = system.customers(5, page=13)
    with system.api("supervisor") as supervisor:
        for customer, agent in zip(customers, [first, first, first, second, second], strict=True):
            r = supervisor.post(
                "/api/assignments", json={"cif": customer["cif"], "assignedCallAgentId": agent.agent_id}
            )
            assert r.status_code in (200, 201), r.text
    for agent, cif, result in (
        (first, customers[0]["cif"], "NOT_CONTACTED"),
        (second, customers[3]["cif"], "CONTACTED"),
    ):
        with system.api(agent.username, agent.password) as as_agent:
            r = as_agent.post(
                "/api/actions",
                json={"cif": cif, "agentId": agent.agent_id, "type": "ZALO", "actionResult": result},
            )
            assert r.status_code == 201, r.text

    username, password = system.new_supervisor()
    await sign_in(page, system, username, password)
    await page.goto(f"{system.base}/team?team={team}")
    rows = page.locator("#agents-table tbody tr[data-agent]")
    shown = await rows.evaluate_all("rows => rows.map(r => r.dataset.agent)")
    assert {first.agent_id, second.agent_id} <= set(shown)

    with system.api("supervisor") as supervisor:
        made = 0
        for agent_id in shown:
            load = supervisor.get(f"/api/agents/{agent_id}/workload").json()
            perf = supervisor.get(f"/api/agents/{agent_id}/performance").json()
            limit = supervisor.get(f"/api/agents/{agent_id}").json()["maxCustomers"]
            row = page.locator(f"tr[data-agent='{agent_id}']")
            cell = {
                f: (await row.locator(f"[data-field='{f}']").inner_text()).strip()
                for f in ("customers", "actions-today", "actions", "promises-made", "contact-rate")
            }
            assert cell["customers"] == f"{load['assignedCustomers']} / {limit}"
            assert cell["actions-today"] == str(load["actionsToday"])
            assert cell["actions"] == str(perf["actionsTotal"])
            assert cell["promises-made"] == str(perf["promisesMade"])
            made += perf["promisesMade"]
    by_hand = {first.agent_id: ("3 / 30", "1", "0 %"), second.agent_id: ("2 / 50", "1", "100 %")}
    for agent_id, (customers_cell, actions_cell, rate_cell) in by_hand.items():
        row = page.locator(f"tr[data-agent='{agent_id}']")
        assert (await row.locator("[data-field='customers']").inner_text()).strip() == customers_cell
        assert (await row.locator("[data-field='actions-today']").inner_text()).strip() == actions_cell
        assert (await row.locator("[data-field='contact-rate']").inner_text()).strip() == rate_cell
    totals = page.locator("section.team-counts .card")
    assert (await totals.nth(0).locator(".value").inner_text()).strip() == str(len(shown))
    assert (await totals.nth(2).locator(".value").inner_text()).strip() == str(made)
    await assert_accessible(page)


async def test_the_period_is_written_and_read_as_day_month_year(system, page):
    _ = gettext_for("vi")
    today = datetime.now(UTC).astimezone(BUSINESS_TZ).date()
    username, password = system.new_supervisor()
    await sign_in(page, system, username, password)
    await page.goto(f"{system.base}/team")
    assert await page.input_value("#start") == today.replace(day=1).strftime("%d/%m/%Y")
    assert await page.input_value("#end") == today.strftime("%d/%m/%Y")

    await page.fill("#start", "31/02/2026")
    await page.click("form.team-filter button[type=submit]")
    await expect(page.locator(".alert")).to_contain_text(
        _("Enter the dates as day/month/year, such as 05/12/2026.")
    )

    await page.fill("#start", today.strftime("%d/%m/%Y"))
    await page.click("form.team-filter button[type=submit]")
    await expect(page.locator(".alert")).to_have_count(0)
    shown = today.strftime("%d/%m/%Y")
    expected = _("Period: %(first)s to %(last)s (business days).", first=shown, last=shown)
    await expect(page.locator("p.period")).to_contain_text(expected)
    await assert_accessible(page)

"""The assignments screen: select and assign customers, the capacity conflict and its override, CSV upload."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Page, expect

from crm.web.i18n import gettext_for
from tests.web.conftest import RunningSystem, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.e2e
vi = gettext_for("vi")  # a new supervisor sees the default language


def current_cifs(system: RunningSystem, agent_id: str) -> set[str]:
    with system.api("supervisor") as supervisor:
        r = supervisor.get(f"/api/assignments/agent/{agent_id}", params={"current": "true", "pageSize": 500})
        assert r.status_code == 200, r.text
        return {item["cif"] for item in r.json()["items"]}


async def signed_in_supervisor(page: Page, system: RunningSystem) -> None:
    username, password = system.new_supervisor()
    await sign_in(page, system, username, password)


async def test_a_supervisor_selects_ten_customers_and_assigns_them_to_a_new_agent(system, page):
    agent = system.new_agent(name=f"Ten {uuid.uuid4().hex[:6]}", maxCustomers=25)
    await signed_in_supervisor(page, system)
    await page.goto(f"{system.base}/assignments?bucket=B2&page=2")
    boxes = page.locator("#customers-table input[name=cif]")
    assert await boxes.count() >= 10
    chosen = []
    for index in range(10):
        box = boxes.nth(index)
        await box.check()
        chosen.append(await box.get_attribute("value"))
    await page.select_option("#agent", agent.agent_id)
    await page.fill("#reason", "web test: ten customers")
    await page.click("#assign-button")
    result = page.locator("#assign-result")
    await expect(result.locator("[role=status]")).to_contain_text("10")
    for cif in chosen:
        await expect(result.locator(f"tr[data-cif='{cif}'] .badge")).to_have_text(vi("Assigned"))
    assert current_cifs(system, agent.agent_id) == set(chosen)
    await assert_accessible(page)
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "assignments")

    # The history of one of them shows the new agent as current.
    await page.goto(f"{system.base}/assignments/history?cif={chosen[0]}")
    first = page.locator("#history-table tbody tr").first
    await expect(first).to_contain_text("Ten ")
    await expect(first.locator(".badge.current")).to_be_visible()


async def test_the_capacity_conflict_is_shown_in_words_and_the_override_assigns(system, page):
    agent_name = f"Small {uuid.uuid4().hex[:6]}"
    agent = system.new_agent(name=agent_name, maxCustomers=1)
    await signed_in_supervisor(page, system)
    await page.goto(f"{system.base}/assignments?bucket=B3&page=2")
    boxes = page.locator("#customers-table input[name=cif]")
    already, extra = [await boxes.nth(i).get_attribute("value") for i in range(2)]
    with system.api("supervisor") as supervisor:  # the agent's only slot is taken meanwhile
        r = supervisor.post("/api/assignments", json={"cif": already, "assignedCallAgentId": agent.agent_id})
        assert r.status_code in (200, 201), r.text

    await boxes.nth(1).check()
    await page.select_option("#agent", agent.agent_id)
    await page.click("#assign-button")
    conflict = page.locator("#capacity-conflict")
    await expect(conflict).to_be_visible()
    text = await conflict.inner_text()
    # In words: who is full, how many customers they work and may work, and what was not done.
    assert vi("%(agent)s is at capacity.", agent=agent_name) in text, text
    assert vi("They already work %(load)s customers and may work at most %(max)s.", load=1, max=1) in text, (
        text
    )
    assert extra not in current_cifs(system, agent.agent_id)

    await page.click("#override-button")
    await expect(page.locator(f"#assign-result tr[data-cif='{extra}'] .badge")).to_have_text(vi("Assigned"))
    assert current_cifs(system, agent.agent_id) == {already, extra}


async def test_a_csv_upload_is_previewed_with_row_errors_and_only_good_rows_are_applied(system, page):
    agent = system.new_agent(name=f"Csv {uuid.uuid4().hex[:6]}", maxCustomers=10)
    with system.api("admin") as admin:
        employee_id = admin.get(f"/api/agents/{agent.agent_id}").json()["employeeId"]
    *good, other = [c["cif"] for c in system.customers(3, page=37)]
    unknown = f"NOPE{uuid.uuid4().hex[:8]}"
    content = "\n".join(
        [
            "cif,agent",
            f"{good[0]},{employee_id}",
            f"{unknown},{employee_id}",
            f"{good[1]},{agent.agent_id}",
            f"{good[0]},{employee_id}",
            f"{other},NOBODY-{uuid.uuid4().hex[:6]}",
        ]
    )
    await signed_in_supervisor(page, system)
    await page.goto(f"{system.base}/assignments")
    await page.set_input_files(
        "#file", files=[{"name": "assign.csv", "mimeType": "text/csv", "buffer": content.encode()}]
    )
    await page.get_by_role("button", name=vi("Preview")).click()
    table = page.locator("#preview-table")
    await expect(table).to_be_visible()
    assert await table.locator("tbody tr").count() == 5
    await expect(table.locator("tr[data-line='2']")).to_contain_text(vi("OK"))
    await expect(table.locator("tr[data-line='3']")).to_contain_text(vi("unknown customer"))
    await expect(table.locator("tr[data-line='4']")).to_contain_text(vi("OK"))
    await expect(table.locator("tr[data-line='5']")).to_contain_text(
        vi("duplicate row: this customer is already on line %(line)s", line=2)
    )
    await expect(table.locator("tr[data-line='6']")).to_contain_text(vi("unknown agent"))
    assert current_cifs(system, agent.agent_id) == set()  # nothing assigned by the preview

    await page.click("#apply-button")
    for cif in good:
        await expect(page.locator(f"tr[data-cif='{cif}'] .badge")).to_have_text(vi("Assigned"))
    assert current_cifs(system, agent.agent_id) == set(good)


async def test_assign_by_rule_shows_the_result_per_customer(system, page):
    agent = system.new_agent(name=f"Rule {uuid.uuid4().hex[:6]}", team="RESTRUCTURING", maxCustomers=5)
    await signed_in_supervisor(page, system)
    await page.goto(f"{system.base}/assignments")
    await page.select_option("#rule_bucket", "B4")
    await page.select_option("#rule_team", "RESTRUCTURING")
    await page.fill("#rule_limit", "3")
    await page.get_by_role("button", name=vi("Assign by rule")).click()
    rows = page.locator("#assign-result tbody tr[data-cif]")
    await expect(rows).to_have_count(3)
    for index in range(3):
        await expect(rows.nth(index).locator(".badge")).to_have_text(vi("Assigned"))
    # Each went to an agent of the team, as workflow's history now says.
    cifs = [await rows.nth(i).get_attribute("data-cif") for i in range(3)]
    with system.api("supervisor") as supervisor:
        for cif in cifs:
            current = supervisor.get(
                f"/api/assignments/customer/{cif}/history", params={"pageSize": 1}
            ).json()
            agent_id = current["items"][0]["assignedCallAgentId"]
            assert current["items"][0]["isCurrent"] and agent_id
            assert supervisor.get(f"/api/agents/{agent_id}").json()["team"] == "RESTRUCTURING"
    assert agent.agent_id

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


def _matching(system: RunningSystem, **filters: str) -> dict:
    with system.api("supervisor") as supervisor:
        r = supervisor.get("/api/assignments/customers", params={"pageSize": 500, **filters})
        assert r.status_code == 200, r.text
        return r.json()


def _a_filter_of_more_than_one_page(system: RunningSystem) -> tuple[str, str, dict]:
    """A bucket and product whose unassigned customers fill more than one page of 50, but not many more."""
    sizes = []
    for bucket in ("B1", "B2", "B3", "B4", "B5"):
        for product in ("MORTGAGE", "AUTO", "PERSONAL", "CREDIT_CARD", "BUSINESS", "SECURED_PERSONAL"):
            found = _matching(system, bucket=bucket, productType=product, assigned="false")
            if 50 < found["total"] <= 250:
                sizes.append((found["total"], bucket, product, found))
    assert sizes, "the demo data has no bucket and product with 51 to 250 unassigned customers"
    _total, bucket, product, found = min(sizes)
    return bucket, product, found


async def test_filters_apply_to_all_customers_and_all_matching_ones_are_assigned_at_once(system, page):
    """Issue 17, item 7: pages of customers, server-side filters, select all matching, the button in view."""
    bucket, product, expected = _a_filter_of_more_than_one_page(system)
    total = expected["total"]
    agent = system.new_agent(name=f"All {uuid.uuid4().hex[:6]}", maxCustomers=1000)
    await signed_in_supervisor(page, system)
    await page.goto(f"{system.base}/assignments?bucket={bucket}&productType={product}&show=unassigned")
    await expect(page.locator("#assign-button")).to_be_in_viewport()  # 1366x768, nothing scrolled
    rows = page.locator("#customers-table tbody tr[data-cif]")
    await expect(rows).to_have_count(50)  # a page of 50 customers, each once
    shown = await rows.evaluate_all("rows => rows.map(r => r.dataset.cif)")
    assert shown == [c["cif"] for c in expected["items"][:50]]
    await expect(page.locator("#customers-table tbody .badge.open")).to_have_count(50)  # all unassigned
    await expect(page.locator("#found-count")).to_contain_text(str(total))
    await page.get_by_role("link", name=vi("Next page")).click()
    await expect(rows).to_have_count(min(50, total - 50))
    await expect(page.locator("#customers-table tbody .badge.open")).to_have_count(min(50, total - 50))

    await page.check("#scope-matching")
    await page.select_option("#agent", agent.agent_id)
    await page.click("#assign-button")
    await expect(page.locator("#assign-result [role=status]")).to_contain_text(str(total))
    assert current_cifs(system, agent.agent_id) == {c["cif"] for c in expected["items"]}
    assert _matching(system, bucket=bucket, productType=product, assigned="false")["total"] == 0
    await assert_accessible(page)
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "assignments-all-matching")

    # The team filter, on the whole result: as many as the API counts, ours among them.
    team = _matching(system, bucket=bucket, productType=product, team="EARLY_STAGE_CALL")
    assert {c["cif"] for c in expected["items"]} <= {c["cif"] for c in team["items"]}
    await page.goto(f"{system.base}/assignments?bucket={bucket}&productType={product}&team=EARLY_STAGE_CALL")
    await expect(page.locator("#found-count")).to_contain_text(str(team["total"]))
    await expect(rows).to_have_count(min(50, team["total"]))


async def test_the_csv_preview_shows_the_current_agent_and_asks_before_reassigning(system, page):
    owner = system.new_agent(name=f"Owner {uuid.uuid4().hex[:6]}", maxCustomers=10)
    taker = system.new_agent(name=f"Taker {uuid.uuid4().hex[:6]}", maxCustomers=10)
    with system.api("admin") as admin:
        employee_id = admin.get(f"/api/agents/{taker.agent_id}").json()["employeeId"]
    theirs, free = [c["cif"] for c in _matching(system, assigned="false", bucket="B1")["items"][-2:]]
    with system.api("supervisor") as supervisor:
        r = supervisor.post("/api/assignments", json={"cif": theirs, "assignedCallAgentId": owner.agent_id})
        assert r.status_code == 201, r.text
    content = f"cif,agent\n{theirs},{employee_id}\n{free},{employee_id}\n"
    await signed_in_supervisor(page, system)

    async def preview() -> None:
        await page.goto(f"{system.base}/assignments")
        await page.set_input_files(
            "#file", files=[{"name": "move.csv", "mimeType": "text/csv", "buffer": content.encode()}]
        )
        await page.get_by_role("button", name=vi("Preview")).click()
        await expect(page.locator("#preview-table")).to_be_visible()

    await preview()
    table = page.locator("#preview-table")
    await expect(table.locator("tr[data-line='2']")).to_contain_text("Owner ")
    await expect(table.locator("tr[data-line='2']")).to_contain_text(vi("With another agent"))
    await expect(table.locator("tr[data-line='3']")).to_contain_text(vi("Unassigned"))
    question = page.locator("#reassign-question")
    await expect(question).to_contain_text(vi("%(n)s customers of the file are with another agent now.", n=1))
    await expect(page.locator("#reassign")).not_to_be_checked()
    await assert_accessible(page)
    await screenshot(page, "assignments-csv-reassign")

    # Not ticked: the other agent's customer stays with it; the free one is assigned.
    await page.click("#apply-button")
    await expect(page.locator(f"tr[data-cif='{theirs}'] .badge")).to_have_text(vi("Not reassigned"))
    await expect(page.locator(f"tr[data-cif='{free}'] .badge")).to_have_text(vi("Assigned"))
    await expect(page.locator("#kept-with-other")).to_be_visible()
    assert current_cifs(system, owner.agent_id) == {theirs}
    assert current_cifs(system, taker.agent_id) == {free}

    # Ticked: it is taken from its agent.
    await preview()
    await page.check("#reassign")
    await page.click("#apply-button")
    await expect(page.locator(f"tr[data-cif='{theirs}'] .badge")).to_have_text(vi("Assigned"))
    assert current_cifs(system, owner.agent_id) == set()
    assert current_cifs(system, taker.agent_id) == {theirs, free}

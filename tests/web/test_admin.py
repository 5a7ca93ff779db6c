"""The admin screens: sync runs and their rejects, agents, payments, dead letters, event consumers, and
what a non-admin sees of them."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import expect
from prometheus_client.parser import text_string_to_metric_families

from tests.web.conftest import RunningSystem, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_MS = 300_000  # a sync run of the demo extracts on a busy two-core machine


def wait_for_idle(system: RunningSystem, source: str) -> None:
    """No run of the source queued or running (another test may have started one)."""
    with system.api("admin") as admin:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = admin.get("/api/sync/status").json()
            last = next(s for s in status["sources"] if s["sourceSystem"] == source).get("lastRun") or {}
            if last.get("state") not in ("QUEUED", "RUNNING"):
                return
            time.sleep(1)
    raise AssertionError(f"a {source} run did not finish")


def deliver_bad_extract(system: RunningSystem) -> str:
    """An OTHER extract of today with two phones that cannot load: an unknown customer and an unknown type."""
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    missing = f"NOSUCH{uuid.uuid4().hex[:8].upper()}"
    folder = Path(system.system.work) / "inbox" / "OTHER" / today
    folder.mkdir(parents=True, exist_ok=True)
    content = (
        "cif,type,number,isPrimary,isVerified\r\n"
        f"{missing},MOBILE,0901234567,true,false\r\n"
        f"{missing},PIGEON,0907654321,false,false\r\n"
    ).encode()
    (folder / "phones.csv").write_bytes(content)
    manifest = {
        "sourceSystem": "OTHER",
        "businessDate": today,
        "files": {"phones.csv": {"rows": 2, "sha256": hashlib.sha256(content).hexdigest()}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return missing


async def start_run(page, system: RunningSystem, source: str) -> None:
    await page.goto(f"{system.base}/admin/sync")
    await page.select_option("#sourceSystem", source)
    await page.click("form[action='/admin/sync/run'] button[type=submit]")
    await page.wait_for_url("**/admin/sync/runs/*")


async def test_an_admin_runs_a_sync_watches_it_finish_and_opens_a_reject(system, page):
    wait_for_idle(system, "T24")
    wait_for_idle(system, "W4")
    await sign_in(page, system, "admin")
    with system.api("admin") as admin:  # the worker runs one at a time: T24 waits behind this W4 run
        assert admin.post("/api/sync/run", json={"sourceSystem": "W4"}).status_code == 202
    await start_run(page, system, "T24")
    assert "T24" in await page.inner_text("h1")
    state = page.locator("#run-state [data-state]")
    assert await state.get_attribute("data-state") in ("QUEUED", "RUNNING")

    # the run page refreshes itself (htmx every 2 s) until the run ends: no reload here
    await expect(state).to_have_attribute("data-state", "SUCCEEDED", timeout=RUN_TIMEOUT_MS)
    await screenshot(page, "admin-sync")

    # a run with rejected rows: a small OTHER extract with two bad phone rows
    missing = deliver_bad_extract(system)
    wait_for_idle(system, "OTHER")
    await start_run(page, system, "OTHER")
    await expect(state).to_have_attribute("data-state", "SUCCEEDED", timeout=RUN_TIMEOUT_MS)
    # a success with rejected rows is a warning, not a plain success (the page is in Vietnamese)
    await expect(state).to_have_class(re.compile(r"\bwarning\b"))
    await expect(state).to_have_text("Thành công, 2 dòng bị từ chối")
    await expect(page.locator("#run-state .warning-note")).to_contain_text("2 dòng bị từ chối")
    await expect(page.locator("table.admin-counts")).to_contain_text("Số điện thoại")  # phones, by name
    await screenshot(page, "admin-sync-rejected")
    await assert_accessible(page)
    await page.click("#run-state a[href$='/rejects']")
    await page.wait_for_url("**/rejects")
    rows = page.locator("table.admin-rejects tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("Số điện thoại")
    reasons = await rows.locator("td:nth-child(3)").all_inner_texts()
    assert sorted(reasons) == sorted(
        [
            f"Không có khách hàng hoặc người tham chiếu: {missing}",
            "type có giá trị không nằm trong danh sách: PIGEON",
        ]
    )
    await rows.first.locator("summary").click()
    await expect(rows.first.locator("pre")).to_contain_text(missing)
    await assert_accessible(page)


async def test_an_agent_gets_the_403_page_and_no_admin_entry(system, page):
    agent = system.new_agent()
    await sign_in(page, system, agent.username, agent.password)
    assert await page.locator("header nav a[href='/admin']").count() == 0
    for path in ("/admin", "/admin/sync"):
        answer = await page.goto(f"{system.base}{path}")
        assert answer is not None and answer.status == 403
        assert await page.inner_text("h1") == "403"
        assert await page.locator("header nav a[href='/admin']").count() == 0


async def test_an_admin_creates_an_agent_and_sees_it_in_the_list(system, page):
    suffix = uuid.uuid4().hex[:8].upper()
    await sign_in(page, system, "admin")
    await page.goto(f"{system.base}/admin")
    await page.click("a[href='/admin/agents']")
    await page.click("a[href='/admin/agents/new']")
    await page.fill("#employeeId", f"ADM{suffix}")
    await page.fill("#name", f"Tran Thi Admin {suffix}")
    await page.fill("#email", f"admin.{suffix.lower()}@bank.example")
    await page.select_option("#type", "SUPERVISOR")
    await page.select_option("#team", "SPECIAL_ASSETS")
    # a number field: the browser offers numbers only and refuses a negative capacity itself
    capacity = page.locator("#maxCustomers")
    assert await capacity.get_attribute("type") == "number" and await capacity.get_attribute("min") == "0"
    await page.fill("#maxCustomers", "-5")
    assert await capacity.evaluate("input => input.validity.rangeUnderflow") is True
    # past the browser (a form sent without its checks), the API's refusal is shown next to its
    # field in the page's language, and what was typed is kept
    await page.eval_on_selector("form.form-grid", "form => { form.noValidate = true; }")
    await page.click("form button[type=submit].primary")
    await expect(page.locator("#err-maxCustomers")).to_be_visible()
    await expect(page.locator(".alert[role=alert]")).to_contain_text("kiểm tra các giá trị đã nhập")
    assert "Invalid value" not in await page.inner_text("main")
    assert await page.input_value("#name") == f"Tran Thi Admin {suffix}"

    await page.fill("#maxCustomers", "150")
    await page.click("form button[type=submit].primary")
    await page.wait_for_url("**/admin/agents?created=*")
    await page.select_option("#f-team", "SPECIAL_ASSETS")
    await page.select_option("#f-type", "SUPERVISOR")
    await page.click("form[action='/admin/agents'] button[type=submit]")
    row = page.locator("table tbody tr", has_text=f"ADM{suffix}")
    await expect(row).to_contain_text(f"Tran Thi Admin {suffix}")
    await expect(row).to_contain_text("150")


async def test_a_payment_lookup_shows_the_payment_and_its_receipt(system, page):
    reference = f"FTWEB{uuid.uuid4().hex[:10].upper()}"
    with system.api("admin") as admin:
        loan = admin.get("/api/loans/delinquent", params={"pageSize": 1}).json()["items"][0]
        created = admin.post(
            "/api/payments",
            json={
                "referenceNumber": reference,
                "loanAccountNumber": loan["accountNumber"],
                "cif": loan["cif"],
                "amount": "1250000",
                "currency": "VND",
                "paymentDate": datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).isoformat(),
                "paymentChannel": "BANK_TRANSFER",
            },
        )
        assert created.status_code == 201, created.text
    await sign_in(page, system, "admin")
    await page.goto(f"{system.base}/admin/payments")
    await page.fill("#ref", reference)
    await page.click("form[role=search] button[type=submit]")
    card = page.locator("section.card")
    await expect(card).to_contain_text(reference)
    await expect(card).to_contain_text("1.250.000 ₫")
    await expect(card).to_contain_text(loan["accountNumber"])
    href = await page.get_attribute("a[href^='/admin/payments/receipt']", "href")
    assert href
    receipt = await page.request.get(f"{system.base}{href}")
    assert receipt.status == 200
    assert receipt.headers["content-type"].startswith("application/pdf")
    assert (await receipt.body()).startswith(b"%PDF")


async def test_every_admin_screen_opens_and_a_reconciliation_runs_with_its_csv(system, page):
    await sign_in(page, system, "admin")
    await page.goto(f"{system.base}/admin")
    links = await page.eval_on_selector_all(
        "ul.admin-index a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert len(links) == 9
    for link in links:
        answer = await page.goto(f"{system.base}{link}")
        assert answer is not None and answer.status == 200, link
        assert await page.locator("h1").count() == 1
        await assert_accessible(page)

    await page.goto(f"{system.base}/admin/reconciliation")
    await page.click("form[method=post][action='/admin/reconciliation'] button[type=submit]")
    await page.wait_for_url("**/admin/reconciliation?date=*")
    href = await page.get_attribute("a[href$='.csv']", "href")
    assert href
    await expect(page.locator("section.card h2")).to_be_visible()
    csv = await page.request.get(f"{system.base}{href}")
    assert csv.status == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert (
        "attachment" in csv.headers["content-disposition"]
        and href.split("/")[-1] in csv.headers["content-disposition"]
    )


async def test_the_audit_log_shows_who_changed_an_agent(system, page):
    employee = f"AUD{uuid.uuid4().hex[:8]}"
    with system.api("admin") as admin:
        body = {
            "employeeId": employee,
            "name": "Trần Văn Kiểm",
            "email": f"{employee.lower()}@bank.example",
            "type": "AGENT",
            "team": "EARLY_STAGE_CALL",
            "maxCustomers": 30,
        }
        created = admin.post("/api/agents", json=body)
        assert created.status_code == 201, created.text
        assert admin.put(f"/api/agents/{created.json()['id']}", json={"maxCustomers": 45}).status_code == 200
    await sign_in(page, system, "admin")
    await page.goto(f"{system.base}/admin/audit")
    await page.select_option("#audit-service", "workflow")
    await page.fill("#audit-entity-key", employee)
    await page.click("button.primary")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text(employee)
    await expect(rows.nth(0)).to_contain_text("admin")
    await rows.nth(0).locator("summary").click()
    await expect(rows.nth(0).locator("pre")).to_contain_text('"max_customers": 45')
    await assert_accessible(page)


async def test_an_admin_changes_a_users_roles_and_sign_in(system, page):
    name = f"user.{uuid.uuid4().hex[:8]}"
    with system.api("admin") as admin:
        body = {"username": name, "password": f"pw-{uuid.uuid4().hex}", "roles": ["AGENT"]}
        assert admin.post("/api/auth/users", json=body).status_code == 201
    await sign_in(page, system, "admin")
    await page.goto(f"{system.base}/admin/users?pageSize=200")
    await page.click(f"a[href='/admin/users/{name}']")
    await page.check("#role-SUPERVISOR")
    await page.uncheck("#isActive")
    await page.click("button.primary")
    await expect(page.locator(".notice[role=status]")).to_contain_text(name)
    with system.api("admin") as admin:
        users = admin.get("/api/auth/users", params={"pageSize": 500}).json()["items"]
    changed = next(u for u in users if u["username"] == name)
    assert changed["roles"] == ["AGENT", "SUPERVISOR"] and changed["isActive"] is False
    refused = httpx.post(
        f"{system.base}/api/auth/token", data={"username": name, "password": body["password"]}
    )
    assert refused.status_code == 401


async def test_an_admin_sees_a_dead_letter_masked_and_replays_it(system, page):
    import nats

    from crm.platform.events import PaymentEvent

    reference = f"DLW{uuid.uuid4().hex[:8].upper()}"
    event = PaymentEvent(
        type="PAYMENT_RECEIVED",
        payment_reference_number=reference,
        loan_account_number=f"LN-{reference}",
        cif=f"CIF-{reference}",
        amount="150000.00",
        status="RECEIVED",
    )
    port = (system.system.work / "nats.port").read_text().strip()
    client = await nats.connect(f"nats://127.0.0.1:{port}")
    try:
        headers = {
            "Crm-Original-Subject": event.subject,
            "Crm-Error": "TimeoutError: nobody",
            "Crm-Deliveries": "5",
        }
        await client.jetstream().publish(
            "crm.dead_letter.workflow.readmodel-payments", event.to_json(), headers=headers
        )
    finally:
        await client.close()
    await sign_in(page, system, "admin")
    await page.goto(f"{system.base}/admin/dead-letters")
    row = page.locator("tbody tr", has_text=str(event.event_id))
    await expect(row).to_contain_text("TimeoutError: nobody")
    await expect(row).to_contain_text("readmodel-payments")
    await row.locator("summary").click()
    await expect(row.locator("pre")).to_contain_text("150000.00")
    await assert_accessible(page)
    await row.locator("button[type=submit]").click()
    await page.wait_for_url("**/admin/dead-letters?replayed=1")
    await expect(page.locator(".notice[role=status]")).to_be_visible()
    await expect(page.locator("tbody tr", has_text=str(event.event_id))).to_have_count(0)
    with system.api("admin") as admin:
        trail = admin.get(
            "/api/workflow/audit", params={"entityType": "DeadLetter", "action": "REPLAY"}
        ).json()
    assert any(
        e["before"]["eventId"] == str(event.event_id) and e["actor"] == "admin" for e in trail["items"]
    )


CONSUMERS = ("workflow-readmodel-bank-data", "workflow-readmodel-payments", "bank-sync-loan-balance")


async def test_an_admin_sees_each_services_consumers_and_how_far_behind_they_are(system, page):
    await sign_in(page, system, "admin")
    await page.goto(f"{system.base}/admin/consumers")
    for consumer in CONSUMERS:
        row = page.locator(f"tr[data-consumer='{consumer}']")
        await expect(row).to_have_count(1)
        assert await row.get_attribute("data-status") in ("ok", "behind")
        await expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^[0-9.]+$"))  # events waiting
        await expect(row.locator("td").nth(3)).to_have_text(
            re.compile(r"^[0-9.,]+ (s|giây)$")
        )  # oldest's age
    await expect(page.locator("tr[data-service='payments']")).to_have_count(0)  # it consumes nothing
    await assert_accessible(page)
    # what the page shows is what the system's readiness and metrics say (two worker processes: once)
    ready = httpx.get(f"{system.base}/health/ready", timeout=30)
    assert ready.status_code == 200 and ready.json()["status"] in ("ok", "degraded")
    assert set(CONSUMERS) <= set(ready.json()["consumers"])
    scraped = text_string_to_metric_families(httpx.get(f"{system.base}/metrics", timeout=30).text)
    pending = [
        s.labels["consumer"]
        for family in scraped
        for s in family.samples
        if s.name == "crm_consumer_pending_events"
    ]
    assert sorted(c for c in pending if c in CONSUMERS) == sorted(CONSUMERS), pending

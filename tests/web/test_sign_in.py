"""Signing in and out of the web UI, its session cookie, CSRF and the sign-in page's language."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.web.conftest import assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.e2e


async def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_the_session(system, page):
    await page.goto(f"{system.base}/login?lang=en")
    await page.fill("#username", "supervisor")
    await page.fill("#password", "not the password")
    await page.click("button[type=submit]")
    assert "Wrong username or password." in await page.inner_text("[role=alert]")

    await sign_in(page, system, "supervisor")
    cookie = next(c for c in await page.context.cookies() if c["name"] == "crm_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    opened = page.url

    # The same cookie, replayed without the page's CSRF token, cannot sign out (nor post anything).
    jar = {"crm_session": cookie["value"]}
    refused = httpx.post(f"{system.base}/logout", cookies=jar, data={"csrf_token": "guess"})
    assert refused.status_code == 403
    assert httpx.get(opened, cookies=jar).status_code == 200

    await page.click("text=Sign out")
    await page.wait_for_url("**/login")
    after = httpx.get(opened, cookies=jar, follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/login")


async def test_a_page_asks_to_sign_in_and_comes_back_after(system, page):
    await page.goto(f"{system.base}/customers?q=NGUYEN")
    assert "/login" in page.url
    await page.fill("#username", "supervisor")
    await page.fill("#password", system.demo_password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/customers?q=NGUYEN")


async def test_the_sign_in_page_speaks_vietnamese(system, page):
    await page.goto(f"{system.base}/login?lang=vi")
    assert await page.inner_text("h2") == "Đăng nhập"
    assert await page.inner_text("label[for=username]") == "Tên đăng nhập"
    await page.goto(f"{system.base}/login?lang=en")
    assert await page.inner_text("h2") == "Sign in"


def test_repeated_failed_sign_ins_on_the_form_are_throttled_in_the_pages_language(system):
    """The form is throttled as the token endpoint is, by the browser's username and address: the sixth
    try of a username is refused (429) even with the right password, with a message in Vietnamese."""
    import re
    import uuid

    name = f"nobody-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=system.base) as browser:

        def attempt(password: str) -> httpx.Response:
            page = browser.get("/login?lang=vi")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf, page.text[:500]
            return browser.post(
                "/login", data={"username": name, "password": password, "csrf_token": csrf.group(1)}
            )

        assert [attempt("wrong").status_code for _ in range(5)] == [401] * 5
        refused = attempt("wrong")
        assert refused.status_code == 429
        assert "Đăng nhập sai quá nhiều lần" in refused.text


@pytest.mark.parametrize(
    ("username", "home"), [("agent", "/my-day"), ("supervisor", "/team"), ("admin", "/admin")]
)
async def test_each_role_lands_on_its_own_start_page(system, page, username, home):
    """An agent on its day, a supervisor on the team dashboard, an admin on the admin overview."""
    await sign_in(page, system, username)
    assert page.url == f"{system.base}{home}"
    await page.goto(f"{system.base}/")  # the brand link: the same start page
    assert page.url == f"{system.base}{home}"


async def test_the_demo_sign_in_page_says_where_the_password_is(system, page):
    await page.goto(f"{system.base}/login?lang=en")
    hint = page.locator(".demo-hint")
    await expect(hint).to_contain_text("Demo mode")
    await expect(hint).to_contain_text("agent, supervisor or admin")
    shown = Path(await hint.locator("[data-demo-password-file]").inner_text())
    assert shown.read_text().strip() == system.demo_password  # the file it names holds the password
    await expect(hint).to_contain_text("crm up --demo")
    await expect(page.locator("body")).not_to_contain_text(system.demo_password)  # not the password itself
    await screenshot(page, "sign-in-demo")
    await assert_accessible(page)
    await page.goto(f"{system.base}/login?lang=vi")
    await expect(hint).to_contain_text("Mật khẩu của các người dùng này nằm trong tệp")

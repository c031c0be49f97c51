"""After logging in or signing up, the pages go to their ``next`` only when it is a page of this site: browsers
drop tabs and line breaks from URLs, so ``/<tab>/example.org/`` is ``//example.org/``, another site."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import expect

from tests.browser.conftest import PASSWORD, Visit

#: ``next`` values that a naive "starts with one slash" check lets through, and that leave the site.
OFF_SITE = {
    "tab": "/%09/example.org/",
    "line feed": "/%0a/example.org/",
    "carriage return": "/%0d/example.org/",
    "tab between the slashes and backslash": "/%09%5Cexample.org/",
    "dot segment": "/.//example.org/",
    "absolute": "https://example.org/",
    "scheme-relative": "//example.org/",
    "javascript": "javascript:alert(1)",
}


async def stays_on_the_site(visit: Visit) -> None:
    await expect(visit.page).to_have_url(re.compile(rf"^{re.escape(visit.server.url)}/dashboard$"))
    await expect(visit.page.get_by_role("heading", name=re.compile("^Welcome"))).to_be_visible()


@pytest.mark.parametrize("next_path", OFF_SITE.values(), ids=OFF_SITE.keys())
async def test_logging_in_with_an_off_site_next_stays_on_the_site(visit: Visit, next_path: str):
    email = f"next-{secrets.token_hex(4)}@example.org"
    await visit.signup(email=email)
    await visit.api("POST", "/api/auth/logout", {})

    await visit.goto(f"/login?next={next_path}")
    await visit.page.get_by_label("Email").fill(email)
    await visit.page.get_by_label("Password").fill(PASSWORD)
    await visit.page.get_by_role("button", name="Log in").click()
    await stays_on_the_site(visit)

    # Already logged in, the login page goes straight on: to the dashboard, not off the site.
    await visit.goto(f"/login?next={next_path}")
    await stays_on_the_site(visit)


@pytest.mark.parametrize("next_path", [OFF_SITE["tab"], OFF_SITE["line feed"], OFF_SITE["carriage return"]])
async def test_signing_up_with_an_off_site_next_stays_on_the_site(visit: Visit, next_path: str):
    page = visit.page
    await visit.goto(f"/signup?next={next_path}")
    # The link to the login page carries only a safe next.
    login_link = await page.locator("#login-link").get_attribute("href")
    assert login_link == "/login?next=%2Fdashboard"
    await page.get_by_label("Full name").fill("Grace Hopper")
    await page.get_by_label("Email").fill(f"next-{secrets.token_hex(4)}@example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Target role").fill("Software Engineer")
    await page.get_by_role("button", name="Create account").click()
    await stays_on_the_site(visit)


async def test_a_next_on_the_site_keeps_its_query_and_fragment(visit: Visit):
    email = f"next-{secrets.token_hex(4)}@example.org"
    await visit.signup(email=email)
    await visit.api("POST", "/api/auth/logout", {})
    await visit.goto("/login?next=%2Fhistory%3Fpage%3D1%23top")
    await visit.page.get_by_label("Email").fill(email)
    await visit.page.get_by_label("Password").fill(PASSWORD)
    await visit.page.get_by_role("button", name="Log in").click()
    await expect(visit.page).to_have_url(re.compile(rf"^{re.escape(visit.server.url)}/history\?page=1#top$"))

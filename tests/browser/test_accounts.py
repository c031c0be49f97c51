"""Accounts in the browser: the landing page, signing up, logging in and out, and where errors appear."""

from __future__ import annotations

import re
import secrets

from playwright.async_api import expect

from tests.browser.conftest import PASSWORD, Visit


async def test_landing_page_logs_in_and_a_wrong_password_is_explained_next_to_the_form(visit: Visit):
    page = visit.page
    email = f"ada-{secrets.token_hex(4)}@example.org"
    await visit.signup(email=email, full_name="Ada Lovelace")
    await visit.api("POST", "/api/auth/logout", {})

    await visit.goto("/")
    await expect(page.get_by_role("heading", name="Rehearse your next job interview", exact=False)).to_be_visible()
    await visit.screenshot("landing")

    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    error = page.locator("#login-form .form-error")
    await expect(error).to_have_text("The email or the password is not right.")
    await expect(page).to_have_url(re.compile(r"/$"))
    await visit.screenshot("login-error")

    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.get_by_role("heading", name="Welcome, Ada")).to_be_visible()

    # Logged in, the landing page goes straight on; logging out ends the session for good.
    await visit.goto("/")
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    status, _ = await visit.api("GET", "/api/user/profile")
    assert status == 401


async def test_logged_out_visitors_log_in_and_return_where_they_were_going(visit: Visit):
    page = visit.page
    email = f"lin-{secrets.token_hex(4)}@example.org"
    await visit.signup(email=email)
    await visit.api("POST", "/api/auth/logout", {})

    await visit.goto("/history?page=1")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fhistory%3Fpage%3D1$"))
    await expect(page.get_by_text("Please log in to continue.")).to_be_visible()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/history\?page=1$"))
    await expect(page.get_by_role("heading", name="Your interviews")).to_be_visible()

    # A "next" that leaves the site is ignored.
    await visit.api("POST", "/api/auth/logout", {})
    await visit.goto("/login?next=//example.org/steal")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def test_signup_shows_each_problem_next_to_its_field(visit: Visit):
    page = visit.page
    taken = await visit.signup()
    await visit.api("POST", "/api/auth/logout", {})

    await visit.goto("/signup")
    await expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    await visit.screenshot("signup")

    # Checked in the page first: every missing field says so where it is.
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("[data-error-for=full_name]")).to_have_text("Enter your name.")
    await expect(page.locator("[data-error-for=email]")).to_have_text("Enter your email address.")
    await expect(page.locator("[data-error-for=password]")).to_have_text("Choose a password.")
    await expect(page.get_by_label("Full name")).to_be_focused()
    await expect(page.get_by_label("Full name")).to_have_attribute("aria-invalid", "true")

    # Then the server's answers, next to the field they name.
    await page.get_by_label("Full name").fill("Grace Hopper")
    await page.get_by_label("Email").fill(taken["email"])
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Target role").fill("Software Engineer")
    await page.get_by_role("button", name="Create account").click()
    email_error = page.locator("[data-error-for=email]")
    await expect(email_error).to_contain_text("already exists")
    await expect(page.get_by_label("Email")).to_be_focused()
    await expect(page.locator("[data-error-for=password]")).to_be_empty()
    await visit.screenshot("signup-error")

    await page.get_by_label("Email").fill(f"grace-{secrets.token_hex(4)}@example.org")
    await page.get_by_label("Password").fill(taken["email"][:3] + "x")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("[data-error-for=password]")).to_have_text("Use at least 8 characters.")

    # The server's own rule: the password must not be the email.
    address = f"same-{secrets.token_hex(4)}@example.org"
    await page.get_by_label("Email").fill(address)
    await page.get_by_label("Password").fill(address)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("[data-error-for=password]")).not_to_be_empty()
    await expect(page.locator("[data-error-for=email]")).to_be_empty()
    await expect(page).to_have_url(re.compile(r"/signup$"))


async def test_the_login_form_works_from_the_keyboard_with_a_visible_focus(visit: Visit):
    page = visit.page
    email = f"keys-{secrets.token_hex(4)}@example.org"
    await visit.signup(email=email)
    await visit.api("POST", "/api/auth/logout", {})
    await visit.goto("/")
    order = []
    for _ in range(6):
        await page.keyboard.press("Tab")
        order.append(
            await page.evaluate(
                "() => { const e = document.activeElement;"
                " return [e.id || e.textContent.trim(), getComputedStyle(e).outlineStyle]; }"
            )
        )
    names = [name for name, _ in order]
    assert names == ["Skip to content", "Mock Interviewer", "login-email", "login-password", "Log in", "signup-link"]
    assert all(style != "none" for name, style in order if not name.startswith("login-")), order
    await page.locator("#login-email").focus()
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/dashboard$"))

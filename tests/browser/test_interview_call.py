"""The candidate's whole journey in a real browser: sign up, start an interview, hear the greeting, answer out
loud, see both sides of the transcript, end the call and read the interview page."""

from __future__ import annotations

import contextlib
import re

from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Visit

HEARD_WORDS = ("weather", "station", "raspberry")


async def test_sign_up_interview_out_loud_and_read_the_transcript(visit: Visit):
    page = visit.page
    await visit.goto("/signup")
    await page.get_by_label("Full name").fill("Grace Hopper")
    await page.get_by_label("Email").fill(f"grace-{id(page)}@example.org")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_label("Target role").fill("Software Engineer")
    await page.get_by_text("Senior", exact=True).click()
    await page.get_by_role("button", name="Create account").click()

    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.get_by_role("heading", name="Welcome, Grace")).to_be_visible()
    await expect(page.locator("#interviews-left")).to_have_text("3")
    await visit.screenshot("dashboard")

    await page.get_by_role("link", name="Start a new interview").click()
    await expect(page).to_have_url(re.compile(r"/interviews/new$"))
    await expect(page.get_by_label("Role", exact=True)).to_have_value("Software Engineer")
    await page.get_by_text("10 minutes", exact=True).click()
    await visit.screenshot("new-interview")
    await page.get_by_role("button", name="Start interview").click()

    await expect(page).to_have_url(re.compile(r"/interviews/[0-9a-f-]{36}/call$"))
    interview_id = page.url.split("/")[-2]
    await expect(page.get_by_role("heading", name="Before we start")).to_be_visible()
    await visit.screenshot("call-start")
    await page.get_by_role("button", name="Allow microphone and start").click()

    main = page.locator("main")
    await expect(main).to_have_attribute("data-call-state", "live", timeout=20_000)
    # The greeting: the interviewer's voice reaches the page's audio (measured on the remote stream).
    await page.wait_for_function(
        "() => Number(document.querySelector('main').dataset.agentPeak || 0) > 0.01", timeout=20_000
    )
    stats = await page.evaluate(
        """async () => {
            const report = await window.__interviewCall.pc.getStats();
            for (const s of report.values()) if (s.type === 'inbound-rtp' && s.kind === 'audio') return s;
            return null;
        }"""
    )
    assert stats and stats["totalAudioEnergy"] > 0, stats
    assistant = page.locator("#transcript .line--assistant[data-final=true]")
    await expect(assistant.first).to_contain_text("welcome", ignore_case=True, timeout=40_000)

    # The answer from the fake microphone, heard by the server's speech recognition.
    user_line = page.locator("#transcript .line--user[data-final=true]").first
    await expect(user_line).to_be_visible(timeout=60_000)
    heard = (await user_line.inner_text()).lower()
    assert sum(word in heard for word in HEARD_WORDS) >= 2, heard
    # ...and the interviewer answers it: the pictures are taken while it speaks (its line still grey).
    with contextlib.suppress(AssertionError):
        await expect(main).to_have_attribute("data-agent-state", "speaking", timeout=30_000)
    await visit.screenshot("call", full_page=False)
    await page.set_viewport_size(PHONE)
    await visit.screenshot("call-phone", full_page=False)
    await page.set_viewport_size(DESKTOP)
    await expect(assistant.nth(1)).to_be_visible(timeout=30_000)

    await page.get_by_role("button", name="Mute").click()
    await expect(page.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")
    await page.get_by_role("button", name="Unmute").click()

    await page.get_by_role("button", name="End interview").click()
    await page.get_by_role("dialog").get_by_role("button", name="End interview").click()
    await expect(page).to_have_url(re.compile(rf"/interviews/{interview_id}$"), timeout=15_000)
    await expect(page.locator("#transcript .line--assistant").first).to_contain_text("welcome", ignore_case=True)
    await expect(page.locator("#transcript .line--user").first).to_contain_text(
        re.compile("weather|station|raspberry", re.I)
    )
    await expect(page.locator(".badge--completed")).to_be_visible()
    await expect(page.locator("#feedback-pending, #feedback-report, #feedback-failed")).to_be_visible()
    await visit.screenshot("interview")

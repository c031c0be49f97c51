"""Interviews in the browser: starting one (and running out), the history, the feedback report, the profile."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from playwright.async_api import expect

from db.models import FeedbackStatus
from tests.browser.conftest import Visit


async def test_a_candidate_without_interviews_left_is_told_so_clearly(visit: Visit):
    page = visit.page
    await visit.signup(target_role="Data Scientist")
    await visit.create_interview()
    await visit.create_interview()

    await visit.goto("/interviews/new")
    await expect(page.get_by_label("Role", exact=True)).to_have_value("Data Scientist")
    await expect(page.locator("#credits-line")).to_contain_text("last practice interview")
    # The last one is spent elsewhere (another tab) before this form is sent: the server says no.
    await visit.create_interview()
    await page.get_by_role("button", name="Start interview").click()
    notice = page.locator("#credits-notice")
    await expect(notice).to_contain_text("No interviews left")
    await expect(notice).to_contain_text("used all your practice interviews")
    await expect(page.get_by_role("button", name="Start interview")).to_be_disabled()
    await expect(page).to_have_url(re.compile(r"/interviews/new$"))
    await visit.screenshot("no-credits")

    # Coming back later, the page says so before anything is tried; so does the dashboard.
    await page.reload()
    await expect(notice).to_be_visible()
    await expect(page.get_by_role("button", name="Start interview")).to_be_disabled()
    await visit.goto("/dashboard")
    await expect(page.locator("#interviews-left")).to_have_text("0")
    await expect(page.locator("#no-credits")).to_be_visible()
    await expect(page.get_by_role("link", name="Start a new interview")).to_have_count(0)


async def test_history_lists_interviews_by_page_and_links_each_to_its_page(visit: Visit):
    page = visit.page
    user = await visit.signup()
    await visit.server.db.grant_credits(user["email"], 10)
    interviews = [await visit.create_interview(role=f"Role {n:02d}") for n in range(12)]
    # Interviews 0..10 are completed; the newest (11) is still in progress.
    for interview in interviews[:-1]:
        status, _ = await visit.api("POST", f"/api/interviews/{interview['id']}/complete")
        assert status == 200
    scored = interviews[-2]
    await visit.server.db.save_feedback(
        uuid.UUID(scored["id"]), status=FeedbackStatus.READY, scores={"overall_score": 78}
    )

    # The dashboard offers to rejoin the interview in progress, and shows the latest five.
    await visit.goto("/dashboard")
    await expect(page.get_by_text("You have an interview in progress")).to_be_visible()
    await expect(page.get_by_role("link", name="Rejoin interview")).to_have_attribute(
        "href", f"/interviews/{interviews[-1]['id']}/call"
    )
    await expect(page.locator(".interview-row")).to_have_count(5)
    await expect(page.get_by_role("link", name="See all 12")).to_be_visible()
    await visit.screenshot("dashboard-returning")

    await visit.goto("/history")
    rows = page.locator("#history-table tbody tr")
    await expect(rows).to_have_count(10)
    await expect(page.locator("#page-status")).to_have_text("1–10 of 12 · page 1 of 2")
    newest = rows.nth(0)
    await expect(newest).to_contain_text("Role 11")
    await expect(newest).to_contain_text("In progress")
    await expect(newest.get_by_role("link", name="Rejoin")).to_have_attribute(
        "href", f"/interviews/{interviews[-1]['id']}/call"
    )
    await expect(rows.nth(1)).to_contain_text("Role 10")
    await expect(rows.nth(1)).to_contain_text("Completed")
    await expect(rows.nth(1).locator("td.num").first).to_have_text("78")
    await expect(rows.nth(1)).to_contain_text("Mixed")
    await expect(rows.nth(1)).to_contain_text("0 / 10 min")
    await visit.screenshot("history")

    await page.get_by_role("link", name="Older").click()
    await expect(page).to_have_url(re.compile(r"/history\?page=2$"))
    await expect(rows).to_have_count(2)
    await expect(page.locator("#page-status")).to_have_text("11–12 of 12 · page 2 of 2")
    await rows.nth(1).get_by_role("link", name="View").click()
    await expect(page).to_have_url(re.compile(rf"/interviews/{interviews[0]['id']}$"))
    await expect(page.get_by_role("heading", name="Role 00")).to_be_visible()
    await expect(page.locator("#feedback-pending")).to_contain_text("Preparing your feedback")


async def test_the_feedback_report_appears_when_ready_with_bars_lists_and_notes(visit: Visit):
    page = visit.page
    await visit.signup()
    interview = await visit.create_interview(role="Backend Engineer", interview_type="technical")
    key = uuid.UUID(interview["id"])
    db = visit.server.db
    now = datetime.now(UTC)
    await db.add_message(key, "assistant", "Hi Grace, welcome. Tell me about a system you designed.", now, 3.0)
    await db.add_message(key, "user", "I designed a queue that batches writes to Postgres.", now, 4.0)
    # In progress: no feedback yet; the candidate may rejoin, or finish it here.
    await visit.goto(f"/interviews/{interview['id']}")
    await expect(page.locator("#feedback-not-ready")).to_contain_text("once the interview is finished")
    await expect(page.get_by_role("link", name="Rejoin the call")).to_have_attribute(
        "href", f"/interviews/{interview['id']}/call"
    )
    await page.get_by_role("button", name="Finish and get feedback").click()
    await expect(page.locator(".badge--completed")).to_be_visible()
    await expect(page.locator("#feedback-pending")).to_be_visible()
    await expect(page.get_by_role("link", name="Rejoin the call")).to_have_count(0)
    await expect(page.locator("#transcript .line--user")).to_contain_text("batches writes")

    # The report is written while the page waits: it appears without a reload.
    await db.save_feedback(
        key,
        status=FeedbackStatus.READY,
        scores={
            "overall_score": 72,
            "technical_depth_score": 80,
            "communication_score": 65,
            "structure_score": 58,
            "confidence_score": 70,
        },
        strengths="Clear description of the batching design.\nGood use of a concrete example.",
        improvements="- Quantify the results (latency, throughput)\n- Use a structure such as STAR for stories",
        detailed_feedback={
            "questions": [
                {
                    "question": "Tell me about a system you designed.",
                    "notes": "Solid architecture; explain the trade-offs of batching.",
                    "score": 74,
                },
                {"question": "How do you make a service resilient?", "notes": "Not reached."},
            ]
        },
    )
    report = page.locator("#feedback-report")
    await expect(report).to_be_visible(timeout=10_000)
    await expect(page.locator("[data-score=overall_score] .score__value")).to_have_text("72")
    await expect(page.locator("[data-score=structure_score] [role=meter]")).to_have_attribute("aria-valuenow", "58")
    width = await page.locator("[data-score=technical_depth_score] .score__fill").evaluate("e => e.style.width")
    assert width == "80%"
    await expect(report.locator("ul li")).to_have_count(2)
    await expect(report).to_contain_text("Quantify the results")
    await expect(report.get_by_role("heading", name="Tell me about a system you designed.")).to_be_visible()
    await expect(report).to_contain_text("explain the trade-offs")
    await visit.screenshot("interview-feedback")

    # A failed report says why, and that the transcript is still there.
    await db.save_feedback(key, status=FeedbackStatus.FAILED, error="The feedback model timed out.")
    await page.reload()
    failed = page.locator("#feedback-failed")
    await expect(failed).to_contain_text("could not prepare feedback")
    await expect(failed).to_contain_text("The feedback model timed out.")


async def test_profile_edits_are_saved_and_used_for_the_next_interview(visit: Visit):
    page = visit.page
    user = await visit.signup(full_name="Grace Hopper", target_role="Software Engineer", experience_level="mid")

    await visit.goto("/profile")
    await expect(page.get_by_label("Email")).to_have_value(user["email"])
    await expect(page.locator("#interviews-left")).to_have_text("3")
    await expect(page.get_by_label("Mid")).to_be_checked()
    await visit.screenshot("profile")

    await page.get_by_label("Full name").fill("")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("[data-error-for=full_name]")).to_have_text("Enter your name.")
    await expect(page.get_by_label("Full name")).to_be_focused()

    await page.get_by_label("Full name").fill("Rear Admiral Grace Hopper")
    await page.get_by_label("Target role").fill("Engineering Manager")
    await page.get_by_text("Senior", exact=True).click()
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#profile-saved")).to_have_text("Your profile is saved.")
    await expect(page.locator("[data-error-for=full_name]")).to_be_empty()

    await page.reload()
    await expect(page.get_by_label("Full name")).to_have_value("Rear Admiral Grace Hopper")
    await expect(page.get_by_label("Senior")).to_be_checked()
    await page.get_by_role("link", name="New interview").click()
    await expect(page.get_by_label("Role", exact=True)).to_have_value("Engineering Manager")
    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", name="Welcome, Rear")).to_be_visible()

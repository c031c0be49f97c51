"""The operator's status page and the interview page's recording player, in a real browser."""

from __future__ import annotations

from playwright.async_api import expect

from signaling.client.api import new_http_session
from signaling.client.base import Answer
from signaling.client.interview import run_interview
from tests.browser.conftest import Visit


async def test_the_status_page_shows_the_server_and_refreshes(visit: Visit):
    page = visit.page
    await visit.goto("/status")
    await expect(page.get_by_role("heading", name="Server status")).to_be_visible()
    await expect(page.get_by_role("heading", name="Latency since start")).to_be_visible()
    await expect(page.get_by_role("heading", name="Providers")).to_be_visible()
    await expect(page.get_by_text("whisper", exact=True)).to_be_visible()
    first = await page.locator("#status-updated").text_content()
    await expect(page.locator("#status-updated")).not_to_have_text(first or "", timeout=10_000)  # it refreshed
    await visit.screenshot("status")


async def test_the_interview_page_plays_the_call_recording(visit: Visit):
    user = await visit.signup()
    # A call made by the loopback client as this user, so the interview has a recording.
    async with new_http_session() as http:
        report = await run_interview(
            visit.server.url,
            [Answer.spoken("I mentor three junior developers every week")],
            email=user["email"],
            password=user["password"],
            http=http,
        )
    await visit.server.lines_after_call(report.interview_id)
    page = visit.page
    await visit.goto(f"/interviews/{report.interview_id}")
    player = page.locator("#recording audio")
    await expect(player).to_have_count(1)
    duration = await player.evaluate(
        "(audio) => new Promise((done) => audio.readyState >= 1 ? done(audio.duration)"
        " : audio.addEventListener('loadedmetadata', () => done(audio.duration)))"
    )
    assert abs(duration - report.agent_audio_seconds) < 1.5, (duration, report.agent_audio_seconds)

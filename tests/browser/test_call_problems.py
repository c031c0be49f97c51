"""When a call cannot start or stops: a blocked microphone, a call the server ends, a dropped connection, the
same interview opened in another tab. Each is explained, with what to do next, and recovers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, Playwright, expect

from tests.browser.conftest import Visit, close_visit, launch, open_visit
from tests.conftest import RunningServer


@pytest.fixture
async def no_microphone_permission(playwright: Playwright, server: RunningServer) -> AsyncIterator[Visit]:
    """A browser that refuses the microphone (no fake media UI: the permission prompt is denied)."""
    browser = await launch(playwright, "--deny-permission-prompts")
    visit = await open_visit(browser, server, permissions=[])
    yield visit
    await close_visit(visit)
    await browser.close()


async def start_call(page: Page) -> None:
    await page.get_by_role("button", name="Allow microphone and start").click()
    await expect(page.locator("main")).to_have_attribute("data-call-state", "live", timeout=20_000)


async def live_call(visit: Visit, interview_id: str):
    """The server's side of the interview's call, once it is registered."""
    for _ in range(100):
        calls = visit.server.calls.for_interview(interview_id)
        if calls:
            return calls[0]
        await asyncio.sleep(0.05)
    raise AssertionError("no live call")


async def test_a_blocked_microphone_is_explained_and_a_retry_recovers(no_microphone_permission: Visit):
    visit = no_microphone_permission
    page = visit.page
    await visit.signup()
    interview = await visit.create_interview()
    await visit.goto(f"/interviews/{interview['id']}/call")
    await expect(page.get_by_role("heading", name="Before we start")).to_be_visible()
    await page.get_by_role("button", name="Allow microphone and start").click()

    panel = page.locator("#panel-problem")
    await expect(panel.get_by_role("heading", name="Microphone access is blocked")).to_be_visible()
    await expect(panel).to_contain_text("choose Allow")
    await expect(panel).to_be_focused()
    await visit.screenshot("call-microphone-blocked")
    assert not visit.server.calls.for_interview(interview["id"])

    # The candidate allows the microphone in the browser and tries again: the call starts.
    await visit.context.grant_permissions(["microphone"], origin=visit.server.url)
    await page.get_by_role("button", name="Try again").click()
    await expect(page.locator("main")).to_have_attribute("data-call-state", "live", timeout=20_000)
    assert visit.server.calls.for_interview(interview["id"])


async def test_calls_ended_by_the_server_say_why_and_offer_the_next_step(visit: Visit):
    page = visit.page
    await visit.signup()
    interview = await visit.create_interview()
    await visit.goto(f"/interviews/{interview['id']}/call")
    await start_call(page)
    panel = page.locator("#panel-problem")

    for reason, heading in [
        ("server_shutdown", "The interview server restarted"),
        ("media_timeout", "The call stopped hearing you"),
        ("hangup", "The call was disconnected"),
    ]:
        call = await live_call(visit, interview["id"])
        await call.close(reason)
        await expect(panel.get_by_role("heading", name=heading)).to_be_visible()
        await expect(panel).to_have_attribute("data-reason", reason)
        await expect(page.locator("main")).to_have_attribute("data-call-state", "ended")
        # The interview is still open: rejoining continues it.
        await panel.get_by_role("button", name="Rejoin the interview").click()
        await expect(page.locator("main")).to_have_attribute("data-call-state", "live", timeout=20_000)

    # A dropped connection (no `ended` event at all) is told apart, and reconnects.
    call = await live_call(visit, interview["id"])
    await call.pc.close()
    await expect(panel.get_by_role("heading", name="The connection to the interviewer was lost")).to_be_visible(
        timeout=15_000
    )
    await visit.screenshot("call-connection-lost")
    await panel.get_by_role("button", name="Reconnect").click()
    await expect(page.locator("main")).to_have_attribute("data-call-state", "live", timeout=20_000)

    # The clock ran out: the interview is over, and its transcript is one click away.
    call = await live_call(visit, interview["id"])
    await call.close("time_limit")
    await expect(panel.get_by_role("heading", name="Time is up")).to_be_visible()
    await panel.get_by_role("link", name="See transcript and feedback").click()
    await expect(page).to_have_url(re.compile(rf"/interviews/{interview['id']}$"))
    await expect(page.locator(".badge--completed")).to_be_visible()

    # Its call page now says it is finished instead of offering a call.
    await visit.goto(f"/interviews/{interview['id']}/call")
    await expect(page.get_by_role("heading", name="This interview is finished")).to_be_visible()
    await expect(page.get_by_role("button", name="Allow microphone and start")).to_be_hidden()


async def test_opening_the_interview_in_another_tab_moves_the_call_there(visit: Visit, browser: Browser):
    first = visit.page
    await visit.signup()
    interview = await visit.create_interview()
    call_url = visit.url(f"/interviews/{interview['id']}/call")
    await first.goto(call_url)
    await start_call(first)

    second = await visit.context.new_page()
    await second.goto(call_url)
    await expect(second.locator("#live-elsewhere")).to_be_visible()
    await start_call(second)
    panel = first.locator("#panel-problem")
    await expect(panel.get_by_role("heading", name="This interview continued in another tab")).to_be_visible()
    await visit.screenshot("call-replaced")

    # Back to the first tab: it takes the call over again.
    await panel.get_by_role("button", name="Continue here").click()
    await expect(first.locator("main")).to_have_attribute("data-call-state", "live", timeout=20_000)
    await expect(second.locator("#panel-problem")).to_have_attribute("data-reason", "replaced")
    await second.close()


async def test_a_server_full_of_calls_still_connecting_says_try_again_in_a_moment(browser: Browser, tmp_path):
    from tests.conftest import start_server, test_settings
    from tests.signaling.test_call_hardening import (
        candidate_with_interview,
        client_offer,
        post_offer,
        without_candidates,
    )

    runner, server = await start_server(test_settings(tmp_path, max_pending_calls_per_address=1, connect_timeout_s=3))
    visit = await open_visit(browser, server)
    pc, offer = await client_offer()
    http, other_interview = await candidate_with_interview(server.url)
    try:
        await visit.signup()
        interview = await visit.create_interview()
        await visit.goto(f"/interviews/{interview['id']}/call")
        # Another account from the same address holds a call that never connects.
        assert (await post_offer(http, server.url, other_interview, without_candidates(offer))).status == 200

        page = visit.page
        await page.get_by_role("button", name="Allow microphone and start").click()
        panel = page.locator("#panel-problem")
        await expect(panel.get_by_role("heading", name="The interviewer is busy right now")).to_be_visible()
        await expect(panel).to_contain_text("Try again in a moment")
        await expect(panel.get_by_role("button", name="Try again")).to_be_disabled()
        await visit.screenshot("call-server-busy")

        # The other call reaches its connect deadline; once the wait the server asked for is over, a retry joins.
        await expect(panel.get_by_role("button", name="Try again")).to_be_enabled(timeout=10_000)
        await panel.get_by_role("button", name="Try again").click()
        await expect(page.locator("main")).to_have_attribute("data-call-state", "live", timeout=20_000)
    finally:
        await close_visit(visit)
        await http.close()
        await pc.close()
        await runner.cleanup()

"""A transcript that is never lost: lines stored as they are spoken, through drops, reconnects and replacements."""

from __future__ import annotations

import asyncio
import time
import uuid

from signaling.client.api import create_interview, new_http_session, sign_in
from signaling.client.base import Answer
from signaling.client.webrtc import LoopbackCall
from tests.conftest import start_server, test_settings
from tests.signaling.test_call import LONG_ANSWER
from web.calls import IdleInterviewSweep

INTERVIEW = {"role": "Product Manager", "interview_type": "behavioral", "duration_minutes": 20}


async def until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def greeted_call(url: str, http, interview_id: str) -> LoopbackCall:
    """A call whose first agent turn has been spoken in full."""
    call = LoopbackCall(url)
    await call.connect(http, interview_id)
    await call.wait_agent_turn(0, timeout=60)
    return call


async def status_of(server, interview_id: str) -> str:
    interview = await server.db.get_interview(uuid.UUID(interview_id))
    return getattr(interview.status, "value", interview.status)


def roles(lines) -> list[str]:
    return [getattr(line.role, "value", line.role) for line in lines]


async def speak_for(call: LoopbackCall, seconds: float) -> None:
    """Start a long answer and return once ``seconds`` of it have been sent."""
    call.mic.play(Answer.spoken(LONG_ANSWER).audio)

    async def long_enough() -> bool:
        return call.mic.first_voiced is not None and time.monotonic() - call.mic.first_voiced > seconds

    await until(long_enough)


def no_call(server, interview_id: str):
    async def check() -> bool:
        return not server.calls.for_interview(interview_id)

    return check


async def test_lines_are_stored_during_the_call_kept_when_the_tab_closes_and_continued_on_reconnect(server):
    async with new_http_session() as http:
        await sign_in(http, server.url, interview=INTERVIEW)
        interview_id = await create_interview(http, server.url, INTERVIEW)
        call = await greeted_call(server.url, http, interview_id)
        # The greeting is in the database while the call is still running.
        assert server.calls.for_interview(interview_id)

        async def greeting_stored() -> bool:
            return bool(await server.lines(interview_id))

        # The writer commits just after the last frame leaves, so allow it a moment.
        await until(greeting_stored, timeout=5)
        lines = await server.lines(interview_id)
        assert roles(lines) == ["assistant"] and lines[0].content.startswith("Hi")

        await speak_for(call, 6.0)  # six seconds into a thirty-second answer...
        await call.close()  # ...the tab closes without a goodbye
        await until(no_call(server, interview_id))

        lines = await server.lines(interview_id)
        assert roles(lines) == ["assistant", "user"]
        said = lines[1].content.lower()
        assert any(word in said for word in ("payments", "platform", "role", "owned")), said
        assert lines[1].audio_duration_seconds > 3.0
        # A dropped call leaves the interview open for a reconnect...
        assert await status_of(server, interview_id) == "in_progress"

        # ...and the reconnect continues it: no second greeting, the history grows.
        again = await greeted_call(server.url, http, interview_id)
        resumed = next(e["text"] for e in again.events if e.get("type") == "transcript" and e.get("final"))
        assert not resumed.startswith("Hi"), resumed
        await again.hang_up()
    lines = await server.lines_after_call(interview_id)
    assert roles(lines)[:3] == ["assistant", "user", "assistant"] and lines[2].content == resumed
    assert [line.seq for line in lines] == sorted(line.seq for line in lines)
    # Hanging up with "end" completes the interview.
    assert await status_of(server, interview_id) == "completed"


async def test_a_frozen_client_is_reaped_and_what_it_said_is_kept(tmp_path):
    runner, running = await start_server(test_settings(tmp_path, media_timeout_s=2.0))
    try:
        async with new_http_session() as http:
            await sign_in(http, running.url, interview=INTERVIEW)
            interview_id = await create_interview(http, running.url, INTERVIEW)
            call = await greeted_call(running.url, http, interview_id)
            await speak_for(call, 5.0)
            call.mic.stop()  # the tab froze mid-sentence: no more audio, no goodbye
            await call.wait_event(lambda e: e.get("type") == "ended", timeout=15)
            assert call.ended_reason() == "media_timeout"
            await until(no_call(running, interview_id))
            lines = await running.lines(interview_id)
            assert roles(lines) == ["assistant", "user"] and len(lines[1].content.split()) >= 5
            await call.close()
    finally:
        await runner.cleanup()


async def test_a_newer_call_replaces_the_older_one(server):
    async with new_http_session() as http:
        await sign_in(http, server.url, interview=INTERVIEW)
        interview_id = await create_interview(http, server.url, INTERVIEW)
        first = await greeted_call(server.url, http, interview_id)
        second = LoopbackCall(server.url)
        await second.connect(http, interview_id)  # a page reload opens a new call
        await first.wait_event(lambda e: e.get("type") == "ended", timeout=10)
        assert first.ended_reason() == "replaced"
        await second.wait_agent_turn(0, timeout=60)
        assert [c.id for c in server.calls.for_interview(interview_id)] == [second.call_id]
        await first.close()
        await second.hang_up()


async def test_the_idle_sweep_abandons_forgotten_interviews_but_never_a_live_one(tmp_path):
    runner, running = await start_server(test_settings(tmp_path, abandon_after_s=1.0, sweep_interval_s=3600))
    try:
        async with new_http_session() as http:
            await sign_in(http, running.url, interview=INTERVIEW)
            forgotten = await create_interview(http, running.url, INTERVIEW)
            live = await create_interview(http, running.url, INTERVIEW)
            call = await greeted_call(running.url, http, live)  # the call refreshes its activity every 0.25 s
            await asyncio.sleep(1.5)  # the grace period passes: this is the behaviour under test
            sweep = IdleInterviewSweep(running.db, grace_s=1.0, every_s=3600)
            abandoned = await sweep.sweep_once()
            assert [str(i) for i in abandoned] == [forgotten]
            assert await status_of(running, forgotten) == "abandoned"
            assert await status_of(running, live) == "in_progress"
            await call.hang_up()
    finally:
        await runner.cleanup()

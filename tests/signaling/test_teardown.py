"""Calls end cleanly however they end: hang-up, a vanished peer, a closed connection, server shutdown."""

from __future__ import annotations

import asyncio
import gc

import aiohttp
from aiortc import RTCPeerConnection

from signaling.client.api import create_interview, new_http_session, sign_in
from signaling.client.webrtc import LoopbackCall
from tests.conftest import start_server, test_settings
from voice_agent.reply import Reply

INTERVIEW = {"role": "Data Scientist", "interview_type": "technical", "duration_minutes": 10}


async def until(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def session_work(session) -> list[str]:
    """The background work of a ``CallSession`` still running, seen from outside: the session runs it as tasks of
    its own coroutines (methods of the session, and the cancelling of a reply it replaced)."""
    found = []
    for task in asyncio.all_tasks():
        coroutine = task.get_coro()
        frame = getattr(coroutine, "cr_frame", None)
        owner = frame.f_locals.get("self") if frame is not None else None
        if owner is session or (isinstance(owner, Reply) and coroutine.__qualname__ == "Reply.cancel"):
            found.append(f"session task {coroutine.__qualname__}")
    return found


def leftovers(call) -> list[str]:
    """Anything of a call still alive after it ended."""
    found = [t.get_name() for t in asyncio.all_tasks() if call.id in t.get_name() and not t.done()]
    found += session_work(call.session)
    if call.pc.connectionState != "closed":
        found.append(f"peer connection {call.pc.connectionState}")
    return found


async def open_call(url: str, http: aiohttp.ClientSession) -> LoopbackCall:
    """A fresh candidate's call, once the agent has started to speak."""
    await sign_in(http, url, interview=INTERVIEW)
    call = LoopbackCall(url)
    await call.connect(http, await create_interview(http, url, INTERVIEW))
    await call.wait_event(lambda e: e.get("type") == "state" and e.get("state") == "speaking", timeout=20)
    return call


async def test_hanging_up_leaves_nothing_behind(server):
    async with new_http_session() as http:
        client = await open_call(server.url, http)
        call = server.calls.get(client.call_id)
        assert call is not None
        await until(lambda: len(client.recorder.voiced_arrivals) >= 75)  # 1.5 s into the greeting
        await client.hang_up()
    assert client.ended_reason() == "candidate_ended"
    await until(lambda: server.calls.get(client.call_id) is None)
    assert leftovers(call) == []
    # The greeting line that was being spoken is kept, cut to what was played.
    assert (await server.lines_after_call(client.interview_id))[0].interrupted


async def test_a_closed_connection_without_goodbye_ends_the_call(server):
    async with new_http_session() as http:
        client = await open_call(server.url, http)
        call = server.calls.get(client.call_id)
        await client.close()  # the tab closed: no "end" message
    await until(lambda: call.ended.is_set())
    assert call.end_reason == "hangup"
    assert leftovers(call) == []


async def test_a_peer_whose_audio_stops_is_reaped(tmp_path):
    runner, running = await start_server(test_settings(tmp_path, media_timeout_s=1.5))
    try:
        async with new_http_session() as http:
            client = await open_call(running.url, http)
            call = running.calls.get(client.call_id)
            client.mic.stop()  # a frozen tab: the connection stays up but no audio comes
            await client.wait_event(lambda e: e.get("type") == "ended", timeout=10)
            assert client.ended_reason() == "media_timeout"
            await until(lambda: running.calls.get(client.call_id) is None)
            assert leftovers(call) == []
            await client.close()
    finally:
        await runner.cleanup()


async def test_server_shutdown_tells_the_client_and_closes_every_call(tmp_path):
    runner, running = await start_server(test_settings(tmp_path))
    async with new_http_session() as http, new_http_session() as other:
        first = await open_call(running.url, http)
        second = await open_call(running.url, other)
        calls = [running.calls.get(first.call_id), running.calls.get(second.call_id)]
        await runner.cleanup()
        for client in (first, second):
            await client.wait_event(lambda e: e.get("type") == "ended", timeout=5)
            assert client.ended_reason() == "server_shutdown"
            await client.close()
    assert len(running.calls) == 0
    assert all(leftovers(call) == [] for call in calls)
    gc.collect()
    assert all(pc.connectionState == "closed" for pc in gc.get_objects() if isinstance(pc, RTCPeerConnection))

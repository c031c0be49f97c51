"""Calls that would hold a server's resources: offers that never connect, media ports that run out, and offers
that fail half-way. Each is tried as an attacker or an unlucky client would, against a real server."""

from __future__ import annotations

import asyncio
import socket
import uuid

import aiohttp
import pytest
import uvloop
from aiortc import RTCPeerConnection

from signaling.aiortc_patches import restrict_host_addresses, restrict_port_range, rtc_configuration
from signaling.client.api import ServerBusy, create_interview, new_http_session, sign_in
from signaling.client.webrtc import LoopbackCall
from tests.conftest import start_server, test_settings
from tests.signaling.test_port_range_patch import free_udp_range

INTERVIEW = {"role": "Backend Engineer", "interview_type": "technical", "duration_minutes": 10}


async def until(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def candidate_lines(sdp: str) -> list[str]:
    return [line for line in sdp.splitlines() if line.startswith("a=candidate:")]


def without_candidates(sdp: str) -> str:
    """The offer as a client that never starts ICE sends it: no candidate, no end-of-candidates."""
    kept = [line for line in sdp.split("\r\n") if not line.startswith(("a=candidate:", "a=end-of-candidates"))]
    return "\r\n".join(kept)


async def client_offer() -> tuple[RTCPeerConnection, str]:
    """A real aiortc client's offer (audio and the ``events`` channel); the caller closes the connection."""
    pc = RTCPeerConnection(rtc_configuration([]))
    pc.addTransceiver("audio")
    pc.createDataChannel("events")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def candidate_with_interview(url: str) -> tuple[aiohttp.ClientSession, str]:
    """A new signed-in candidate's HTTP session and a new interview of theirs."""
    http = new_http_session()
    await sign_in(http, url, interview=INTERVIEW)
    return http, await create_interview(http, url, INTERVIEW)


async def post_offer(http: aiohttp.ClientSession, url: str, interview_id: str, sdp: str) -> aiohttp.ClientResponse:
    async with http.post(f"{url}/api/interviews/{interview_id}/rtc", json={"sdp": sdp, "type": "offer"}) as response:
        await response.read()
        return response


async def answered_body(http: aiohttp.ClientSession, url: str, interview_id: str, sdp: str) -> tuple[int, dict]:
    async with http.post(f"{url}/api/interviews/{interview_id}/rtc", json={"sdp": sdp, "type": "offer"}) as response:
        return response.status, await response.json()


def activity_tasks(interview_id: str) -> list[asyncio.Task]:
    """The interview's activity clocks still running in this process (one per live call, none without)."""
    return [t for t in asyncio.all_tasks() if t.get_name() == f"activity-{interview_id}" and not t.done()]


async def interview_details(http: aiohttp.ClientSession, url: str, interview_id: str) -> dict:
    """The interview as its page reads it: its fields, plus ``live`` (a call is on)."""
    async with http.get(f"{url}/api/interviews/{interview_id}") as response:
        assert response.status == 200
        body = await response.json()
        return {**body["interview"], "live": body["live"]}


async def test_an_offer_that_never_starts_ice_is_ended_at_the_connect_deadline(tmp_path):
    runner, server = await start_server(test_settings(tmp_path, connect_timeout_s=1.0))
    pc, offer = await client_offer()
    http, interview_id = await candidate_with_interview(server.url)
    try:
        status, answer = await answered_body(http, server.url, interview_id, without_candidates(offer))
        assert status == 200
        (call,) = server.calls.for_interview(interview_id)
        assert call.pending
        answer_port = int(candidate_lines(answer["sdp"])[0].split()[5])

        await until(lambda: not server.calls.for_interview(interview_id), timeout=5.0)
        assert call.end_reason == "connect_timeout"
        async with http.get(f"{server.url}/api/status") as response:
            assert (await response.json())["since_start"]["calls_ended"].get("connect_timeout") == 1

        # The interview can be resumed; it is no longer live, and its clock neither ran nor runs.
        details = await interview_details(http, server.url, interview_id)
        assert details["status"] == "in_progress" and details["live"] is False
        assert details["active_seconds"] == 0.0
        assert activity_tasks(interview_id) == []
        # The call's media port is free again.
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", answer_port))
        probe.close()
    finally:
        await http.close()
        await pc.close()
        await runner.cleanup()


async def test_calls_still_connecting_are_capped_per_client_address(tmp_path):
    runner, server = await start_server(test_settings(tmp_path, max_pending_calls_per_address=2))
    peers = [await client_offer() for _ in range(4)]
    candidates = [await candidate_with_interview(server.url) for _ in range(4)]
    try:
        offers = [without_candidates(sdp) for _, sdp in peers]
        # Three accounts from one address race their offers: two are answered, the third is told to wait.
        results = await asyncio.gather(
            *(
                post_offer(http, server.url, interview_id, offers[i])
                for i, (http, interview_id) in enumerate(candidates[:3])
            )
        )
        assert sorted(r.status for r in results) == [200, 200, 429]
        (refused,) = [r for r in results if r.status == 429]
        refused_index = results.index(refused)
        async with candidates[refused_index][0].post(
            f"{server.url}/api/interviews/{candidates[refused_index][1]}/rtc", json={"sdp": offers[3], "type": "offer"}
        ) as response:
            assert response.status == 429
            assert (await response.json())["error"]["code"] == "too_many_pending_calls"
            assert 1 <= int(response.headers["Retry-After"]) <= 30

        # An account with a call still connecting may offer again: its new call replaces its own older one.
        accepted = [i for i, r in enumerate(results) if r.status == 200]
        http, interview_id = candidates[accepted[0]]
        assert (await post_offer(http, server.url, interview_id, offers[3])).status == 200
        pending = [c for c in server.calls.all() if c.pending]
        assert len(pending) == 2 and len(server.calls.for_interview(interview_id)) == 1
    finally:
        for http, _ in candidates:
            await http.close()
        for pc, _ in peers:
            await pc.close()
        await runner.cleanup()


def offered_ports_under_uvloop(blocked: int, range_size: int, offers: int) -> tuple[tuple[int, int], list[list[int]]]:
    """Under uvloop, with the port range set and its first ``blocked`` ports taken by another socket: the host
    candidate ports of ``offers`` offers."""

    async def run() -> tuple[tuple[int, int], list[list[int]]]:
        low, high = free_udp_range(range_size)
        blockers = []
        for port in range(low, low + blocked):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", port))
            blockers.append(sock)
        restrict_host_addresses(["127.0.0.1"])
        restrict_port_range((low, high))
        try:
            ports = []
            for _ in range(offers):
                pc = RTCPeerConnection(rtc_configuration([]))
                try:
                    pc.addTransceiver("audio")
                    await pc.setLocalDescription(await pc.createOffer())
                    ports.append([int(line.split()[5]) for line in candidate_lines(pc.localDescription.sdp)])
                finally:
                    await pc.close()
            return (low, high), ports
        finally:
            restrict_port_range(None)
            for sock in blockers:
                sock.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert isinstance(runner.get_loop(), uvloop.Loop)
        return runner.run(run())


def test_under_uvloop_the_port_range_skips_ports_that_are_taken():
    (low, high), ports = offered_ports_under_uvloop(blocked=5, range_size=10, offers=20)
    assert all(len(offer) == 1 for offer in ports), ports
    assert all(low + 5 <= offer[0] <= high for offer in ports), ports


def test_under_uvloop_a_range_with_every_port_taken_offers_no_candidate():
    _, ports = offered_ports_under_uvloop(blocked=3, range_size=3, offers=2)
    assert ports == [[], []]


async def test_an_offer_when_every_media_port_is_taken_is_told_to_retry(tmp_path):
    pc, offer = await client_offer()  # before the range is set: the range is process-wide
    low, high = free_udp_range(2)
    runner, server = await start_server(test_settings(tmp_path, rtc_port_min=low, rtc_port_max=high))
    blockers = []
    http, interview_id = await candidate_with_interview(server.url)
    try:
        for port in (low, high):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", port))
            blockers.append(sock)
        async with http.post(
            f"{server.url}/api/interviews/{interview_id}/rtc", json={"sdp": offer, "type": "offer"}
        ) as response:
            assert response.status == 503
            assert (await response.json())["error"]["code"] == "media_ports_exhausted"
            assert int(response.headers["Retry-After"]) >= 1
        assert server.calls.for_interview(interview_id) == []
        assert activity_tasks(interview_id) == []
        # The loopback client explains it the same way: try again in a moment.
        client = LoopbackCall(server.url)
        try:
            with pytest.raises(ServerBusy, match="try again in a moment") as refused:
                await client.connect(http, interview_id)
        finally:
            await client.close()
        assert refused.value.code == "media_ports_exhausted" and refused.value.retry_after >= 1

        # Once a port is free again, the same candidate gets an answer that can connect.
        blockers.pop().close()
        status, answer = await answered_body(http, server.url, interview_id, offer)
        assert status == 200 and candidate_lines(answer["sdp"])
    finally:
        for sock in blockers:
            sock.close()
        await http.close()
        await pc.close()
        await runner.cleanup()
        restrict_port_range(None)


def video_only_offer_with_a_stray_audio_line(sdp: str) -> str:
    """A real offer with its audio section turned into video, and ``m=audio`` hidden in an attribute."""
    return sdp.replace("m=audio", "m=video").replace("a=rtpmap:96 opus/48000/2", "a=rtpmap:96 VP8/90000\r\na=x:m=audio")


async def test_a_failed_offer_leaves_nothing_running(server):
    pc, offer = await client_offer()
    http, interview_id = await candidate_with_interview(server.url)
    try:
        for bad in (video_only_offer_with_a_stray_audio_line(offer), offer.replace("a=setup:", "a=setup:bogus ")):
            async with http.post(
                f"{server.url}/api/interviews/{interview_id}/rtc", json={"sdp": bad, "type": "offer"}
            ) as response:
                assert response.status == 400, await response.text()
                assert (await response.json())["error"]["code"] == "invalid_sdp"
        assert server.calls.for_interview(interview_id) == []
        assert activity_tasks(interview_id) == []
        details = await interview_details(http, server.url, interview_id)
        assert details["status"] == "in_progress" and details["active_seconds"] == 0.0
    finally:
        await http.close()
        await pc.close()


async def test_a_websocket_upgrade_reset_at_once_leaves_nothing_running(server):
    http, interview_id = await candidate_with_interview(server.url)
    try:
        cookies = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
        host, port = server.url.removeprefix("http://").split(":")
        before = server.app  # the same app serves the request below
        requests_before = _stream_requests(before)
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            (
                f"GET /api/interview/stream/{interview_id} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Key: {uuid.uuid4().hex[:22]}==\r\nCookie: {cookies}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        # Reset, not a polite close: the server's next write fails with ConnectionResetError.
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()
        await until(lambda: _stream_requests(before) > requests_before)
        await until(lambda: not server.calls.for_interview(interview_id))
        assert activity_tasks(interview_id) == []
        details = await interview_details(http, server.url, interview_id)
        assert details["status"] == "in_progress" and details["active_seconds"] == 0.0
    finally:
        await http.close()


def _stream_requests(app) -> float:
    """Requests to the stream route the server has finished handling, whatever their status."""
    from web import appkeys

    total = 0.0
    for metric in app[appkeys.MONITOR].http_requests.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("route") == "/api/interview/stream/{session_id}":
                total += sample.value
    return total

"""Networks: STUN/TURN servers reach aiortc and the browser, media stays in its UDP port range, and behind a NAT
the answer announces the public address."""

from __future__ import annotations

import asyncio
import contextlib

from aioice import stun
from aiortc import RTCPeerConnection, RTCSessionDescription

from signaling.aiortc_patches import restrict_port_range, rtc_configuration
from signaling.client.api import create_interview, new_http_session, sign_in
from signaling.client.webrtc import LoopbackCall
from signaling.sdp import announce_public_ip
from tests.conftest import start_server, test_settings

INTERVIEW = {"role": "Site Reliability Engineer", "interview_type": "technical", "duration_minutes": 10}


class StunResponder(asyncio.DatagramProtocol):
    """A STUN server of one method: a binding request gets the sender's address back."""

    def __init__(self) -> None:
        self.requests = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        try:
            request = stun.parse_message(data)
        except ValueError:
            return
        if request.message_method != stun.Method.BINDING or request.message_class != stun.Class.REQUEST:
            return
        self.requests += 1
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
        )
        response.attributes["XOR-MAPPED-ADDRESS"] = (addr[0], addr[1])
        assert self.transport is not None
        self.transport.sendto(bytes(response), addr)


def candidates(sdp: str) -> list[list[str]]:
    return [line.split() for line in sdp.splitlines() if line.startswith("a=candidate:")]


async def test_ice_servers_reach_aiortc_and_the_browser_and_media_stays_in_its_port_range(tmp_path):
    loop = asyncio.get_running_loop()
    transport, stun_server = await loop.create_datagram_endpoint(StunResponder, local_addr=("127.0.0.1", 0))
    stun_port = transport.get_extra_info("sockname")[1]
    ice_servers = [{"urls": f"stun:127.0.0.1:{stun_port}"}]
    settings = test_settings(tmp_path, ice_servers=ice_servers, rtc_port_min=41000, rtc_port_max=41009)
    runner, server = await start_server(settings)
    try:
        async with new_http_session() as http:
            async with http.get(f"{server.url}/api/config") as response:
                assert await response.json() == {"ice_servers": ice_servers}
            await sign_in(http, server.url, interview=INTERVIEW)
            call = LoopbackCall(server.url)
            try:
                await call.connect(http, await create_interview(http, server.url, INTERVIEW))
                await call.wait_agent_turn(0)
                answer = candidates(call.pc.remoteDescription.sdp)
            finally:
                await call.close()
        host = [c for c in answer if c[7] == "host"]
        reflexive = [c for c in answer if c[7] == "srflx"]
        assert host and all(41000 <= int(c[5]) <= 41009 for c in host), answer
        # The server asked the configured STUN server: its reflexive candidate is in the answer.
        assert stun_server.requests >= 1 and reflexive, answer
    finally:
        await runner.cleanup()
        transport.close()
        restrict_port_range(None)


async def test_behind_a_nat_the_answer_announces_the_public_address(tmp_path):
    runner, server = await start_server(test_settings(tmp_path, rtc_public_ip="203.0.113.77"))
    pc = RTCPeerConnection(rtc_configuration([]))
    try:
        async with new_http_session() as http:
            await sign_in(http, server.url, interview=INTERVIEW)
            interview_id = await create_interview(http, server.url, INTERVIEW)
            pc.createDataChannel("events")
            pc.addTransceiver("audio")
            await pc.setLocalDescription(await pc.createOffer())
            offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
            async with http.post(f"{server.url}/api/interviews/{interview_id}/rtc", json=offer) as response:
                assert response.status == 200
                answer = (await response.json())["sdp"]
        host = [c for c in candidates(answer) if c[7] == "host"]
        assert host and all(c[4] == "203.0.113.77" for c in host), answer
        assert "c=IN IP4 203.0.113.77" in answer and "127.0.0.1" not in answer
        # The sockets themselves stay on the machine's own address.
        local = server.calls.all()[0].pc.localDescription.sdp
        assert all(c[4] == "127.0.0.1" for c in candidates(local) if c[7] == "host")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    finally:
        with contextlib.suppress(Exception):
            await pc.close()
        await runner.cleanup()


def test_announce_public_ip_rewrites_only_host_candidates():
    sdp = "\r\n".join(
        [
            "v=0",
            "c=IN IP4 10.0.0.5",
            "a=candidate:1 1 udp 2130706431 10.0.0.5 40001 typ host",
            "a=candidate:2 1 udp 1694498815 198.51.100.9 40001 typ srflx raddr 10.0.0.5 rport 40001",
            "",
        ]
    )
    rewritten = announce_public_ip(sdp, "203.0.113.5").split("\r\n")
    assert rewritten[1] == "c=IN IP4 203.0.113.5"
    assert rewritten[2] == "a=candidate:1 1 udp 2130706431 203.0.113.5 40001 typ host"
    assert rewritten[3] == sdp.split("\r\n")[3]
    assert announce_public_ip(sdp, None) == sdp

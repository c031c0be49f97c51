"""The UDP port-range patch of signaling/aiortc_patches.py still fits aioice, and binds only inside the range."""

from __future__ import annotations

import asyncio
import inspect
import socket

import aioice.ice
import pytest
from aiortc import RTCPeerConnection

from signaling.aiortc_patches import current_port_range, restrict_host_addresses, restrict_port_range, rtc_configuration


def test_aioice_still_binds_host_candidates_through_the_running_loop():
    source = inspect.getsource(aioice.ice.Connection.get_component_candidates)
    assert "asyncio.get_running_loop()" in source
    assert "create_datagram_endpoint(" in source and "local_addr=(address, 0)" in source


def free_udp_range(size: int) -> tuple[int, int]:
    """``size`` consecutive UDP ports of 127.0.0.1 that are free right now."""
    for low in range(42000, 60000, size):
        sockets = []
        try:
            for port in range(low, low + size):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return low, low + size - 1
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no free UDP range")


async def offer_ports() -> list[int]:
    pc = RTCPeerConnection(rtc_configuration([]))
    try:
        pc.addTransceiver("audio")
        await pc.setLocalDescription(await pc.createOffer())
        return [
            int(line.split()[5]) for line in pc.localDescription.sdp.splitlines() if line.startswith("a=candidate:")
        ]
    finally:
        await pc.close()


async def test_candidates_take_ports_of_the_range_and_a_taken_port_is_skipped():
    restrict_host_addresses(["127.0.0.1"])
    low, high = free_udp_range(2)
    restrict_port_range((low, high))
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert current_port_range() == (low, high)
        blocker.bind(("127.0.0.1", low))
        for _ in range(3):
            assert await offer_ports() == [high]
        # The whole range taken: no candidate rather than a port outside the range.
        pc = RTCPeerConnection(rtc_configuration([]))
        holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        holder.bind(("127.0.0.1", high))
        try:
            assert await offer_ports() == []
        finally:
            holder.close()
            await pc.close()
    finally:
        blocker.close()
        restrict_port_range(None)
    assert current_port_range() is None and aioice.ice.asyncio is asyncio
    with pytest.raises(ValueError):
        restrict_port_range((5000, 4000))

"""The one place where aiortc and aioice are adjusted (DESIGN §1).

Each patch names the library version it was written against; ``tests/signaling/test_aiortc_patches.py`` fails
if the patched function changes shape under a new release.

1. Host addresses for ICE candidates (aioice 0.13.0, ``aioice.ice.get_host_addresses(use_ipv4, use_ipv6)``):
   aioice gathers a host candidate on every interface *except* loopback, so a server on 127.0.0.1 (tests, a
   laptop) could never be reached, and a test would send media out of the machine's real interfaces. The
   patch makes aioice offer exactly the configured addresses (``MEDIA_HOST_ADDRESSES``).
2. ICE servers (aiortc 1.16.0, ``RTCIceGatherer``): with no ``iceServers`` aiortc falls back to Google's
   public STUN server. ``rtc_configuration`` always passes an explicit list, empty unless configured.
3. The inbound audio jitter buffer (aiortc 1.16.0, ``aiortc.rtcrtpreceiver.JitterBuffer``, built in
   ``RTCRtpReceiver.__init__`` with ``capacity=16, prefetch=4`` for audio): it holds every frame about 80 ms.
   ``use_speech_jitter_buffer`` makes new receivers use ``SpeechJitterBuffer`` (``signaling/jitter_buffer.py``)
   for audio instead (``INBOUND_JITTER_BUFFER=speech``, the default).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import json
import random
import types
from collections.abc import Sequence
from typing import Any

import aioice.ice
import aiortc.rtcrtpreceiver
from aiortc import RTCConfiguration, RTCIceServer
from aiortc.jitterbuffer import JitterBuffer

from signaling.jitter_buffer import SpeechJitterBuffer

_original_get_host_addresses = aioice.ice.get_host_addresses
_host_addresses: list[str] | None = None


def _configured_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if _host_addresses is None:
        return _original_get_host_addresses(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
    chosen = []
    for address in _host_addresses:
        version = ipaddress.ip_address(address).version
        if (version == 4 and use_ipv4) or (version == 6 and use_ipv6):
            chosen.append(address)
    return chosen


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def restrict_host_addresses(addresses: Sequence[str] | None) -> None:
    """Offer ICE host candidates on exactly these addresses (None: every interface but loopback, aioice's
    own behaviour). Process-wide: aioice reads it from a module function."""
    global _host_addresses
    if addresses is not None:
        for address in addresses:
            ipaddress.ip_address(address)  # raises ValueError on a typo
    _host_addresses = list(addresses) if addresses is not None else None
    aioice.ice.get_host_addresses = _configured_host_addresses


#: Set by ``use_speech_jitter_buffer``.
_reorder_packets: int | None = None


def _speech_or_video_jitter_buffer(
    capacity: int, prefetch: int = 0, is_video: bool = False
) -> JitterBuffer | SpeechJitterBuffer:
    if is_video:
        return JitterBuffer(capacity, prefetch, is_video)
    return SpeechJitterBuffer(capacity, _reorder_packets)


def use_speech_jitter_buffer(enabled: bool = True, reorder_packets: int | None = None) -> None:
    """Receivers created from now on buffer inbound audio with ``SpeechJitterBuffer`` (``enabled``; holding up
    to ``reorder_packets`` later packets while one is missing, by default ``TurnOptions``') or with aiortc's own
    ``JitterBuffer`` (80 ms of prefetch). Process-wide."""
    global _reorder_packets
    _reorder_packets = reorder_packets
    aiortc.rtcrtpreceiver.JitterBuffer = _speech_or_video_jitter_buffer if enabled else JitterBuffer  # type: ignore[assignment]


def speech_buffer_of(receiver: Any) -> SpeechJitterBuffer | None:
    """The ``SpeechJitterBuffer`` of an aiortc ``RTCRtpReceiver``, if it has one (a private attribute of
    aiortc 1.16.0: ``RTCRtpReceiver.__jitter_buffer``)."""
    buffer = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
    return buffer if isinstance(buffer, SpeechJitterBuffer) else None


def parse_ice_servers(value: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """``ICE_SERVERS`` as a list of ``{"urls": ..., "username": ..., "credential": ...}`` objects."""
    if value is None or value == "":
        return []
    servers = json.loads(value) if isinstance(value, str) else value
    if not isinstance(servers, list) or not all(isinstance(s, dict) and "urls" in s for s in servers):
        raise ValueError('ICE_SERVERS must be a JSON list of objects with "urls"')
    return servers


def rtc_configuration(ice_servers: list[dict[str, Any]]) -> RTCConfiguration:
    """An aiortc configuration with an explicit (possibly empty) list of ICE servers: never the public
    STUN fallback."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in ice_servers
        ]
    )


# ---------------------------------------------------------------------------------------------------------------
# A fixed UDP port range for media (aioice 0.13.0, ``aioice.ice.Connection.get_component_candidates``): aioice
# binds every host candidate's socket with ``loop.create_datagram_endpoint(..., local_addr=(address, 0))``, an
# ephemeral port a firewall or a container cannot open in advance. The patch gives ``aioice.ice`` an ``asyncio``
# whose running loop binds such sockets to a free port of ``RTC_PORT_MIN``..``RTC_PORT_MAX`` instead (random
# start, the next port when one cannot be bound, whatever the loop's error: several workers share the range).
# When every port is taken aioice gathers no host candidate at all, so the answer must be checked
# (``signaling.sdp.has_host_candidate``). Everything else goes to the real module and loop untouched.

_port_range: tuple[int, int] | None = None


class _PortRangeLoop:
    """The running loop, except that an ephemeral UDP bind takes a port of the configured range."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)

    async def create_datagram_endpoint(self, protocol_factory: Any, local_addr: Any = None, **kwargs: Any) -> Any:
        port_range = _port_range
        if port_range is None or local_addr is None or local_addr[1] != 0:
            return await self._loop.create_datagram_endpoint(protocol_factory, local_addr=local_addr, **kwargs)
        low, high = port_range
        count = high - low + 1
        start = random.randrange(count)
        for offset in range(count):
            port = low + (start + offset) % count
            try:
                return await self._loop.create_datagram_endpoint(
                    protocol_factory, local_addr=(local_addr[0], port), **kwargs
                )
            except OSError:
                # Any bind failure moves on: uvloop raises "could not bind" with errno None for a taken port,
                # where the asyncio loop sets EADDRINUSE.
                continue
        raise OSError(errno.EADDRINUSE, f"every UDP port of {low}-{high} on {local_addr[0]} is in use")


class _AsyncioWithPortRange(types.ModuleType):
    """``asyncio`` as ``aioice.ice`` sees it: the real module, with ``get_running_loop`` wrapped."""

    def __init__(self) -> None:
        super().__init__("asyncio")

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    def get_running_loop() -> Any:
        return _PortRangeLoop(asyncio.get_running_loop())


def restrict_port_range(port_range: tuple[int, int] | None) -> None:
    """Bind media sockets (ICE host candidates) to ports of ``(lowest, highest)`` only; None: any port.
    Process-wide, like ``restrict_host_addresses``."""
    global _port_range
    if port_range is not None:
        low, high = port_range
        if not 1 <= low <= high <= 65535:
            raise ValueError(f"not a UDP port range: {low}-{high}")
        aioice.ice.asyncio = _AsyncioWithPortRange()  # type: ignore[attr-defined]
    else:
        aioice.ice.asyncio = asyncio  # type: ignore[attr-defined]
    _port_range = port_range


def current_port_range() -> tuple[int, int] | None:
    """The range set by ``restrict_port_range`` (None when unrestricted)."""
    return _port_range

"""What the loopback client needs of its process: applied once by the program that runs it (the ``call``
command, a benchmark, a test fixture), never by a call, because both adjustments are process-wide and a
server in the same process has its own settings for them."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from signaling.aiortc_patches import is_loopback_host, restrict_host_addresses, use_speech_jitter_buffer


def server_is_local(server_url: str) -> bool:
    """Whether the server's URL names this machine's loopback (127.0.0.0/8, ::1, ``localhost``)."""
    return is_loopback_host(urlsplit(server_url).hostname or "127.0.0.1")


def prepare_client_process(server_url: str, media_addresses: Sequence[str] | None = None) -> None:
    """Set this process up for loopback calls to ``server_url`` over WebRTC.

    ICE host candidates go on ``media_addresses``; by default on 127.0.0.1 for a server on this machine
    (aioice never offers loopback on its own), else on every interface. And the client records what arrives as
    it arrives: the speech jitter buffer, not aiortc's 80 ms of prefetch between the network and the figures it
    measures (a browser adds its own playout delay)."""
    if media_addresses is None and server_is_local(server_url):
        media_addresses = ["127.0.0.1"]
    restrict_host_addresses(media_addresses)
    use_speech_jitter_buffer(True)

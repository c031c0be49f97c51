"""The floor: a bare aiortc server that does what every voice server must and nothing else.

One ``POST /offer`` endpoint takes ``{sdp, type}`` and answers (non-trickle); each call decodes every inbound
frame (``track.recv()`` in a loop, frames thrown away) and sends a paced 440 Hz tone at -20 dBFS, one 20 ms
frame per ``recv()`` on a monotonic clock. No STUN server (``iceServers`` empty) and ICE host candidates on
127.0.0.1 only. ``GET /healthz`` answers 200 once it listens. ``concurrency.py`` runs it next to ours with the
same clients, so our CPU per call can be read as a ratio to this floor.

    .venv/bin/python benchmarks/bare_server.py --port 8090
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import sys
import uuid
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiohttp import web
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signaling.aiortc_patches import restrict_host_addresses, rtc_configuration
from signaling.pacing import PacingClock

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)


def tone_frames(frequency: float = 440.0, dbfs: float = -20.0) -> list[np.ndarray]:
    """One second of a sine tone (a whole number of cycles at 440 Hz) cut into 20 ms int16 frames."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    amplitude = 32767 * 10 ** (dbfs / 20) * np.sqrt(2)  # the RMS of the tone is ``dbfs``
    samples = (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
    return [samples[i : i + FRAME_SAMPLES] for i in range(0, SAMPLE_RATE, FRAME_SAMPLES)]


class ToneTrack(MediaStreamTrack):
    """A paced tone: one 20 ms, 48 kHz mono frame per ``recv()``."""

    kind = "audio"

    def __init__(self, frames: list[np.ndarray]) -> None:
        super().__init__()
        self._frames = frames
        #: The same pacing as the server's track (``late_frames`` counts the frames produced late).
        self.clock = PacingClock(FRAME_SAMPLES / SAMPLE_RATE)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self.clock.wait()
        samples = self._frames[index % len(self._frames)]
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = index * FRAME_SAMPLES
        frame.time_base = TIME_BASE
        return frame


async def _consume(track: MediaStreamTrack) -> None:
    """Decode every inbound frame until the track ends."""
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()


PEERS = web.AppKey("peers", dict)
TONE = web.AppKey("tone", list)


async def offer(request: web.Request) -> web.Response:
    """POST /offer: ``{sdp, type}`` in, the answer out."""
    body = await request.json()
    peers: dict[str, RTCPeerConnection] = request.app[PEERS]
    pc = RTCPeerConnection(rtc_configuration([]))
    pc_id = uuid.uuid4().hex[:12]
    peers[pc_id] = pc
    consumers: list[asyncio.Task[None]] = []

    @pc.on("track")
    def on_track(track: Any) -> None:
        if track.kind == "audio":
            consumers.append(asyncio.get_running_loop().create_task(_consume(track)))

    @pc.on("connectionstatechange")
    async def on_state() -> None:
        if pc.connectionState in ("failed", "closed"):
            peers.pop(pc_id, None)
            for task in consumers:
                task.cancel()
            await pc.close()

    await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type=body["type"]))
    pc.addTrack(ToneTrack(request.app[TONE]))
    await pc.setLocalDescription(await pc.createAnswer())
    return web.json_response({"sdp": pc.localDescription.sdp, "type": pc.localDescription.type, "pc_id": pc_id})


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: 200 with the number of live peer connections."""
    return web.json_response({"ok": True, "peers": len(request.app[PEERS])})


async def _close_peers(app: web.Application) -> None:
    await asyncio.gather(*(pc.close() for pc in list(app[PEERS].values())), return_exceptions=True)
    app[PEERS].clear()


def create_app() -> web.Application:
    """The bare server's aiohttp application."""
    app = web.Application()
    app[PEERS] = {}
    app[TONE] = tone_frames()
    app.router.add_post("/offer", offer)
    app.router.add_get("/healthz", healthz)
    app.on_shutdown.append(_close_peers)
    return app


def main() -> None:
    """Serve on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description="a bare aiortc server: decode inbound, send a paced tone")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    restrict_host_addresses([args.host])
    web.run_app(create_app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()

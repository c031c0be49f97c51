"""The loopback client over WebRTC (``POST /api/interviews/{id}/rtc``, Opus audio and the ``events`` channel).

It needs the process prepared once (``media_setup.prepare_client_process``): aioice never offers a loopback
host candidate on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription

from signaling.aiortc_patches import rtc_configuration
from signaling.client.api import CallFailed, api_request
from signaling.client.base import BaseLoopbackCall
from signaling.client.recorder import AgentRecorder
from signaling.client.speech_queue import SpeechQueue
from signaling.tracks import PacedAudioTrack, consume_audio
from voice_agent.audio import OUT_FRAME_SAMPLES


class MicrophoneTrack(PacedAudioTrack):
    """The candidate's microphone over WebRTC: plays queued speech (48 kHz) on the paced clock, silence otherwise."""

    def __init__(self) -> None:
        self.speech = SpeechQueue(OUT_FRAME_SAMPLES)
        super().__init__(self.speech.next_frame)

    def play(self, pcm48k: np.ndarray) -> asyncio.Future[float]:
        """Queue speech; see ``SpeechQueue.play``."""
        return self.speech.play(pcm48k)

    def stop_speaking(self) -> None:
        """Drop what is still queued."""
        self.speech.stop_speaking()

    @property
    def first_voiced(self) -> float | None:
        """When the first voiced frame of the current speech left."""
        return self.speech.first_voiced


class LoopbackCall(BaseLoopbackCall):
    """One WebRTC call to the server, driven turn by turn."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.pc = RTCPeerConnection(rtc_configuration([]))
        self.mic = MicrophoneTrack()
        self.recorder = AgentRecorder()
        self._channel: Any = None
        self._consumer: asyncio.Task[None] | None = None

    async def connect(self, http: aiohttp.ClientSession, interview_id: str, timeout: float = 15.0) -> None:
        """Offer, answer, and wait until the media and the events channel are up (``http`` carries the
        login cookie)."""
        self.interview_id = interview_id
        channel = self.pc.createDataChannel("events")
        self._channel = channel
        opened = asyncio.Event()
        channel.on("open", opened.set)
        channel.on("message", self._on_message)

        @self.pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                self._consumer = asyncio.get_running_loop().create_task(consume_audio(track, self.recorder.on_frame))

        self.pc.addTrack(self.mic)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        body: dict[str, Any] = {"sdp": self.pc.localDescription.sdp, "type": self.pc.localDescription.type}
        data = await api_request(http, "POST", f"{self.base_url}/api/interviews/{interview_id}/rtc", body)
        self.call_id = data.get("call_id", "")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type=data["type"]))
        try:
            await asyncio.wait_for(opened.wait(), timeout)
        except TimeoutError as exc:
            raise CallFailed("the call did not connect in time") from exc

    def _on_message(self, message: Any) -> None:
        try:
            event = json.loads(message)
        except (TypeError, ValueError):
            return
        if isinstance(event, dict):
            self.add_event(event)

    def send(self, message: dict[str, Any]) -> None:
        """A control message to the server (``end``, ``mute``, ``unmute``)."""
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(json.dumps(message))

    def send_raw(self, message: str | bytes) -> None:
        """Any message over the events channel, as is (a test's malformed input)."""
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(message)

    async def close(self) -> None:
        """Release the peer connection and the receiving task."""
        self.mic.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._consumer

"""One WebRTC call: an aiortc peer connection adapted to a ``CallSession``.

Inbound audio frames go to the session, the session's frames go out through a paced track, and its events go
to the client over the ``events`` data channel (queued until the channel opens). The session starts (and the
agent greets) once the connection is up and the channel is open, so the candidate hears the greeting from
its first word.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from signaling.aiortc_patches import rtc_configuration, speech_buffer_of
from signaling.live_call import LiveCall
from signaling.messages import INVALID_JSON, parse_client_message
from signaling.sdp import has_host_candidate, media_kinds
from signaling.tracks import PacedAudioTrack, consume_audio, opus_encoder

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "events"
#: The end reason of a call that was answered but never connected.
CONNECT_TIMEOUT = "connect_timeout"


class OfferError(ValueError):
    """The SDP offer cannot start a call (the message says why)."""


class MediaPortsExhausted(RuntimeError):
    """No media socket could be bound (every port of the range is taken): the answer would not connect."""


class RtcCall(LiveCall):
    """A live WebRTC call. ``answer()`` takes the offer."""

    transport = "webrtc"

    def __init__(
        self,
        *,
        ice_servers: list[dict[str, Any]],
        channel_wait_s: float = 2.0,
        connect_timeout_s: float = 30.0,
        opus_complexity: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._channel_wait_s = channel_wait_s
        self._connect_timeout_s = connect_timeout_s
        self.pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self.track = PacedAudioTrack(
            self.pull_agent_frame, encoder=opus_encoder(opus_complexity), on_late=self._on_late_frame
        )
        self._channel: RTCDataChannel | None = None
        self._outbox: list[str] = []
        self._consumer: asyncio.Task[None] | None = None
        self._inbound_attached = False
        self._starter: asyncio.Task[None] | None = None
        self._channel_open = asyncio.Event()
        self._connected = asyncio.Event()
        self._wire_events()

    def _wire_events(self) -> None:
        pc = self.pc

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label != EVENTS_CHANNEL:
                return
            self._channel = channel
            channel.on("message", self._on_channel_message)
            channel.on("close", lambda: self.spawn_close("hangup"))
            if channel.readyState == "open":
                self._flush_outbox()
            else:
                channel.on("open", self._flush_outbox)

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind != "audio" or self._inbound_attached:
                return
            self._inbound_attached = True
            receiver = next((t.receiver for t in pc.getTransceivers() if t.receiver.track is track), None)
            buffer = speech_buffer_of(receiver)
            if buffer is not None:
                # Decoded in the event loop as each packet arrives (signaling/jitter_buffer.py says why).
                buffer.deliver_to(self._on_inbound_frame)
            else:
                self._consumer = asyncio.get_running_loop().create_task(
                    consume_audio(track, self._on_inbound_frame), name=f"inbound-{self.id}"
                )

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            state = pc.connectionState
            log.info("call %s interview %s: connection %s", self.id, self.interview_id, state)
            if state == "connected":
                self.mark_connected()
                self._connected.set()
            elif state == "failed":
                self.spawn_close("connection_failed")
            elif state == "closed":
                self.spawn_close("hangup")

    async def answer(self, sdp: str, sdp_type: str = "offer") -> RTCSessionDescription:
        """Apply the client's offer and return the answer (non-trickle: every candidate is in it).

        ``OfferError`` for an offer that cannot be answered, ``MediaPortsExhausted`` when the answer would
        carry no host candidate. From the answer on, a call that has not connected within the connect timeout
        ends with reason ``connect_timeout``."""
        if sdp_type != "offer":
            raise OfferError("expected an SDP of type 'offer'")
        if "audio" not in media_kinds(sdp):
            raise OfferError("the offer has no audio track")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:
            raise OfferError(f"the SDP offer could not be parsed: {exc}") from exc
        try:
            self.pc.addTrack(self.track)
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        except Exception as exc:
            # aiortc accepts some offers it then cannot answer (a video-only offer with a stray audio line).
            raise OfferError(f"the SDP offer cannot be answered: {exc}") from exc
        if not has_host_candidate(self.pc.localDescription.sdp):
            raise MediaPortsExhausted("no media port could be bound for this call")
        self._starter = asyncio.get_running_loop().create_task(self._start_when_ready(), name=f"start-{self.id}")
        return self.pc.localDescription

    async def _start_when_ready(self) -> None:
        try:
            await asyncio.wait_for(self._connected.wait(), self._connect_timeout_s)
        except TimeoutError:
            log.warning(
                "call %s interview %s: not connected %.0f s after the answer (%s)",
                self.id,
                self.interview_id,
                self._connect_timeout_s,
                CONNECT_TIMEOUT,
            )
            self.spawn_close(CONNECT_TIMEOUT)
            return
        self.start_watchdog()
        if not self._channel_open.is_set():
            # The client opens the channel right after connecting; a client without one still gets audio.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._channel_open.wait(), self._channel_wait_s)
        if not self._closing:
            await self.session.start()

    def _on_channel_message(self, message: Any) -> None:
        data = parse_client_message(message)
        if data is not None:
            self.on_client_message(data)
        elif isinstance(message, bytes):
            self.send_event({"type": "error", "code": "binary_not_supported", "message": "Send JSON text messages."})
        else:
            self.send_event({"type": "error", "code": "invalid_json", "message": INVALID_JSON})

    def _flush_outbox(self) -> None:
        self._channel_open.set()
        channel = self._channel
        while self._outbox and channel is not None and channel.readyState == "open":
            channel.send(self._outbox.pop(0))

    def _deliver(self, message: str) -> None:
        self._outbox.append(message)
        if self._channel is not None and self._channel.readyState == "open":
            self._flush_outbox()

    async def transport_stats(self) -> dict[str, Any]:
        """Packets, loss and jitter of the candidate's audio, packets of the agent's (from aiortc), and the late
        frames of the paced track."""
        stats: dict[str, Any] = {}
        with contextlib.suppress(Exception):
            report = await self.pc.getStats()
            for item in report.values():
                if item.type == "inbound-rtp":
                    stats.update(
                        inbound_packets=item.packetsReceived,
                        inbound_lost=item.packetsLost,
                        inbound_jitter_ms=round(item.jitter * 1000, 1) if item.jitter is not None else None,
                    )
                elif item.type == "outbound-rtp":
                    stats.update(outbound_packets=item.packetsSent)
        stats["late_outbound_frames"] = self.track.late_frames
        return stats

    async def _drain(self, timeout: float = 1.0) -> None:
        """Give the last events (``ended``) a moment to leave before the connection closes."""
        channel = self._channel
        if channel is None or channel.readyState != "open":
            return
        deadline = time.monotonic() + timeout
        while channel.bufferedAmount > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)

    async def _release(self) -> None:
        for task in (self._starter, self._consumer):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self.track.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()

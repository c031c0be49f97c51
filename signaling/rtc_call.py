"""One WebRTC call: an aiortc peer connection adapted to a ``CallSession``.

Inbound audio frames go to the session, the session's frames go out through a paced track, and its events go
to the client over the ``events`` data channel (queued until the channel opens). The session starts (and the
agent greets) once the connection is up and the channel is open, so the candidate hears the greeting from
its first word.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from signaling.aiortc_patches import rtc_configuration
from signaling.tracks import PacedAudioTrack, consume_audio
from voice_agent.events import CallEnded, LineCommitted, SessionEvent, SpokenLine
from voice_agent.session import CallSession, EventSink

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "events"
SessionFactory = Callable[[EventSink], CallSession]


class OfferError(ValueError):
    """The SDP offer cannot start a call (the message says why)."""


class RtcCall:
    """A live call. ``answer()`` takes the offer; ``close()`` tears everything down; ``ended`` is set after."""

    def __init__(
        self,
        *,
        interview_id: str,
        session_factory: SessionFactory,
        ice_servers: list[dict[str, Any]],
        user_id: str | None = None,
        on_event: Callable[[RtcCall, SessionEvent], None] | None = None,
        on_closed: Callable[[RtcCall], Awaitable[None]] | None = None,
        channel_wait_s: float = 2.0,
        media_timeout_s: float = 15.0,
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.interview_id = interview_id
        self.user_id = user_id
        self.started_monotonic = time.monotonic()
        self.lines: list[SpokenLine] = []
        self.end_reason: str | None = None
        self.ended = asyncio.Event()
        self._on_event = on_event
        self._on_closed = on_closed
        #: Awaited (in order) after the call has ended and its own after-call work is done.
        self.ended_callbacks: list[Callable[[], Awaitable[None]]] = []
        self._channel_wait_s = channel_wait_s
        self._media_timeout_s = media_timeout_s
        self.last_inbound = time.monotonic()
        self.inbound_frames = 0
        self._watchdog: asyncio.Task[None] | None = None
        self.session = session_factory(self._handle_event)
        self.pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self.track = PacedAudioTrack(self.session.pull_frame)
        self._channel: RTCDataChannel | None = None
        self._outbox: list[str] = []
        self._consumer: asyncio.Task[None] | None = None
        self._starter: asyncio.Task[None] | None = None
        self._channel_open = asyncio.Event()
        self._connected = asyncio.Event()
        self._closing = False
        self._wire_events()

    def _wire_events(self) -> None:
        pc = self.pc

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label != EVENTS_CHANNEL:
                return
            self._channel = channel
            channel.on("message", self._on_client_message)
            channel.on("close", lambda: self._spawn_close("hangup"))
            if channel.readyState == "open":
                self._flush_outbox()
            else:
                channel.on("open", self._flush_outbox)

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio" and self._consumer is None:
                self._consumer = asyncio.get_running_loop().create_task(
                    consume_audio(track, self._on_inbound_frame), name=f"inbound-{self.id}"
                )

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            state = pc.connectionState
            log.info("call %s interview %s: connection %s", self.id, self.interview_id, state)
            if state == "connected":
                self._connected.set()
            elif state == "failed":
                self._spawn_close("connection_failed")
            elif state == "closed":
                self._spawn_close("hangup")

    def _on_inbound_frame(self, frame: Any) -> None:
        self.last_inbound = time.monotonic()
        self.inbound_frames += 1
        self.session.push_frame(frame)

    async def _watch_media(self) -> None:
        """End a call whose candidate's audio stopped arriving (a frozen tab, a vanished peer) even if ICE has
        not noticed yet."""
        while True:
            await asyncio.sleep(min(1.0, self._media_timeout_s / 4))
            if time.monotonic() - self.last_inbound > self._media_timeout_s:
                log.info("call %s: no audio for %.0f s", self.id, self._media_timeout_s)
                self._spawn_close("media_timeout")
                return

    async def answer(self, sdp: str, sdp_type: str = "offer") -> RTCSessionDescription:
        """Apply the client's offer and return the answer (non-trickle: every candidate is in it)."""
        if sdp_type != "offer":
            raise OfferError("expected an SDP of type 'offer'")
        if "m=audio" not in sdp:
            raise OfferError("the offer has no audio track")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:
            raise OfferError(f"the SDP offer could not be parsed: {exc}") from exc
        self.pc.addTrack(self.track)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._starter = asyncio.get_running_loop().create_task(self._start_when_ready(), name=f"start-{self.id}")
        return self.pc.localDescription

    async def _start_when_ready(self) -> None:
        await self._connected.wait()
        self.last_inbound = time.monotonic()
        self._watchdog = asyncio.get_running_loop().create_task(self._watch_media(), name=f"watchdog-{self.id}")
        if not self._channel_open.is_set():
            # The client opens the channel right after connecting; a client without one still gets audio.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._channel_open.wait(), self._channel_wait_s)
        if not self._closing:
            await self.session.start()

    def _flush_outbox(self) -> None:
        self._channel_open.set()
        channel = self._channel
        while self._outbox and channel is not None and channel.readyState == "open":
            channel.send(self._outbox.pop(0))

    def send_event(self, message: dict[str, Any]) -> None:
        """Send a JSON event to the client (queued until the channel is open)."""
        self._outbox.append(json.dumps(message))
        if self._channel is not None and self._channel.readyState == "open":
            self._flush_outbox()

    def _handle_event(self, event: SessionEvent) -> None:
        if isinstance(event, LineCommitted):
            self.lines.append(event.line)
        wire = event.to_wire()
        if wire is not None:
            self.send_event(wire)
        if self._on_event is not None:
            self._on_event(self, event)
        if isinstance(event, CallEnded):
            self.end_reason = self.end_reason or event.reason
            self._spawn_close(event.reason)

    def _on_client_message(self, message: Any) -> None:
        try:
            data = json.loads(message) if isinstance(message, str) else None
            kind = data.get("type") if isinstance(data, dict) else None
        except ValueError:
            kind = None
        if kind == "end":
            self._spawn_close("candidate_ended")
        elif kind in ("mute", "unmute"):
            self.session.set_muted(kind == "mute")
        else:
            self.send_event({"type": "error", "code": "bad_message", "message": "unknown client message"})

    def _spawn_close(self, reason: str) -> None:
        if not self._closing:
            asyncio.get_running_loop().create_task(self.close(reason), name=f"close-{self.id}")

    async def close(self, reason: str = "hangup") -> None:
        """End the session (keeping every spoken line), tell the client, and release the connection."""
        if self._closing:
            await self.ended.wait()
            return
        self._closing = True
        self.end_reason = self.end_reason or reason
        try:
            await self.session.close(reason)
            await self._drain_channel()
        finally:
            for task in (self._starter, self._consumer, self._watchdog):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            self.track.stop()
            with contextlib.suppress(Exception):
                await self.pc.close()
            callbacks = [lambda: self._on_closed(self)] if self._on_closed is not None else []
            for callback in [*callbacks, *self.ended_callbacks]:
                try:
                    await callback()
                except Exception:
                    log.exception("call %s: after-call work failed", self.id)
            self.ended.set()
            log.info("call %s interview %s ended: %s", self.id, self.interview_id, self.end_reason)

    async def _drain_channel(self, timeout: float = 1.0) -> None:
        """Give the last events (``ended``) a moment to leave before the connection closes."""
        channel = self._channel
        if channel is None or channel.readyState != "open":
            return
        deadline = time.monotonic() + timeout
        while channel.bufferedAmount > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)

"""What every live call has, whatever carries its audio (WebRTC, WebSocket): a ``CallSession``, its events to
the client, a watchdog for audio that stopped, and an orderly end.

A transport subclasses ``LiveCall``: it sends events with ``_deliver``, feeds inbound audio through
``_on_inbound_frame``/``_on_inbound_pcm``, reports each outbound frame its paced clock produced late with
``_on_late_frame``, answers ``transport_stats()`` with its own figures, and releases its own resources in
``_release``.
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

import av
import numpy as np

from signaling.recording import CallRecorder
from voice_agent.events import CallEnded, LineCommitted, SessionEvent, SpokenLine
from voice_agent.session import CallSession, EventSink

log = logging.getLogger(__name__)

SessionFactory = Callable[[EventSink], CallSession]
#: A sink for every session event of a call (the app's metrics and stores).
CallObserver = Callable[["LiveCall", SessionEvent], None]


class LiveCall:
    """A call in progress; ``close()`` ends it (idempotent) and ``ended`` is set once everything is released."""

    transport = "unknown"

    def __init__(
        self,
        *,
        interview_id: str,
        session_factory: SessionFactory,
        user_id: str | None = None,
        on_event: CallObserver | None = None,
        on_closed: Callable[[LiveCall], Awaitable[None]] | None = None,
        media_timeout_s: float = 15.0,
        client_address: str | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.interview_id = interview_id
        self.user_id = user_id
        #: Where the call came from (the client's address, as the app sees it through trusted proxies).
        self.client_address = client_address
        self.started_monotonic = time.monotonic()
        #: When the media connection came up (``time.monotonic()``); None while the call is still connecting.
        self.connected_at: float | None = None
        self.lines: list[SpokenLine] = []
        self.end_reason: str | None = None
        self.ended = asyncio.Event()
        self.last_inbound = time.monotonic()
        self.inbound_frames = 0
        #: Observers of every session event (metrics, recording...); the plan's own hook comes first.
        self.observers: list[CallObserver] = [on_event] if on_event is not None else []
        #: Called for each outbound frame the transport's paced clock produced late (the app counts them).
        self.late_frame_observers: list[Callable[[], None]] = []
        #: Awaited (in order) after the call has ended and its own after-call work is done.
        self.ended_callbacks: list[Callable[[], Awaitable[None]]] = []
        self._on_closed = on_closed
        self._media_timeout_s = media_timeout_s
        #: Set by the app when the call is recorded: it hears both sides.
        self.recorder: CallRecorder | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closing = False
        self.session = session_factory(self._handle_event)

    # ------------------------------------------------------------------ to be provided by a transport

    def _deliver(self, message: str) -> None:
        """Send one JSON event to the client (may queue)."""
        raise NotImplementedError

    async def _drain(self) -> None:
        """Give the last events a moment to leave before the transport closes."""

    async def _release(self) -> None:
        """Close the transport and its tasks."""

    async def transport_stats(self) -> dict[str, Any]:
        """The transport's own figures for the status endpoint (packets, bytes, late frames...)."""
        return {}

    # ------------------------------------------------------------------ shared behaviour

    @property
    def state(self) -> str:
        return self.session.state.value

    @property
    def pending(self) -> bool:
        """Answered but not connected yet (and not ended)."""
        return self.connected_at is None and not self._closing

    def mark_connected(self) -> None:
        """The transport's media connection is up."""
        if self.connected_at is None:
            self.connected_at = time.monotonic()

    def send_event(self, message: dict[str, Any]) -> None:
        """Send a JSON event to the client."""
        self._deliver(json.dumps(message))

    def _handle_event(self, event: SessionEvent) -> None:
        if isinstance(event, LineCommitted):
            self.lines.append(event.line)
        wire = event.to_wire()
        if wire is not None:
            self.send_event(wire)
        for observer in self.observers:
            try:
                observer(self, event)
            except Exception:
                log.exception("call %s: an event observer failed", self.id)
        if isinstance(event, CallEnded):
            self.end_reason = self.end_reason or event.reason
            self.spawn_close(event.reason)

    def on_client_message(self, data: Any) -> None:
        """A control message from the client: ``end``, ``mute``, ``unmute``."""
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "end":
            self.spawn_close("candidate_ended")
        elif kind in ("mute", "unmute"):
            self.session.set_muted(kind == "mute")
        else:
            self.send_event({"type": "error", "code": "unknown_message", "message": f"Unknown message type {kind!r}."})

    def _on_inbound_frame(self, frame: av.AudioFrame) -> None:
        self.last_inbound = time.monotonic()
        self.inbound_frames += 1
        if self.recorder is not None:
            self.recorder.add_candidate_frame(frame)
        self.session.push_frame(frame)

    def _on_inbound_pcm(self, samples: np.ndarray, sample_rate: int) -> None:
        self.last_inbound = time.monotonic()
        self.inbound_frames += 1
        if self.recorder is not None:
            self.recorder.add_candidate_pcm(samples, sample_rate)
        self.session.push_pcm(samples, sample_rate)

    def _on_late_frame(self) -> None:
        """The transport's paced clock produced an outbound frame late."""
        for observer in self.late_frame_observers:
            observer()

    def pull_agent_frame(self) -> np.ndarray:
        """The agent's next 20 ms (for the transport's paced clock), also to the recording."""
        frame = self.session.pull_frame()
        if self.recorder is not None:
            self.recorder.add_agent_frame(frame)
        return frame

    def start_watchdog(self) -> None:
        """From now on, a call whose candidate audio stops for ``media_timeout_s`` ends."""
        self.last_inbound = time.monotonic()
        self._watchdog = asyncio.get_running_loop().create_task(self._watch_media(), name=f"watchdog-{self.id}")

    async def _watch_media(self) -> None:
        """End a call whose candidate's audio stopped arriving (a frozen tab, a vanished peer) even if the
        transport has not noticed yet."""
        while True:
            await asyncio.sleep(min(1.0, self._media_timeout_s / 4))
            if time.monotonic() - self.last_inbound > self._media_timeout_s:
                log.info("call %s: no audio for %.0f s", self.id, self._media_timeout_s)
                self.spawn_close("media_timeout")
                return

    def spawn_close(self, reason: str) -> None:
        if not self._closing:
            asyncio.get_running_loop().create_task(self.close(reason), name=f"close-{self.id}")

    async def close(self, reason: str = "hangup") -> None:
        """End the session (keeping every spoken line), tell the client, and release the transport."""
        if self._closing:
            await self.ended.wait()
            return
        self._closing = True
        self.end_reason = self.end_reason or reason
        try:
            # A reason decided earlier (a transport's error, a client's misbehaviour) is the one the client hears.
            await self.session.close(self.end_reason)
            await self._drain()
        finally:
            if self._watchdog is not None and not self._watchdog.done():
                self._watchdog.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._watchdog
            with contextlib.suppress(Exception):
                await self._release()
            callbacks = [lambda: self._on_closed(self)] if self._on_closed is not None else []
            for callback in [*callbacks, *self.ended_callbacks]:
                try:
                    await callback()
                except Exception:
                    log.exception("call %s: after-call work failed", self.id)
            self.ended.set()
            log.info("call %s interview %s ended: %s", self.id, self.interview_id, self.end_reason)

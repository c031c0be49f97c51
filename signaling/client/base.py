"""The turn logic of a loopback call, whatever transport carries it, and the answers the candidate gives."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from signaling.client.api import CallFailed
from signaling.client.audio import read_audio_file, speak
from signaling.client.events import is_assistant_final, is_listening_or_ended, is_speaking, is_user_final
from signaling.client.recorder import AgentRecorder
from signaling.client.reports import TurnReport


@dataclass
class Answer:
    """Something the candidate says: its text (for the report) and its audio."""

    text: str
    audio: np.ndarray = field(repr=False)
    #: Start speaking this long after the agent starts its turn, instead of after it finishes (barge-in).
    barge_in_after_s: float | None = None

    @classmethod
    def spoken(cls, text: str, barge_in_after_s: float | None = None) -> Answer:
        """``text`` spoken by eSpeak NG."""
        return cls(text, speak(text), barge_in_after_s)

    @classmethod
    def recording(cls, path: str | Path) -> Answer:
        """A recording (any format PyAV reads), named by its file in the report."""
        return cls(f"<{Path(path).name}>", read_audio_file(path))


class BaseLoopbackCall:
    """One call to the server driven turn by turn, whatever carries it: the turn logic over the events, a
    microphone (``mic``) and a recorder of the agent's voice (``recorder``).

    A transport provides ``connect``, ``send`` and ``close``, sets ``mic`` and ``recorder``, and hands every
    event it receives to ``add_event``.
    """

    mic: Any
    recorder: AgentRecorder

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.call_id = ""
        self.interview_id = ""

    async def connect(self, http: aiohttp.ClientSession, interview_id: str, timeout: float = 15.0) -> None:
        """Open the call (``http`` carries the login cookie)."""
        raise NotImplementedError

    def send(self, message: dict[str, Any]) -> None:
        """A control message to the server (``end``, ``mute``, ``unmute``)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release the connection and its tasks."""
        raise NotImplementedError

    def add_event(self, event: dict[str, Any]) -> None:
        """An event from the server (the transport calls it), stamped with its arrival time ``_t``."""
        event["_t"] = time.monotonic()
        self.events.append(event)
        self._changed.set()

    def wake_waiters(self) -> None:
        """Have ``wait_event`` look again (the transport calls it when the connection closed)."""
        self._changed.set()

    async def wait_event(self, predicate: Any, start: int = 0, timeout: float = 30.0) -> tuple[int, dict[str, Any]]:
        """The first event from index ``start`` on that satisfies ``predicate`` (index and event)."""
        deadline = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.events):
                if predicate(self.events[index]):
                    return index, self.events[index]
                index += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CallFailed(f"timed out waiting for an event (last: {self.events[-3:]})")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def ended_reason(self) -> str | None:
        """Why the server ended the call, once it has."""
        return next((e.get("reason") for e in self.events if e.get("type") == "ended"), None)

    def greeting(self) -> str:
        """The agent's first complete line ("" before it)."""
        return next((e["text"] for e in self.events if is_assistant_final(e)), "")

    async def wait_agent_turn(self, start: int, timeout: float = 60.0) -> tuple[int, str]:
        """Wait for the agent's next complete line after event ``start``; returns (index after it, text)."""
        index, event = await self.wait_event(is_assistant_final, start, timeout)
        await self.wait_event(is_listening_or_ended, index, timeout)
        return index + 1, event["text"]

    async def speak_answer(self, answer: Answer, start: int, timeout: float = 60.0) -> tuple[TurnReport, int]:
        """Say one answer, then wait for the agent's reply to it."""
        if answer.barge_in_after_s is not None:
            await self.wait_event(is_speaking, start, timeout)
            await asyncio.sleep(answer.barge_in_after_s)
        last_voiced = await asyncio.wait_for(self.mic.play(answer.audio), timeout)
        self.recorder.arm(after=last_voiced)
        user_index, _ = await self.wait_event(is_user_final, start, timeout)
        heard_until, reply = await self.wait_agent_turn(user_index, timeout)
        heard = " ".join(e["text"] for e in self.events[start:heard_until] if is_user_final(e))
        # The reply's metrics come when it starts playing, before the answer's final transcript (which waits until
        # the reply played past the resume window); a reply dropped because the candidate went on has metrics too,
        # so the last ones are the reply that was heard.
        metrics = [e for e in self.events[start:heard_until] if e.get("type") == "metrics"]
        server = metrics[-1] if metrics else {}
        interrupted = any(is_assistant_final(e) for e in self.events[start:user_index])
        response_ms = None
        if self.recorder.first_voice is not None:
            response_ms = round((self.recorder.first_voice - last_voiced) * 1000, 1)
        stop_ms = barge_in_ms = None
        if answer.barge_in_after_s is not None and self.mic.first_voiced is not None:
            spoke = self.mic.first_voiced
            until = self.recorder.first_voice or time.monotonic()
            overlap = [t for t in self.recorder.voiced_arrivals if spoke <= t < until]
            stop_ms = round(((overlap[-1] if overlap else spoke) - spoke) * 1000, 1)
            confirmed = next(
                (e["_t"] for e in self.events[start:user_index] if is_listening_or_ended(e) and e["_t"] >= spoke),
                None,
            )
            if confirmed is not None:
                barge_in_ms = round(self.recorder.audible_until(confirmed) * 1000, 1)
        report = TurnReport(
            said=answer.text,
            heard=heard,
            reply=reply,
            client_response_ms=response_ms,
            server={k: v for k, v in server.items() if k not in ("type", "_t")},
            interrupted_agent=interrupted,
            agent_stop_ms=stop_ms,
            barge_in_stop_ms=barge_in_ms,
        )
        return report, heard_until

    async def hang_up(self, timeout: float = 5.0) -> None:
        """Tell the server the candidate is done, wait for ``ended``, and close the connection."""
        if self.ended_reason() is None:
            self.send({"type": "end"})
            with contextlib.suppress(CallFailed):
                await self.wait_event(lambda e: e.get("type") == "ended", 0, timeout)
        await self.close()

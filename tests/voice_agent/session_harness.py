"""A ``CallSession`` driven frame by frame without a network, and the test doubles it talks to.

Audio goes in as 20 ms frames (synthetic voiced bursts and silence, as fast as the session takes them: the
VAD counts frames, not seconds) and the agent's voice is pulled frame by frame as a transport would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import numpy as np

from tests.voice_agent.signals import speech_like
from voice_agent.events import AgentState, LineCommitted, SessionEvent, TranscriptUpdate, TurnMetricsReady
from voice_agent.providers.base import (
    InterviewContext,
    LanguageModel,
    LlmUsage,
    PcmChunk,
    Providers,
    QueueSttStream,
    ReplyRequest,
    Transcript,
)
from voice_agent.providers.scripted import ScriptedInterviewer
from voice_agent.session import CallSession, SessionOptions


class ScriptedStream(QueueSttStream):
    def __init__(self, interim: str | None, final: str) -> None:
        super().__init__()
        self.interim, self.final = interim, final
        self.pushed = 0

    def push(self, pcm16k: bytes, is_speech: bool = True) -> None:
        self.pushed += len(pcm16k) // 2

    def pause(self) -> None:
        if self.interim:
            self.emit(Transcript(self.interim, is_final=False))

    async def finalize(self) -> None:
        self.emit(Transcript(self.final, is_final=True))


class ScriptedStt:
    """Answers each utterance with the next (interim, final) pair of its script."""

    name = "scripted-stt"

    def __init__(self, script: list[tuple[str | None, str]]) -> None:
        self.script = list(script)
        self.streams: list[ScriptedStream] = []

    async def open_stream(self) -> ScriptedStream:
        interim, final = self.script.pop(0)
        stream = ScriptedStream(interim, final)
        self.streams.append(stream)
        return stream


class BrokenLlm:
    name = "broken"

    async def stream_reply(self, request, usage=None) -> AsyncIterator[str]:
        raise ConnectionError("the model is unreachable")
        yield ""  # pragma: no cover

    async def complete_json(self, *args):  # pragma: no cover
        raise ConnectionError


class BrokenTts:
    name = "broken-voice"

    async def synthesize(self, text: str) -> AsyncIterator[PcmChunk]:
        raise ConnectionError("no voice today")
        yield  # pragma: no cover


class Harness:
    """A session plus what it said: events, and the agent's frames as pulled by a transport."""

    def __init__(self, session_factory) -> None:
        self.events: list[SessionEvent] = []
        self.session: CallSession = session_factory(self.events.append)
        self.agent_frames = 0

    async def say(self, seconds: float, silence: float = 0.7) -> None:
        """A voiced burst then silence (by default enough to end the turn), in 20 ms frames, letting the
        session's tasks run between frames as they would between packets."""
        pcm = (np.concatenate([speech_like(seconds), np.zeros(int(silence * 16000))]) * 32767).astype(np.int16)
        for i in range(0, len(pcm) - 319, 320):
            self.session.push_pcm(pcm[i : i + 320], 16000)
            await asyncio.sleep(0)

    async def wait(self, seconds: float) -> None:
        """Silence from the candidate, in 20 ms frames."""
        pcm = np.zeros(int(seconds * 16000), np.int16)
        for i in range(0, len(pcm) - 319, 320):
            self.session.push_pcm(pcm[i : i + 320], 16000)
            await asyncio.sleep(0)

    async def play(self, voiced_frames: int | None = None, timeout: float = 30.0) -> None:
        """Pull frames as a transport would, but as fast as the agent has audio: until the agent has spoken and
        is listening again, or until ``voiced_frames`` frames of its voice were pulled."""
        spoke = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self.session.pull_frame()
            if np.any(frame):
                self.agent_frames += 1
                spoke += 1
                await asyncio.sleep(0)
            else:
                await asyncio.sleep(0.001)  # nothing queued: let the voice's thread work
            if voiced_frames is not None and spoke >= voiced_frames:
                return
            if voiced_frames is None and spoke and self.session.state == AgentState.LISTENING:
                return
        raise AssertionError("the agent never finished speaking")

    async def wait_for(self, predicate, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            self.session.pull_frame()
            await asyncio.sleep(0.001)
        raise AssertionError("condition never met")

    def lines(self) -> list[tuple[str, str, bool]]:
        return [(e.line.role, e.line.content, e.line.interrupted) for e in self.events if isinstance(e, LineCommitted)]

    def kinds(self) -> list[tuple[str, str, str]]:
        """Each stored line as (role, kind, text)."""
        return [(e.line.role, e.line.kind, e.line.content) for e in self.events if isinstance(e, LineCommitted)]

    def user_interims(self) -> list[str]:
        """The candidate's live (not yet final) transcript, as shown."""
        return [e.text for e in self.events if isinstance(e, TranscriptUpdate) and e.role == "user" and not e.final]

    def metrics(self) -> list:
        return [e.metrics for e in self.events if isinstance(e, TurnMetricsReady)]


def make(voice, stt, llm=None, tts=None, turn_model=None, interview_type="mixed", **options) -> Harness:
    providers = Providers(
        stt=stt, llm=llm or ScriptedInterviewer(), tts=tts or voice, fallback_tts=voice, turn_model=turn_model
    )
    context = InterviewContext(
        candidate_name="Sam", duration_minutes=20, seed="session-test", interview_type=interview_type
    )
    return Harness(
        lambda sink: CallSession(providers=providers, context=context, on_event=sink, options=SessionOptions(**options))
    )


class ScriptedTurnModel:
    """An end-of-turn model that answers each question with the next score of its script (then 0.99)."""

    name = "scripted-turn-model"

    def __init__(self, scores: list[float]) -> None:
        self.scores = list(scores)
        self.asked = 0

    async def probability(self, samples16k) -> float:
        self.asked += 1
        await asyncio.sleep(0)
        return self.scores.pop(0) if self.scores else 0.99


class CountingLlm:
    """A language model that counts the replies asked of it (an early reply is one) and passes them on."""

    def __init__(self, inner: LanguageModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.requests = 0

    async def stream_reply(self, request: ReplyRequest, usage: LlmUsage | None = None) -> AsyncIterator[str]:
        self.requests += 1
        async for fragment in self.inner.stream_reply(request, usage):
            yield fragment

    async def complete_json(self, *args, **kwargs):  # pragma: no cover - not used by a session
        return await self.inner.complete_json(*args, **kwargs)

"""The turn manager of ``CallSession``, driven frame by frame without a network.

Audio goes in as 20 ms frames (synthetic voiced bursts and silence, as fast as the session takes them: the
VAD counts frames, not seconds) and the agent's voice is pulled frame by frame as a transport would. The
speech-to-text here is a test double that answers from a script (the real engines are exercised by the call
tests); the interviewer is the real scripted one and the voice is the real eSpeak NG.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import numpy as np
import pytest

from tests.voice_agent.test_vad import speech_like
from voice_agent.events import AgentState, ErrorRaised, LineCommitted, SessionEvent, TurnMetricsReady
from voice_agent.providers.base import InterviewContext, PcmChunk, Providers, QueueSttStream, Transcript
from voice_agent.providers.espeak import EspeakTextToSpeech
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


@pytest.fixture(scope="module")
async def voice() -> EspeakTextToSpeech:
    tts = EspeakTextToSpeech()
    await tts.start()
    return tts


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

    def metrics(self) -> list:
        return [e.metrics for e in self.events if isinstance(e, TurnMetricsReady)]


def make(voice, stt, llm=None, tts=None, **options) -> Harness:
    providers = Providers(stt=stt, llm=llm or ScriptedInterviewer(), tts=tts or voice, fallback_tts=voice)
    context = InterviewContext(candidate_name="Sam", duration_minutes=20, seed="session-test")
    return Harness(
        lambda sink: CallSession(providers=providers, context=context, on_event=sink, options=SessionOptions(**options))
    )


async def test_greeting_answer_reply_and_every_line_committed(voice):
    stt = ScriptedStt([(None, "I build payment systems in Python and Go.")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.wait_for(lambda: h.session.state != AgentState.LISTENING)
    await h.play()
    roles = [(role, interrupted) for role, _, interrupted in h.lines()]
    assert roles == [("assistant", False), ("user", False), ("assistant", False)]
    assert h.lines()[1][1] == "I build payment systems in Python and Go."
    turn = h.metrics()[-1]
    assert turn.turn == 1 and turn.first_frame_sent > turn.stt_final >= turn.endpoint > turn.user_speech_end
    assert h.session.usage.stt_seconds == pytest.approx(1.0, abs=0.2)  # webrtcvad adds a short hangover
    assert h.session.usage.tts_characters > 50
    await h.session.close("test")


async def test_an_early_reply_on_a_stable_interim_is_kept_when_the_final_agrees(voice):
    stt = ScriptedStt([("I led the billing migration", "I led the billing migration.")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.wait_for(lambda: h.session.state == AgentState.SPEAKING)
    await h.play()
    turn = h.metrics()[-1]
    assert turn.early_reply and not turn.early_reply_discarded
    assert turn.llm_start < turn.endpoint  # the model started during the pause, before the turn ended
    await h.session.close("test")


async def test_an_early_reply_is_thrown_away_when_the_final_differs(voice):
    stt = ScriptedStt([("I led the billing migration", "I led the billing migration to Kubernetes.")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.wait_for(lambda: h.session.state == AgentState.SPEAKING)
    await h.play()
    turn = h.metrics()[-1]
    assert not turn.early_reply and turn.early_reply_discarded
    assert h.lines()[1][1] == "I led the billing migration to Kubernetes."
    await h.session.close("test")


async def test_speech_resuming_after_a_pause_cancels_the_early_reply_and_waits_for_the_end(voice):
    stt = ScriptedStt([("first part", "first part and the rest")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(0.8, silence=0.4)  # a pause, shorter than the hangover
    await h.wait_for(lambda: h.session._speculative is not None)
    await h.say(0.8)  # the candidate goes on
    await h.wait_for(lambda: h.session.state == AgentState.SPEAKING)
    await h.play()
    assert [line[1] for line in h.lines() if line[0] == "user"] == ["first part and the rest"]
    assert not h.metrics()[-1].early_reply
    await h.session.close("test")


async def test_barge_in_cuts_the_agent_and_stores_only_what_was_played(voice):
    stt = ScriptedStt([(None, "Sorry, can I ask something first?")])
    h = make(voice, stt)
    await h.session.start()
    await h.play(voiced_frames=60)  # 1.2 s of the greeting
    await h.say(0.6)
    await h.wait_for(lambda: any(e for e in h.lines() if e[0] == "user"))
    role, cut, interrupted = h.lines()[0]
    assert role == "assistant" and interrupted
    assert 0 < len(cut.split()) < 10
    await h.play()
    assert h.lines()[1] == ("user", "Sorry, can I ask something first?", False)
    assert h.lines()[2][0] == "assistant"
    await h.session.close("test")


async def test_a_click_or_a_muted_microphone_is_not_an_answer(voice):
    stt = ScriptedStt([(None, "never used")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(0.08)  # a click: shorter than the shortest answer
    h.session.set_muted(True)
    await h.say(1.0)
    with pytest.raises(AssertionError):
        await h.wait_for(lambda: len(h.lines()) > 1, timeout=1.0)  # no answer is heard
    assert [line[0] for line in h.lines()] == ["assistant"]
    assert h.session.state == AgentState.LISTENING
    await h.session.close("test")


async def test_closing_mid_answer_keeps_what_the_candidate_said(voice):
    stt = ScriptedStt([("I was saying that", "I was saying that we scaled the team")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(1.0, silence=0.1)  # still speaking when the call drops
    await h.session.close("hangup")
    assert h.lines()[-1] == ("user", "I was saying that we scaled the team", False)
    assert h.session.state == AgentState.ENDED


async def test_a_failing_language_model_gets_an_apology_not_silence(voice):
    h = make(voice, ScriptedStt([]), llm=BrokenLlm())
    await h.session.start()
    await h.play()
    assert any(isinstance(e, ErrorRaised) and e.code == "llm_failed" for e in h.events)
    assert "lost my train of thought" in h.lines()[0][1]
    await h.session.close("test")


async def test_a_failing_voice_falls_back_and_the_text_still_arrives(voice):
    h = make(voice, ScriptedStt([]), tts=BrokenTts())
    await h.session.start()
    await h.play()
    assert any(isinstance(e, ErrorRaised) and e.code == "tts_failed" for e in h.events)
    assert h.agent_frames > 50  # the fallback voice spoke
    assert h.lines()[0][1].startswith("Hi Sam")
    await h.session.close("test")


async def test_a_failing_language_model_hands_over_to_the_offline_interviewer(voice):
    providers = Providers(
        stt=ScriptedStt([]), llm=BrokenLlm(), tts=voice, fallback_tts=voice, fallback_llm=ScriptedInterviewer()
    )
    context = InterviewContext(candidate_name="Sam", duration_minutes=20, seed="session-test")
    h = Harness(lambda sink: CallSession(providers=providers, context=context, on_event=sink))
    await h.session.start()
    await h.play()
    line = h.lines()[0][1]
    assert line.startswith("Sorry, I lost my train of thought for a moment.")
    assert line.endswith("?") and "Sam" in line  # the offline interviewer greeted and asked the first question
    await h.session.close("test")

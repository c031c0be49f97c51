"""One reply of the agent: LLM text streamed into sentences, each synthesized and queued as soon as it is ready.

The LLM and TTS run as two tasks joined by a queue of sentences, so the first sentence plays while the model
is still writing the rest. A reply may be started early, on a stable interim transcript, behind a closed
gate: it prepares its audio but queues nothing until the turn manager confirms the final transcript.

A reply has the kind its stored line gets (``Reply.kind``): a turn of the interview, or an aside. The greeting of
a call that rejoins an interview where nothing waits for an answer only picks the interview up again ("Take your
time." and the question again): an aside (``greeting_kind``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from voice_agent.audio import OUT_FRAME_SAMPLES, OUT_SAMPLE_RATE, Framer, PcmResampler, SilenceTrimmer
from voice_agent.events import ErrorRaised, SessionEvent, TurnMetrics
from voice_agent.interview import END_OF_INTERVIEW_MARKER
from voice_agent.outbound import OutboundAudio, Segment, played_text
from voice_agent.providers.base import ChatMessage, LineKind, LlmUsage, Providers, ReplyRequest, TextToSpeech
from voice_agent.sentences import SentenceSplitter
from voice_agent.turn_options import TurnOptions

log = logging.getLogger(__name__)

#: Spoken when the language model fails and nothing of the reply was said yet; the offline interviewer then
#: carries on (repeats or moves on), or, without one, the candidate is asked to go on.
LLM_APOLOGY = "Sorry, I lost my train of thought for a moment."
LLM_APOLOGY_ALONE = "Sorry, I lost my train of thought for a moment. Could you tell me a little more about that?"


def greeting_kind(messages: Sequence[ChatMessage]) -> LineKind:
    """The kind of a call's greeting, given the conversation of the interview so far.

    "aside" when the call rejoins an interview whose last turn (asides skipped) is the interviewer's: nothing waits
    for an answer, so the greeting only picks the interview up again (it repeats what is pending); "turn" for the
    first greeting of an interview, and when the candidate's last answer was never replied to (the greeting is that
    reply).
    """
    turns = [message for message in messages if message.kind != "aside"]
    return "aside" if turns and turns[-1].role == "assistant" else "turn"


class MarkerFilter:
    """Removes the end-of-interview marker from streamed text, even when it arrives split across fragments."""

    def __init__(self, marker: str = END_OF_INTERVIEW_MARKER) -> None:
        self.marker = marker
        self.seen = False
        self._held = ""

    def feed(self, fragment: str) -> str:
        """Text safe to pass on now."""
        text = self._held + fragment
        if self.marker in text:
            self.seen = True
            text = text.replace(self.marker, "")
        # Hold back a tail that could be the start of the marker.
        for keep in range(min(len(self.marker) - 1, len(text)), 0, -1):
            if self.marker.startswith(text[-keep:]):
                self._held = text[-keep:]
                return text[:-keep]
        self._held = ""
        return text

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held


class Reply:
    """The pipeline for one agent turn; ``task`` runs it, ``segments`` tell what was queued and played.

    ``kind`` is the kind of the line it is stored as: given, or else "turn", except for a call's greeting (turn 0 of
    the metrics, no answer to reply to), whose kind is ``greeting_kind`` of the conversation so far.
    """

    def __init__(
        self,
        *,
        request: ReplyRequest,
        providers: Providers,
        outbound: OutboundAudio,
        metrics: TurnMetrics,
        emit: Callable[[SessionEvent], None],
        clock: Callable[[], float],
        usage: LlmUsage,
        gate_open: bool = True,
        user_text: str | None = None,
        turn: TurnOptions | None = None,
        kind: LineKind | None = None,
    ) -> None:
        self.request = request
        if kind is None:
            greeting = metrics.turn == 0 and user_text is None
            kind = greeting_kind(request.messages) if greeting else "turn"
        #: The kind of the line this reply is stored as: "turn", or "aside" (a rejoin greeting, a fixed line
        #: around the turns: no metrics, never settles an answer).
        self.kind: LineKind = kind
        self.turn = turn or TurnOptions()
        self.providers = providers
        self.outbound = outbound
        self.metrics = metrics
        self.emit = emit
        self.clock = clock
        self.usage = usage
        self.user_text = user_text
        self.gate = asyncio.Event()
        if gate_open:
            self.gate.set()
        self.segments: list[Segment] = []
        self.text = ""
        self.ends_interview = False
        self.done_producing = False
        self.failed = False
        self.tts_characters = 0
        self._sentences: asyncio.Queue[str | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        #: Wall-clock time of the first frame played.
        self.started_wall: datetime | None = None
        #: Set by ``stop``/``cancel``: no frame is queued after it.
        self.stopped = False

    def start(self) -> None:
        """Run the pipeline in the background."""
        self.task = asyncio.get_running_loop().create_task(self._run(), name="reply")

    def stop(self) -> None:
        """Stop producing now, without waiting: nothing more is queued from this moment (a barge-in)."""
        self.stopped = True
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def cancel(self) -> None:
        """Stop producing (audio already queued stays unless the caller clears the outbound queue)."""
        self.stopped = True
        if self.task is not None and not self.task.done():
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass

    @property
    def finished_playing(self) -> bool:
        return self.done_producing and all(s.finished for s in self.segments)

    def played_text(self) -> str:
        """What the candidate heard of this reply so far."""
        return played_text(self.segments)

    def played_seconds(self) -> float:
        return sum(s.frames_played for s in self.segments) * OUT_FRAME_SAMPLES / OUT_SAMPLE_RATE

    async def _run(self) -> None:
        speaker = asyncio.get_running_loop().create_task(self._speak_sentences(), name="reply-tts")
        try:
            await self._write_sentences()
            await speaker
        finally:
            if not speaker.done():
                speaker.cancel()
            self.done_producing = True

    async def _write_sentences(self) -> None:
        self.metrics.llm_start = self.clock()
        try:
            await self._stream_from(self.providers.llm)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("language model failed: %s", exc.__class__.__name__)
            self.failed = True
            self.emit(ErrorRaised("llm_failed", "The interviewer's language model failed; carrying on.", "llm"))
            if not self.text:
                await self._fall_back()
        finally:
            self._sentences.put_nowait(None)

    async def _stream_from(self, llm: Any) -> None:
        splitter = SentenceSplitter(self.turn.sentence_max_chars)
        markers = MarkerFilter()
        async for fragment in llm.stream_reply(self.request, self.usage):
            if self.metrics.llm_first_token is None:
                self.metrics.llm_first_token = self.clock()
            for sentence in splitter.push(markers.feed(fragment)):
                self._queue_sentence(sentence)
        for sentence in splitter.push(markers.flush()):
            self._queue_sentence(sentence)
        rest = splitter.flush()
        if rest:
            self._queue_sentence(rest)
        self.ends_interview = markers.seen

    async def _fall_back(self) -> None:
        """Apologise, then let the offline interviewer repeat the question or move on."""
        fallback = self.providers.fallback_llm
        if fallback is None:
            self._queue_sentence(LLM_APOLOGY_ALONE)
            return
        self._queue_sentence(LLM_APOLOGY)
        try:
            await self._stream_from(fallback)
        except Exception:
            log.exception("the offline interviewer failed too")

    def _queue_sentence(self, sentence: str) -> None:
        self.text = f"{self.text} {sentence}".strip()
        self._sentences.put_nowait(sentence)

    async def _speak_sentences(self) -> None:
        resampler = PcmResampler(OUT_SAMPLE_RATE)
        framer = Framer(OUT_FRAME_SAMPLES)
        segment: Segment | None = None
        while (sentence := await self._sentences.get()) is not None:
            if segment is not None:
                segment.complete = True
            segment = Segment(sentence)
            self.segments.append(segment)
            self.tts_characters += len(sentence)
            if self.metrics.tts_start is None:
                self.metrics.tts_start = self.clock()
            trimmer: SilenceTrimmer | None = None
            rate = OUT_SAMPLE_RATE
            async for chunk in self._synthesize(sentence):
                if self.metrics.tts_first_audio is None:
                    self.metrics.tts_first_audio = self.clock()
                if trimmer is None or chunk.sample_rate != rate:
                    trimmer = SilenceTrimmer(chunk.sample_rate, keep_lead_s=self.turn.tts_keep_lead_s)
                    rate = chunk.sample_rate
                audible = trimmer.push(chunk.samples)
                await self._queue_frames(framer.push(resampler.resample(audible, rate)), segment)
            if trimmer is not None:
                await self._queue_frames(framer.push(resampler.resample(trimmer.finish(), rate)), segment)
            await self._queue_frames(framer.push(resampler.flush()), segment)
        if segment is not None:
            tail = framer.flush()
            if tail is not None:
                await self._queue_frames([tail], segment)
            segment.complete = True

    async def _synthesize(self, sentence: str) -> Any:
        """The sentence's audio from the main voice, or from the fallback voice if the main one fails."""
        voices: list[TextToSpeech] = [self.providers.tts]
        if self.providers.fallback_tts is not None:
            voices.append(self.providers.fallback_tts)
        for voice in voices:
            produced = False
            try:
                async for chunk in voice.synthesize(sentence):
                    produced = True
                    yield chunk
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("text-to-speech %s failed: %s", voice.name, exc.__class__.__name__)
                self.emit(ErrorRaised("tts_failed", f"The voice '{voice.name}' failed; using a fallback.", "tts"))
                if produced:
                    return  # part of the sentence was already queued; do not repeat it

    async def _queue_frames(self, frames: list[np.ndarray], segment: Segment) -> None:
        if not frames:
            return
        if not self.gate.is_set():
            await self.gate.wait()
        if self.stopped:
            return
        for frame in frames:
            self.outbound.enqueue(frame, segment)

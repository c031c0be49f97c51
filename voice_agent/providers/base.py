"""The small protocols every provider implements, and the data they exchange.

Three roles, one protocol each (DESIGN §3):

- ``SpeechToText.open_stream()`` gives an ``SttStream`` for one utterance: audio is pushed as 16 kHz mono s16
  PCM, transcripts come back through ``async for``: interims (the whole utterance's text so far) and exactly one
  final. A provider that only transcribes whole utterances fits the same shape: it buffers what is pushed and
  yields its final transcript after ``finalize()``. A provider that keeps a connection for a whole call
  (Deepgram) also offers ``open_call()``: the session opens it when the call starts and takes its utterance
  streams from it, so the first answer pays no connection time.
- ``LanguageModel.stream_reply(request)`` yields the interviewer's reply as text fragments;
  ``complete_json`` answers with one JSON object (used for feedback).
- ``TextToSpeech.synthesize(text)`` yields ``PcmChunk``s whose sample rate is declared.

Each provider also declares what it is, as class attributes, so that nothing has to recognise it by its
``name``: ``embedded`` (runs on this machine and costs nothing per use), for a speech-to-text ``streaming``
(interim transcripts while the candidate speaks), for a language model ``writes_json`` (``complete_json``
writes free-form JSON, so it can write the feedback; one that does not is scored by the offline rules).
``is_embedded``, ``is_streaming`` and ``writes_json`` read them, with the defaults of an external service for
a provider plugged in by import path that declares nothing.

Nothing here knows about HTTP, WebRTC or the database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

STT_SAMPLE_RATE = 16_000


@dataclass(frozen=True, slots=True)
class Transcript:
    """One transcription result.

    ``is_final`` marks text that will not change any more. ``speech_final`` is set by providers that detect
    the end of the utterance themselves (Deepgram's endpointing): the turn may end without waiting for VAD.
    """

    text: str
    is_final: bool
    confidence: float | None = None
    speech_final: bool = False


@runtime_checkable
class SttStream(Protocol):
    """A live transcription of one candidate utterance (or of a whole call, for streaming providers)."""

    def push(self, pcm16k: bytes, is_speech: bool = True) -> None:
        """Queue 16 kHz mono s16 little-endian audio; ``is_speech`` is the VAD's verdict for it."""

    def pause(self) -> None:
        """Hint: the candidate paused (a natural boundary). Utterance-level providers may decode what they
        have so far, so that the end of the turn only waits for the last segment."""

    async def finalize(self) -> None:
        """No more audio for this utterance: a final transcript will follow."""

    async def aclose(self) -> None:
        """Release the stream; iteration ends."""

    def __aiter__(self) -> AsyncIterator[Transcript]: ...


@runtime_checkable
class SpeechToText(Protocol):
    """Speech-to-text provider."""

    name: str
    #: Runs on this machine: costs nothing per minute.
    embedded: bool
    #: Sends interim transcripts while the candidate speaks (not only after pauses or at the end).
    streaming: bool

    async def open_stream(self) -> SttStream:
        """Open a stream for one utterance."""
        ...


#: How a provider reports a fault it survived (a code and a message for the candidate's client).
FaultReporter = Callable[[str, str], None]


class SttCall(Protocol):
    """A provider's resources for one call (``SpeechToText.open_call``): utterance streams, then ``aclose``."""

    async def open_stream(self) -> SttStream: ...

    async def aclose(self) -> None: ...


async def open_stt_call(stt: SpeechToText, on_fault: FaultReporter) -> SttCall | SpeechToText:
    """The call-scoped STT of a provider that has one, else the provider itself."""
    open_call = getattr(stt, "open_call", None)
    if open_call is None:
        return stt
    return await open_call(on_fault)


ChatRole = Literal["user", "assistant"]
#: A transcript line is a turn of the interview, or an aside around it.
LineKind = Literal["turn", "aside"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One line of the conversation as the language model sees it; ``kind`` "aside" marks a line that is not a
    turn of the interview ("Sure, take your time.", an idle prompt, a rejoin greeting)."""

    role: ChatRole
    content: str
    kind: LineKind = "turn"


InterviewType = Literal["technical", "behavioral", "mixed"]
ExperienceLevel = Literal["entry", "mid", "senior"]


@dataclass(frozen=True, slots=True)
class InterviewContext:
    """What the interviewer knows about the interview it is running."""

    role: str = "Software Engineer"
    interview_type: InterviewType = "mixed"
    experience_level: ExperienceLevel = "mid"
    duration_minutes: int = 20
    candidate_name: str = ""
    #: Seeds the choice of questions, so a reconnect to the same interview continues the same plan.
    seed: str = ""


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    """Everything a language model needs to produce the interviewer's next line.

    Chat models use ``system`` and ``messages``; the scripted interviewer reads the structured ``context``
    and ``elapsed_seconds`` instead of parsing the prompt.
    """

    system: str
    messages: tuple[ChatMessage, ...]
    context: InterviewContext
    elapsed_seconds: float = 0.0


@dataclass(slots=True)
class LlmUsage:
    """Tokens a provider reports for one call (zero when the provider does not count tokens)."""

    input_tokens: int = 0
    output_tokens: int = 0


@runtime_checkable
class LanguageModel(Protocol):
    """Language model provider: plays the interviewer and writes feedback."""

    name: str
    #: Runs on this machine: costs nothing per token.
    embedded: bool
    #: ``complete_json`` writes free-form JSON (the feedback); False: the offline rules score the interview.
    writes_json: bool

    def stream_reply(self, request: ReplyRequest, usage: LlmUsage | None = None) -> AsyncIterator[str]:
        """Yield the reply as text fragments, as soon as each is ready; add token counts to ``usage``."""
        ...

    async def complete_json(self, system: str, messages: list[ChatMessage], schema: dict[str, Any]) -> dict[str, Any]:
        """One JSON object that validates against ``schema``."""
        ...


@dataclass(frozen=True, slots=True)
class PcmChunk:
    """Mono audio: int16 or float32 samples at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int


@runtime_checkable
class TextToSpeech(Protocol):
    """Text-to-speech provider."""

    name: str
    #: Runs on this machine: costs nothing per character.
    embedded: bool

    def synthesize(self, text: str) -> AsyncIterator[PcmChunk]:
        """Yield the spoken text as PCM chunks, the first as soon as it is ready."""
        ...


def is_embedded(provider: SpeechToText | LanguageModel | TextToSpeech) -> bool:
    """The provider runs on this machine and costs nothing per use (False when it does not say)."""
    return bool(getattr(provider, "embedded", False))


def is_streaming(stt: SpeechToText) -> bool:
    """The speech-to-text sends interim transcripts while the candidate speaks (False when it does not say)."""
    return bool(getattr(stt, "streaming", False))


def writes_json(llm: LanguageModel) -> bool:
    """The language model writes free-form JSON, so it can write the feedback (True when it does not say: a
    plugged-in chat model)."""
    return bool(getattr(llm, "writes_json", True))


@dataclass(slots=True)
class ProviderHealth:
    """How a provider has been doing since the server started (shown by the status endpoint)."""

    requests: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    error_counts: dict[str, int] = field(default_factory=dict)

    def ok(self) -> None:
        self.requests += 1

    def failed(self, kind: str, detail: str) -> None:
        """Count a failure of ``kind`` (timeout, rate_limited, server_error, connection, ...)."""
        self.requests += 1
        self.errors += 1
        self.error_counts[kind] = self.error_counts.get(kind, 0) + 1
        self.last_error = f"{kind}: {detail}"[:300]
        self.last_error_at = time.time()


class ProviderError(Exception):
    """A provider failed in a way the call can survive (the session reports it and carries on)."""

    def __init__(self, role: str, message: str) -> None:
        super().__init__(message)
        self.role = role


class QueueSttStream:
    """Base for streams that produce transcripts from a background task: ``emit`` queues, iteration drains.

    Subclasses implement ``push``/``pause``/``finalize``; iteration ends after ``aclose()``.
    """

    _END = object()

    def __init__(self) -> None:
        self._results: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = False

    def emit(self, transcript: Transcript) -> None:
        """Hand a transcript to whoever iterates the stream."""
        if not self._closed:
            self._results.put_nowait(transcript)

    def pause(self) -> None:
        """Default: ignore the hint."""

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._results.put_nowait(self._END)

    def __aiter__(self) -> AsyncIterator[Transcript]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Transcript]:
        while True:
            item = await self._results.get()
            if item is self._END:
                return
            yield item


class EndOfTurnModel(Protocol):
    """An acoustic end-of-turn model: does the utterance sound finished?"""

    name: str

    async def probability(self, samples16k: Any) -> float:
        """The probability that the utterance (float32 mono samples at 16 kHz, its last seconds) is complete."""
        ...


@dataclass(slots=True)
class Providers:
    """The three providers a call uses, chosen once per server."""

    stt: SpeechToText
    llm: LanguageModel
    tts: TextToSpeech
    #: A voice that needs nothing external, spoken when ``tts`` fails.
    fallback_tts: TextToSpeech | None = None
    #: An interviewer that needs nothing external, asked when ``llm`` fails.
    fallback_llm: LanguageModel | None = None
    #: The acoustic end-of-turn model (None: the transcript and silence decide).
    turn_model: EndOfTurnModel | None = None

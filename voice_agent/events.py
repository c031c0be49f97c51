"""What a call session reports: events for the client (``to_wire``) and lines for the transcript store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class AgentState(StrEnum):
    """Where the turn manager is: the agent listens, thinks, speaks, or the call is over."""

    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    ENDED = "ended"


@dataclass(slots=True)
class TurnMetrics:
    """Monotonic timestamps of one turn, and the latencies derived from them (milliseconds)."""

    turn: int
    user_speech_end: float | None = None
    endpoint: float | None = None
    stt_final: float | None = None
    llm_start: float | None = None
    llm_first_token: float | None = None
    tts_start: float | None = None
    tts_first_audio: float | None = None
    first_frame_sent: float | None = None
    early_reply: bool = False
    early_reply_discarded: bool = False
    #: What ended the candidate's turn (``turn_ending.EndReason``): silence, model, transcript, stt or grace.
    ended_by: str = "silence"

    def latencies_ms(self) -> dict[str, float | None]:
        """The per-stage figures of DESIGN §2."""

        def span(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else round((b - a) * 1000, 1)

        return {
            "endpointing_ms": span(self.user_speech_end, self.endpoint),
            "stt_ms": span(self.user_speech_end, self.stt_final),
            "llm_ttft_ms": span(self.llm_start, self.llm_first_token),
            "tts_first_audio_ms": span(self.tts_start, self.tts_first_audio),
            "response_ms": span(self.user_speech_end, self.first_frame_sent),
            "overhead_ms": self.overhead_ms(),
        }

    def overhead_ms(self) -> float | None:
        """The server's own share of the response latency: the response minus the time it spent waiting on a
        provider stage (the endpointing silence and the STT final, the LLM until its first sentence, the TTS
        until its first audio), each clipped to the response window and counted once where they overlap (an
        early reply overlaps the LLM and TTS with the candidate's turn)."""
        start, end = self.user_speech_end, self.first_frame_sent
        if start is None or end is None:
            return None
        decided = max(t for t in (self.endpoint, self.stt_final, start) if t is not None)
        waits = [(start, decided), (self.llm_start, self.tts_start), (self.tts_start, self.tts_first_audio)]
        spans = sorted((max(a, start), min(b, end)) for a, b in waits if a is not None and b is not None)
        waited, reach = 0.0, start
        for a, b in spans:
            a = max(a, reach)
            if b > a:
                waited += b - a
                reach = b
        return round(max(0.0, (end - start) - waited) * 1000, 1)

    def to_dict(self) -> dict[str, Any]:
        """Latencies plus flags, as sent to clients and stored with the agent's line."""
        return {
            "turn": self.turn,
            **self.latencies_ms(),
            "early_reply": self.early_reply,
            "early_reply_discarded": self.early_reply_discarded,
            "ended_by": self.ended_by,
        }


@dataclass(slots=True)
class StateChanged:
    state: AgentState

    def to_wire(self) -> dict[str, Any]:
        return {"type": "state", "state": self.state.value}


@dataclass(slots=True)
class TranscriptUpdate:
    """Live text of either side; ``final`` once the line will not change."""

    role: str
    text: str
    final: bool

    def to_wire(self) -> dict[str, Any]:
        return {"type": "transcript", "role": self.role, "text": self.text, "final": self.final}


@dataclass(slots=True)
class TurnMetricsReady:
    metrics: TurnMetrics

    def to_wire(self) -> dict[str, Any]:
        return {"type": "metrics", **self.metrics.to_dict()}


@dataclass(slots=True)
class ErrorRaised:
    """Something went wrong that the call survived (or, with ``fatal``, did not)."""

    code: str
    message: str
    role: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": self.message}


@dataclass(slots=True)
class CallEnded:
    reason: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": "ended", "reason": self.reason}


@dataclass(slots=True)
class SpokenLine:
    """A line of the transcript, final: what the candidate said or what the agent actually played."""

    role: str
    content: str
    started_at: datetime
    audio_duration_seconds: float
    metrics: dict[str, Any] | None = None
    interrupted: bool = False
    ended_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: "turn", or "aside": a line that is not a turn of the interview ("Sure, take your time.", an idle prompt).
    kind: str = "turn"


@dataclass(slots=True)
class LineCommitted:
    """A transcript line is final: stores persist it at once (not sent to clients as such)."""

    line: SpokenLine

    def to_wire(self) -> dict[str, Any] | None:
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self.line)


SessionEvent = StateChanged | TranscriptUpdate | TurnMetricsReady | ErrorRaised | CallEnded | LineCommitted

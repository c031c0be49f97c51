"""When the candidate's turn ends: three signals, combined by one rule.

- **Silence**, from the VAD: how long since the last voiced frame.
- **The acoustic model** (Smart Turn, ``turn_model.py``), asked once per pause: does the audio sound finished?
- **The transcript**: does the text end mid-clause ("...and", "...the", a filler, a comma)? With a streaming STT
  the interim is read at once; with Whisper the provisional decode at the pause brings it a little later. A
  streaming STT's own end of speech (Deepgram's ``speech_final``) is one more "complete" vote, not an override.

The rule (``end_reason``): the think-time grace always ends the turn when it runs out. Before that, words that
stop mid-clause hold the turn open, and so does the model calling the voice unfinished, unless the words form a
complete sentence (then ``vad.hangover_ms`` of silence settles it); otherwise the first signal that calls the
answer complete ends it (from a pause of ``vad.pause_ms``); when none has an opinion, the turn ends after
``vad.hangover_ms`` of silence, as a fixed-silence endpointer would. The final transcript has the last word: an
utterance that ended on the voice alone but whose words stop mid-clause is held open (the session's ``Answer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum


class Verdict(Enum):
    """One signal's opinion of whether the answer is finished."""

    COMPLETE = "complete"
    UNFINISHED = "unfinished"
    UNSURE = "unsure"


class EndReason(StrEnum):
    """What ended a turn (the turn metrics' ``ended_by``)."""

    SILENCE = "silence"
    MODEL = "model"
    TRANSCRIPT = "transcript"
    STT = "stt"
    GRACE = "grace"


@dataclass(slots=True)
class EndSignals:
    """What the signals said about the current pause (None: not asked, or no answer yet)."""

    model: Verdict | None = None
    transcript: Verdict | None = None
    stt_final: bool = False

    def unfinished(self) -> bool:
        """Some signal says the answer is not finished."""
        return Verdict.UNFINISHED in (self.model, self.transcript)


def end_reason(signals: EndSignals, silence_ms: int, hangover_ms: int, grace_ms: int) -> EndReason | None:
    """Why the turn ends now, after ``silence_ms`` of silence, or None while it should stay open.

    The words are the sharper signal about an unfinished clause ("...Kubernetes and" sounds finished to the
    model), the model the sharper one about a finished voice before any words exist (an utterance-level STT
    has none 200 ms into a pause). So: words ending mid-clause hold the turn until the grace; the model calling
    it unfinished holds it too, unless the words form a complete sentence, and then the plain silence
    (``hangover_ms``) settles the disagreement; otherwise the first "complete" ends it.
    """
    if silence_ms >= grace_ms:
        return EndReason.GRACE
    words, model = signals.transcript, signals.model
    if words is Verdict.UNFINISHED:
        return None
    if model is Verdict.UNFINISHED:
        if words is Verdict.COMPLETE and silence_ms >= hangover_ms:
            return EndReason.SILENCE
        return None
    if model is Verdict.COMPLETE:
        return EndReason.MODEL
    if words is Verdict.COMPLETE:
        return EndReason.TRANSCRIPT
    if signals.stt_final:
        return EndReason.STT
    if silence_ms >= hangover_ms:
        return EndReason.SILENCE
    return None


def model_verdict(probability: float, complete_at: float, unfinished_below: float) -> Verdict:
    """The acoustic model's probability of a finished turn, as a verdict."""
    if probability >= complete_at:
        return Verdict.COMPLETE
    if probability < unfinished_below:
        return Verdict.UNFINISHED
    return Verdict.UNSURE

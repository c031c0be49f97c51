"""``Answer``: what the candidate said in one turn, possibly over several utterances, until it is stored.

A pause the signals call unfinished, or a candidate who goes on just after the agent began replying, does not
start a new line: the next utterance joins the same answer. The answer becomes one stored line once it is
settled (its reply has played past the resume window, or the call ends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Answer:
    """The parts of one answer heard so far."""

    wall_start: datetime
    parts: list[str] = field(default_factory=list)
    speech_seconds: float = 0.0
    #: End of the last voiced frame of the answer (the session's clock) and its VAD frame index.
    last_voiced_time: float = 0.0
    last_voiced_index: int = 0
    #: Waiting for more: the last part sounded unfinished, or the candidate went on over the reply.
    held: bool = False
    #: The candidate asked for time ("let me think"): the longer grace applies.
    think_time: bool = False

    @property
    def text(self) -> str:
        """The answer so far, its parts joined."""
        return " ".join(self.parts)

    def with_interim(self, interim: str) -> str:
        """The answer as it would read with ``interim`` as its next part."""
        return " ".join([*self.parts, interim]) if interim else self.text

    def add(self, text: str, speech_seconds: float, last_voiced_time: float, last_voiced_index: int) -> None:
        """One more utterance of the answer."""
        self.parts.append(text)
        self.speech_seconds += speech_seconds
        self.last_voiced_time = last_voiced_time
        self.last_voiced_index = last_voiced_index

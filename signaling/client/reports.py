"""What the loopback client saw of a call, as data and as the table ``mock-interviewer call`` prints."""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TurnReport:
    """One exchange: what the client said, what the server heard, what the agent answered, how fast."""

    said: str
    heard: str
    reply: str
    client_response_ms: float | None
    server: dict[str, Any] = field(default_factory=dict)
    interrupted_agent: bool = False
    #: For an answer spoken over the agent: from the candidate's first voiced frame to the agent's last.
    agent_stop_ms: float | None = None
    #: For an answer spoken over the agent: from the server's barge-in (its VAD confirmed the candidate's speech
    #: and it said ``listening``) to the last frame of the agent's voice that arrived (the last that was not
    #: digital silence; 0 when the agent was already between words).
    barge_in_stop_ms: float | None = None


@dataclass
class CallReport:
    """The whole call as the loopback client saw it."""

    user_email: str
    interview_id: str
    call_id: str
    greeting: str
    turns: list[TurnReport]
    ended_reason: str | None
    agent_audio_seconds: float
    #: Largest gap between two consecutive frames of the agent's track at the client (silence included).
    inbound_max_gap_ms: float
    #: When that gap happened, in seconds from the first frame.
    inbound_max_gap_at_s: float
    inbound_frames: int
    events: list[dict[str, Any]] = field(repr=False, default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data, without the raw events."""
        data = asdict(self)
        data.pop("events")
        return data


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_report(report: CallReport) -> str:
    """The call as a readable table: one block per turn, latency figures in milliseconds."""
    width = 100
    lines = [
        f"candidate {report.user_email}  interview {report.interview_id}",
        f"call {report.call_id}  ended: {report.ended_reason or '-'}",
        "",
    ]
    lines += textwrap.wrap(f"agent   {report.greeting}", width, subsequent_indent="        ")
    header = (
        "turn  client  server  endpoint  stt  llm-ttft  tts-first  (ms; client = last voice sent → first voice heard)"
    )
    for turn in report.turns:
        lines.append("")
        lines += textwrap.wrap(f"said    {turn.said}", width, subsequent_indent="        ")
        lines += textwrap.wrap(f"heard   {turn.heard}", width, subsequent_indent="        ")
        lines += textwrap.wrap(f"agent   {turn.reply}", width, subsequent_indent="        ")
    lines += ["", header]
    for number, turn in enumerate(report.turns, 1):
        s = turn.server
        lines.append(
            f"{number:>4}  {_ms(turn.client_response_ms):>6}  {_ms(s.get('response_ms')):>6}  "
            f"{_ms(s.get('endpointing_ms')):>8}  {_ms(s.get('stt_ms')):>3}  {_ms(s.get('llm_ttft_ms')):>8}  "
            f"{_ms(s.get('tts_first_audio_ms')):>9}" + ("  (early reply)" if s.get("early_reply") else "")
        )
    return "\n".join(lines)

"""Turn-taking as a candidate meets it: pauses, fillers, backchannels, noise, echo and barge-ins, in two modes.

Scripted candidates call the server over real WebRTC (the loopback client, in this process; the server in its
own, with the embedded offline providers: Whisper, hibari, the scripted interviewer, Smart Turn), on 127.0.0.1.
Every case runs in both modes in the same run: ``adaptive`` (the defaults: silence, the end-of-turn model and the
transcript decide) and ``silence`` (``TURN_ENDING=silence``: the old fixed 480 ms hangover).

The candidate's voices are synthesized: eSpeak NG in two voices (``en-us`` at 150 wpm, ``en`` at 175 wpm) and
hibari. Human recordings are skipped: the short clips Debian's alsa-utils ships (``/usr/share/sounds/alsa``) are
not on this machine and the benchmark installs nothing, so every voice is synthesized (the output says so).

The cases:

- ``pause N s``: an answer with a mid-sentence pause ("I'd probably start by" + N s + "profiling the slowest
  endpoint and caching the results."), N in 0.5, 1, 1.5, 2, 3;
- ``filler``: "Um... so" + 1 s + the rest of the answer; ``think``: "Let me think." + 2 s + the answer;
- ``complete``: a whole answer without a pause (the response time is measured on these);
- during the greeting: a backchannel ("Mm-hm.", "Okay."), a cough (a synthetic noise burst), a real barge-in
  (a whole sentence over the agent);
- ``echo``: a call in which the agent's own voice comes back into the microphone 80 ms later at -10 dB
  (speakerphone without echo cancellation), with two complete answers.

What is counted (per case and overall, per mode):

- **false cut-off**: agent voice reached the candidate between the end of the first part of a paused answer and
  the end of the whole answer (the agent spoke into a pause the candidate then resumed after);
- **split answer**: more than one final user line for one answer (the user lines the server sends as final are
  the lines it stores; the stored transcript, ``GET /api/interviews/{id}``, is read after each call to check);
- **missed barge-in**: the agent did not stop (say ``listening``) while a whole sentence was spoken over it;
- **interrupted by a backchannel / a cough**: the agent stopped for it;
- **echo answered**: a user line whose words are the agent's own;
- **response time after complete answers**: the server's figures (the ``metrics`` event: ``endpointing_ms``,
  ``response_ms``, ``ended_by`` when the server sends it) and the client's voice to voice (last voiced sample
  sent to first voiced sample received), p50 / p95, as ``latency.py`` computes them.

The figures are measured and printed, never asserted: the issue's targets are for a reader to compare.

    ./scripts/in-loopback-netns.sh .venv/bin/python benchmarks/turn_taking.py [--quick] [--mode adaptive]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import percentiles, server_process, write_result
from benchmarks.latency import INTERVIEW, SERVER_ENV
from signaling.client.api import CallFailed, api_request, create_interview, new_http_session, sign_in
from signaling.client.audio import VOICE_DBFS, speak, to_48k
from signaling.client.events import is_assistant_final, is_speaking, is_user_final
from signaling.client.media_setup import prepare_client_process
from signaling.client.recorder import AgentRecorder
from signaling.client.webrtc import LoopbackCall, MicrophoneTrack
from voice_agent.audio import OUT_FRAME_SAMPLES, OUT_SAMPLE_RATE, rms_dbfs
from voice_agent.providers.hibari_tts import HibariTextToSpeech

MODES: dict[str, dict[str, str]] = {"adaptive": {}, "silence": {"TURN_ENDING": "silence"}}
#: Only loopback, no STUN or TURN (the benchmark runs in a network namespace with nothing else).
NET_ENV = {"MEDIA_HOST_ADDRESSES": "127.0.0.1", "ICE_SERVERS": ""}

#: The candidate's voices: eSpeak NG (voice, words per minute) or hibari.
VOICES: dict[str, tuple[str, int] | None] = {"espeak en-us": ("en-us", 150), "espeak en": ("en", 175), "hibari": None}
PAUSES_S = (0.5, 1.0, 1.5, 2.0, 3.0)
#: Answers cut where a candidate stops to think: (before the pause, after it). Each voice starts at another one,
#: so each pause length is heard with different cuts (after a preposition, "and", "was", an article, ...).
PAUSED_ANSWERS = [
    ("I'd probably start by", "profiling the slowest endpoint and caching the results."),
    ("We moved the whole service to Kubernetes and", "the deploys got much faster."),
    ("I think the main problem was", "the cache, because it was never invalidated."),
    ("I would add an index on the", "customer id column, and then measure it again."),
    ("The hardest part of that project was", "getting two teams to agree on one schema."),
]
COMPLETE_ANSWERS = [
    "I would put a queue between the two services, so that a slow consumer never blocks the producer.",
    "Yes, I led a team of four engineers for two years, and we shipped the new billing system.",
]
FILLER = ("Um... so", 1.0, "I would start with the logs, and then look at the metrics of the database.")
THINK = ("Let me think.", 2.0, "I would shard the database by customer, and keep a small routing table.")
BACKCHANNELS = ("Mm-hm.", "Okay.")
BARGE_IN = "Sorry, could you say that again a little more slowly, please?"
#: When the candidate cuts into the greeting: seconds after the agent starts speaking.
OVERLAP_AFTER_S = 2.0
#: The echo: the agent's voice as the microphone hears it again (speakerphone, no echo cancellation).
ECHO_DELAY_S = 0.08
ECHO_GAIN_DB = -10.0
#: Longest wait for one case's outcome.
STEP_TIMEOUT_S = 45.0
#: How long the agent must have been listening, with nothing new, after its last line, before a case with no
#: reply begun after the candidate's speech counts as settled.
QUIET_S = 2.0
#: Nothing at all from the server this long after the candidate's speech: the case got no reply.
NO_REPLY_S = 15.0
HUMAN_RECORDINGS = (
    "skipped: the Debian alsa-utils clips (/usr/share/sounds/alsa) are not on this machine and the benchmark "
    "installs nothing; every voice is synthesized (eSpeak NG en-us and en, hibari)"
)


# ---------------------------------------------------------------------------------------------- the candidate


@dataclass
class Case:
    """One thing the candidate does: speak ``parts`` with ``pause_s`` between them (when the agent listens), or
    speak over the greeting (``overlap``)."""

    name: str
    kind: str  # paused, filler, think, complete, backchannel, noise, barge-in
    voice: str
    texts: list[str]
    parts: list[np.ndarray] = field(repr=False)
    pause_s: float = 0.0

    @property
    def overlap(self) -> bool:
        """Spoken over the agent (the greeting), not in the agent's silence."""
        return self.kind in ("backchannel", "noise", "barge-in")


@dataclass
class CallPlan:
    """One call: at most one case over the greeting, then cases one after another, each when the agent listens."""

    voice: str
    overlap: Case | None
    steps: list[Case]
    echo: bool = False


def voiced_extent(pcm: np.ndarray) -> np.ndarray:
    """``pcm`` (48 kHz) without the silence before its first and after its last voiced 20 ms frame, by the
    loopback client's own measure of voice (so the pauses are the pauses the client times)."""
    n = len(pcm) // OUT_FRAME_SAMPLES
    voiced = [i for i in range(n) if rms_dbfs(pcm[i * OUT_FRAME_SAMPLES : (i + 1) * OUT_FRAME_SAMPLES]) > VOICE_DBFS]
    if not voiced:
        return pcm[:0]
    return pcm[voiced[0] * OUT_FRAME_SAMPLES : (voiced[-1] + 1) * OUT_FRAME_SAMPLES]


class Voices:
    """Text to 48 kHz speech in each candidate voice (hibari loaded once, in this process)."""

    def __init__(self) -> None:
        self._hibari: HibariTextToSpeech | None = None

    async def say(self, voice: str, text: str) -> np.ndarray:
        """``text`` in ``voice``, its synthesis silence trimmed."""
        espeak = VOICES[voice]
        if espeak is not None:
            return voiced_extent(speak(text, voice=espeak[0], rate_wpm=espeak[1]))
        if self._hibari is None:
            self._hibari = HibariTextToSpeech()
            await self._hibari.start()
        chunks = [to_48k(c.samples, c.sample_rate) async for c in self._hibari.synthesize(text)]
        return voiced_extent(np.concatenate(chunks))

    async def aclose(self) -> None:
        """Stop hibari's worker."""
        if self._hibari is not None:
            await self._hibari.aclose()


def cough() -> np.ndarray:
    """A cough-like noise burst at 48 kHz: two short bursts of band-limited noise, decaying (seeded)."""
    rng = np.random.default_rng(14)

    def burst(seconds: float, peak: float) -> np.ndarray:
        n = int(seconds * OUT_SAMPLE_RATE)
        noise = np.convolve(rng.standard_normal(n), np.ones(6) / 6, mode="same")  # a soft low-pass
        envelope = np.exp(-np.linspace(0, 5, n)) * np.minimum(1, np.linspace(0, 20, n))
        out = noise * envelope
        return out / np.abs(out).max() * peak

    gap = np.zeros(int(0.08 * OUT_SAMPLE_RATE))
    pcm = np.concatenate((burst(0.16, 0.35), gap, burst(0.12, 0.25)))
    return voiced_extent((pcm * 32767).astype(np.int16))


async def build_plans(quick: bool, voices: Voices) -> list[CallPlan]:
    """The calls of a run (the same audio for both modes)."""

    async def paused(voice: str, pause_s: float, answer: tuple[str, str]) -> Case:
        parts = [await voices.say(voice, t) for t in answer]
        return Case(f"pause {pause_s:g} s", "paused", voice, list(answer), parts, pause_s)

    async def complete(voice: str, text: str) -> Case:
        return Case("complete", "complete", voice, [text], [await voices.say(voice, text)])

    async def two_part(voice: str, kind: str, spec: tuple[str, float, str]) -> Case:
        first, pause_s, rest = spec
        parts = [await voices.say(voice, first), await voices.say(voice, rest)]
        return Case(kind, kind, voice, [first, rest], parts, pause_s)

    async def over(voice: str, kind: str, text: str) -> Case:
        audio = cough() if kind == "noise" else await voices.say(voice, text)
        name = {"noise": "cough", "barge-in": "barge-in"}.get(kind, f"backchannel {text!r}")
        return Case(name, kind, voice, [text], [audio])

    if quick:
        voice = "espeak en-us"
        steps = [await paused(voice, p, PAUSED_ANSWERS[i]) for i, p in enumerate((1.0, 2.0))]
        steps.append(await complete(voice, COMPLETE_ANSWERS[0]))
        return [CallPlan(voice, await over(voice, "backchannel", BACKCHANNELS[0]), steps)]

    plans = []
    overlaps = [("barge-in", BARGE_IN), ("backchannel", BACKCHANNELS[0]), ("backchannel", BACKCHANNELS[1])]
    extras = [["filler", "think"], ["filler"], ["think"]]
    for v, voice in enumerate(VOICES):
        steps = [await paused(voice, p, PAUSED_ANSWERS[(i + v) % len(PAUSED_ANSWERS)]) for i, p in enumerate(PAUSES_S)]
        steps += [await complete(voice, text) for text in COMPLETE_ANSWERS]
        for extra in extras[v]:
            steps.append(await two_part(voice, extra, FILLER if extra == "filler" else THINK))
        plans.append(CallPlan(voice, await over(voice, *overlaps[v]), steps))
    plans.append(CallPlan("hibari", await over("hibari", "barge-in", BARGE_IN), []))
    plans.append(CallPlan("espeak en", await over("espeak en", "noise", ""), []))
    echo_steps = [await complete("espeak en-us", text) for text in COMPLETE_ANSWERS]
    plans.append(CallPlan("espeak en-us", None, echo_steps, echo=True))
    return plans


# ---------------------------------------------------------------------------------------------- the echo


class EchoMicrophone(MicrophoneTrack):
    """The candidate's microphone on a speakerphone: the queued speech plus the agent's voice as it arrived,
    ``ECHO_DELAY_S`` later and ``ECHO_GAIN_DB`` quieter (the speech queue's voice timing is the candidate's
    own speech alone)."""

    def __init__(self) -> None:
        super().__init__()
        self.source = self._next_frame
        self._gain = 10 ** (ECHO_GAIN_DB / 20)
        self._heard: deque[tuple[float, np.ndarray]] = deque()
        self._buffer = np.zeros(0, np.int16)

    def hear(self, samples: np.ndarray, now: float) -> None:
        """The agent's audio that reached the loudspeaker at ``now``."""
        self._heard.append((now + ECHO_DELAY_S, samples))

    def _next_frame(self) -> np.ndarray:
        frame = self.speech.next_frame()
        now = time.monotonic()
        due = []
        while self._heard and self._heard[0][0] <= now:
            due.append(self._heard.popleft()[1])
        if due:
            self._buffer = np.concatenate([self._buffer, *due])
        # Never fall more than 100 ms behind (the two clocks are not locked).
        if len(self._buffer) > 5 * OUT_FRAME_SAMPLES:
            self._buffer = self._buffer[-5 * OUT_FRAME_SAMPLES :]
        echo = np.zeros(OUT_FRAME_SAMPLES, np.float64)
        take = self._buffer[:OUT_FRAME_SAMPLES]
        echo[: len(take)] = take
        self._buffer = self._buffer[len(take) :]
        mixed = frame.astype(np.float64) + echo * self._gain
        return np.clip(mixed, -32768, 32767).astype(np.int16)


class EchoRecorder(AgentRecorder):
    """The agent's voice recorded as usual, and handed to the loudspeaker (an ``EchoMicrophone``)."""

    def __init__(self, mic: EchoMicrophone) -> None:
        super().__init__()
        self._mic = mic

    def add_samples(self, samples: np.ndarray, now: float) -> None:
        """Record the frame and play it into the microphone."""
        super().add_samples(samples, now)
        self._mic.hear(samples, now)


# ---------------------------------------------------------------------------------------------- one call


def is_listening(event: dict[str, Any]) -> bool:
    """The agent says it listens."""
    return event.get("type") == "state" and event.get("state") == "listening"


def is_barge_in(events: list[dict[str, Any]], index: int) -> bool:
    """Event ``index`` is a ``listening`` that stopped the agent (a reply that ends normally sends its final
    line first; a barge-in says ``listening`` at once and stores the line afterwards)."""
    if not is_listening(events[index]):
        return False
    for event in reversed(events[:index]):
        if is_assistant_final(event):
            return False
        if is_speaking(event) or (event.get("type") == "state" and event.get("state") == "thinking"):
            return True
    return False


async def wait_settled(call: LoopbackCall, start: int, spoke_until: float, timeout: float = STEP_TIMEOUT_S) -> str:
    """Wait until the agent has answered what the candidate said (which ended at ``spoke_until``) and listens
    again: a reply that began after the candidate's speech has ended, or, when no reply begins, the agent
    listening with nothing new for ``QUIET_S`` after its last line. Returns how it ended."""
    deadline = time.monotonic() + timeout
    while True:
        now = time.monotonic()
        if call.ended_reason() is not None:
            return "ended"
        events = call.events
        reply = next(
            (i for i in range(start, len(events)) if is_speaking(events[i]) and events[i]["_t"] > spoke_until),
            None,
        )
        last_state = next((e for e in reversed(events) if e.get("type") == "state"), None)
        listening = last_state is not None and last_state.get("state") == "listening"
        quiet = now - (events[-1]["_t"] if events else 0)
        if reply is not None:
            final = next((i for i in range(reply, len(events)) if is_assistant_final(events[i])), None)
            if final is not None and listening and quiet >= 0.3:
                return "replied"
        elif listening:
            spoke_after = any(is_assistant_final(e) and e["_t"] > spoke_until for e in events[start:])
            if spoke_after and quiet >= QUIET_S:
                return "settled"
            if quiet >= NO_REPLY_S:
                return "no reply"
        if now > deadline:
            return "timeout"
        await asyncio.sleep(0.05)


def voiced_between(recorder: AgentRecorder, a: float, b: float) -> list[float]:
    """Arrival times of the agent's voiced frames in ``[a, b)``."""
    return [t for t in recorder.voiced_arrivals if a <= t < b]


async def speak_step(call: LoopbackCall, case: Case) -> dict[str, Any]:
    """Say a case's parts while the agent listens and wait for the agent's answer; what happened."""
    start = len(call.events)
    part_starts: list[float] = []
    part_ends: list[float] = []
    for i, part in enumerate(case.parts):
        if i:
            await asyncio.sleep(max(0.0, part_ends[-1] + case.pause_s - time.monotonic()))
        last = await asyncio.wait_for(call.mic.play(part), 60)
        part_starts.append(call.mic.first_voiced or last)
        part_ends.append(last)
    spoke_until = part_ends[-1]
    call.recorder.arm(after=spoke_until)
    settled = await wait_settled(call, start, spoke_until)
    window = call.events[start:]
    result = _lines(case, window, settled)
    result["events"] = trace(window, part_starts[0])
    if len(case.parts) > 1:
        pause_from = part_ends[0]
        heard = voiced_between(call.recorder, pause_from, spoke_until)
        said = [e["text"] for e in window if _agent_text(e) and pause_from <= e["_t"] <= spoke_until]
        result.update(
            pause_measured_s=round(part_starts[1] - part_ends[0], 3),
            false_cutoff=bool(heard),
            agent_voice_in_pause_ms=len(heard) * 20,
            agent_said_in_pause=list(dict.fromkeys(said)),
            replies_begun_in_pause=sum(
                1 for e in window if e.get("type") == "metrics" and pause_from <= e["_t"] <= spoke_until
            ),
        )
    metrics = next((e for e in window if e.get("type") == "metrics" and e["_t"] > spoke_until), {})
    first_voice = call.recorder.first_voice
    result.update(
        client_voice_to_voice_ms=None if first_voice is None else round((first_voice - spoke_until) * 1000, 1),
        server={k: v for k, v in metrics.items() if k not in ("type", "_t")},
    )
    return result


async def overlap_step(call: LoopbackCall, case: Case) -> dict[str, Any]:
    """Speak a case over the greeting, ``OVERLAP_AFTER_S`` into it; did the agent stop, was it answered."""
    speaking, _ = await call.wait_event(is_speaking, 0, 60)
    await asyncio.sleep(OVERLAP_AFTER_S)
    start = len(call.events)
    spoke_until = await asyncio.wait_for(call.mic.play(case.parts[0]), 60)
    spoke = call.mic.first_voiced or spoke_until
    call.recorder.arm(after=spoke_until)
    settled = await wait_settled(call, start, spoke_until)
    events = call.events
    window = events[start:]
    result = _lines(case, window, settled)
    result["events"] = trace(window, spoke)
    stops = [i for i in range(speaking, len(events)) if is_barge_in(events, i)]
    stop_at = next((events[i]["_t"] for i in stops if spoke <= events[i]["_t"] <= spoke_until + 1.5), None)
    until = call.recorder.first_voice or time.monotonic()
    overlap = voiced_between(call.recorder, spoke, until)
    gaps = np.diff([spoke, *voiced_between(call.recorder, spoke, spoke_until + 1.5)])
    result.update(
        agent_stopped=stop_at is not None,
        speech_ms=round((spoke_until - spoke) * 1000, 1),
        # From the candidate's first voiced frame to the agent's last (as latency.py's agent_stop_ms).
        agent_stop_ms=round(((overlap[-1] if overlap else spoke) - spoke) * 1000, 1),
        barge_in_stop_ms=None if stop_at is None else round(call.recorder.audible_until(stop_at) * 1000, 1),
        agent_longest_silence_ms=round(float(gaps.max()) * 1000, 1) if gaps.size else None,
        answered=any(e.get("type") == "metrics" for e in window),
    )
    return result


def _agent_text(event: dict[str, Any]) -> bool:
    return event.get("type") == "transcript" and event.get("role") == "assistant" and bool(event.get("text"))


def trace(window: list[dict[str, Any]], since: float) -> list[str]:
    """The case's events, compactly, with their arrival in seconds from ``since`` (to read a figure's cause)."""
    out = []
    for e in window:
        kind = e.get("type")
        if kind == "state":
            what = e.get("state")
        elif kind == "transcript":
            what = f"{e.get('role')}{' final' if e.get('final') else ''}: {e.get('text', '')[:60]}"
        elif kind == "metrics":
            what = f"metrics response {e.get('response_ms')} ms, ended_by {e.get('ended_by', '-')}"
        else:
            what = str({k: v for k, v in e.items() if k != "_t"})[:80]
        out.append(f"{e['_t'] - since:+.2f} {kind} {what}")
    return out


def _lines(case: Case, window: list[dict[str, Any]], settled: str) -> dict[str, Any]:
    users = [e["text"] for e in window if is_user_final(e)]
    agent = [e["text"] for e in window if is_assistant_final(e)]
    return {
        "case": case.name,
        "kind": case.kind,
        "voice": case.voice,
        "said": " ... ".join(case.texts),
        "user_lines": len(users),
        "heard": users,
        "agent_lines": agent,
        "settled": settled,
    }


_WORDS = re.compile(r"[a-z0-9']+")


def _bigrams(text: str) -> set[tuple[str, ...]]:
    words = _WORDS.findall(text.lower())
    return set(itertools.pairwise(words)) if len(words) > 1 else {tuple(words)}


def is_echo(line: str, agent_text: str, candidate_text: str) -> bool:
    """A user line that is the agent's words (its word pairs are mostly the agent's, more than the candidate's)."""
    pairs = _bigrams(line)
    if not pairs or pairs == {()}:
        return False
    agent = len(pairs & _bigrams(agent_text)) / len(pairs)
    own = len(pairs & _bigrams(candidate_text)) / len(pairs)
    return agent >= 0.4 and agent > own


async def run_call(url: str, plan: CallPlan) -> dict[str, Any]:
    """One call of a plan: sign up, create the interview, call, run the cases, hang up, read the transcript."""
    http = new_http_session()
    call = LoopbackCall(url)
    if plan.echo:
        mic = EchoMicrophone()
        call.mic, call.recorder = mic, EchoRecorder(mic)
    results: list[dict[str, Any]] = []
    try:
        await sign_in(http, url, interview=INTERVIEW)
        interview_id = await create_interview(http, url, INTERVIEW)
        await call.connect(http, interview_id)
        if plan.overlap is not None:
            results.append(await overlap_step(call, plan.overlap))
        else:
            greeting = await wait_settled(call, 0, time.monotonic(), timeout=30.0)
            results.append({"case": "greeting", "kind": "greeting", "voice": "-", "settled": greeting})
        for case in plan.steps:
            if call.ended_reason() is not None:
                break
            results.append(await speak_step(call, case))
        await call.hang_up()
        data = await api_request(http, "GET", f"{url}/api/interviews/{interview_id}")
    finally:
        await call.close()
        await http.close()
    messages = data.get("messages", [])
    stored_users = [m for m in messages if m.get("role") == "user"]
    event_users = [e for e in call.events if is_user_final(e)]
    out: dict[str, Any] = {
        "voice": plan.voice,
        "echo": plan.echo,
        "ended": call.ended_reason(),
        "cases": results,
        "stored_user_lines": len(stored_users),
        "final_user_events": len(event_users),
        "stored_interrupted_agent_lines": sum(1 for m in messages if m.get("role") == "assistant" and m["interrupted"]),
    }
    if plan.echo:
        agent_text = " ".join(e["text"] for e in call.events if _agent_text(e))
        candidate_text = " ".join(" ".join(c.texts) for c in plan.steps)
        echoes = [m["content"] for m in stored_users if is_echo(m["content"], agent_text, candidate_text)]
        out.update(
            echo_lines=echoes,
            echo_answered=len(echoes),
            agent_stopped_by_echo=sum(1 for i in range(len(call.events)) if is_barge_in(call.events, i)),
        )
    return out


# ---------------------------------------------------------------------------------------------- the figures


def summarize(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts per case and overall, and the response figures after complete answers."""
    cases = [c for call in calls if not call["echo"] for c in call["cases"]]

    def of(kind: str, name: str | None = None) -> list[dict[str, Any]]:
        return [c for c in cases if c["kind"] == kind and (name is None or c["case"] == name)]

    def tally(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
        return {"count": sum(bool(r.get(key)) for r in rows), "of": len(rows)}

    summary: dict[str, Any] = {"per_case": {}}
    two_part = [c for c in cases if c["kind"] in ("paused", "filler", "think")]
    for name in dict.fromkeys(c["case"] for c in two_part):
        rows = [c for c in two_part if c["case"] == name]
        summary["per_case"][name] = {
            "false_cutoffs": tally(rows, "false_cutoff"),
            "split_answers": {"count": sum(r["user_lines"] > 1 for r in rows), "of": len(rows)},
        }
    summary["paused_overall"] = {
        "false_cutoffs": tally(two_part, "false_cutoff"),
        "split_answers": {"count": sum(r["user_lines"] > 1 for r in two_part), "of": len(two_part)},
    }
    complete = of("complete")
    server = [c["server"] for c in complete]
    ended_by: dict[str, int] = {}
    for s in server:
        key = str(s.get("ended_by", "not sent"))
        ended_by[key] = ended_by.get(key, 0) + 1
    summary["complete"] = {
        "split_answers": {"count": sum(r["user_lines"] > 1 for r in complete), "of": len(complete)},
        "endpointing_ms": percentiles([s.get("endpointing_ms") for s in server]),
        "stt_ms": percentiles([s.get("stt_ms") for s in server]),
        "response_ms": percentiles([s.get("response_ms") for s in server]),
        "client_voice_to_voice_ms": percentiles([c["client_voice_to_voice_ms"] for c in complete]),
        "ended_by": ended_by,
    }
    summary["backchannels"] = {
        **tally(of("backchannel"), "agent_stopped"),
        "lines": tally(of("backchannel"), "answered"),
    }
    summary["noise"] = tally(of("noise"), "agent_stopped")
    barge = of("barge-in")
    summary["barge_in"] = {
        "missed": {"count": sum(not r["agent_stopped"] for r in barge), "of": len(barge)},
        "barge_in_stop_ms": percentiles([r["barge_in_stop_ms"] for r in barge]),
        "agent_stop_ms": percentiles([r["agent_stop_ms"] for r in barge]),
    }
    echo = [call for call in calls if call["echo"]]
    if echo:
        summary["echo"] = {
            "echo_answered": sum(c["echo_answered"] for c in echo),
            "agent_stopped_by_echo": sum(c["agent_stopped_by_echo"] for c in echo),
            "calls": len(echo),
        }
    summary["stored_lines_match_events"] = all(c["stored_user_lines"] == c["final_user_events"] for c in calls)
    summary["timeouts"] = sum(c.get("settled") == "timeout" for call in calls for c in call["cases"])
    summary["no_reply"] = sum(c.get("settled") == "no reply" for call in calls for c in call["cases"])
    return summary


def _n(t: dict[str, int]) -> str:
    return f"{t['count']}/{t['of']}"


def _p(p: dict[str, Any]) -> str:
    f = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
    return f"{f(p['p50'])} / {f(p['p95'])}"


def table_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The printed table of one mode: (row, cell)."""
    rows = []
    for name, s in summary["per_case"].items():
        rows.append((f"{name}: cut-offs · splits", f"{_n(s['false_cutoffs'])} · {_n(s['split_answers'])}"))
    o = summary["paused_overall"]
    rows.append(("all paused: cut-offs · splits", f"{_n(o['false_cutoffs'])} · {_n(o['split_answers'])}"))
    c = summary["complete"]
    rows += [
        ("complete: split answers", _n(c["split_answers"])),
        ("complete: endpointing ms p50/p95", _p(c["endpointing_ms"])),
        ("complete: server response ms", _p(c["response_ms"])),
        ("complete: client voice-to-voice ms", _p(c["client_voice_to_voice_ms"])),
        ("complete: ended_by", ", ".join(f"{k} {v}" for k, v in c["ended_by"].items()) or "-"),
    ]
    b = summary["backchannels"]
    if b["of"]:
        rows.append(("backchannel: agent stopped · answered", f"{_n(b)} · {_n(b['lines'])}"))
    if summary["noise"]["of"]:
        rows.append(("cough: agent stopped", _n(summary["noise"])))
    g = summary["barge_in"]
    if g["missed"]["of"]:
        rows.append(("barge-in: missed", _n(g["missed"])))
        rows.append(("barge-in: stop ms p50/p95", _p(g["barge_in_stop_ms"])))
    if "echo" in summary:
        e = summary["echo"]
        rows.append(("echo: answered · agent stopped by it", f"{e['echo_answered']} · {e['agent_stopped_by_echo']}"))
    rows.append(("stored lines = final events", "yes" if summary["stored_lines_match_events"] else "NO"))
    rows.append(("cases timed out · no reply", f"{summary['timeouts']} · {summary['no_reply']}"))
    return rows


def print_table(summaries: dict[str, dict[str, Any]]) -> None:
    """Every mode's figures side by side."""
    modes = list(summaries)
    columns = {m: dict(table_rows(s)) for m, s in summaries.items()}
    names = list(dict.fromkeys(r for m in modes for r in columns[m]))
    width = max(len(n) for n in names) + 2
    print(f"\nturn-taking{'':<{width - 11}}" + "".join(f"{m:>22}" for m in modes))
    for name in names:
        print(f"{name:<{width}}" + "".join(f"{columns[m].get(name, '-'):>22}" for m in modes))
    print(f"human recordings: {HUMAN_RECORDINGS}")


def print_cases(mode: str, calls: list[dict[str, Any]]) -> None:
    """One line per case, as it happened (to read a figure's cause)."""
    print(f"\n[{mode}]")
    for call in calls:
        for c in call["cases"]:
            flags = []
            if c.get("false_cutoff"):
                flags.append(f"CUT-OFF ({c['agent_voice_in_pause_ms']} ms of agent voice in the pause)")
            if c.get("user_lines", 0) > 1:
                flags.append(f"SPLIT into {c['user_lines']}")
            if c.get("agent_stopped") is not None:
                flags.append("agent stopped" if c["agent_stopped"] else "agent went on")
            if c.get("client_voice_to_voice_ms") is not None and c["kind"] == "complete":
                flags.append(f"v2v {c['client_voice_to_voice_ms']:.0f} ms")
            if c.get("settled") in ("timeout", "no reply"):
                flags.append("TIMED OUT" if c["settled"] == "timeout" else f"NO REPLY in {NO_REPLY_S:g} s")
            echo = " (echo call)" if call["echo"] else ""
            print(f"  {c['voice']:<13} {c['case']:<22}{echo} {'; '.join(flags) or 'ok'}  heard: {c.get('heard', '')}")
        if call["echo"]:
            print(
                f"  echo lines answered: {call['echo_lines']}; "
                f"agent stopped by its echo: {call['agent_stopped_by_echo']}"
            )


def run_mode(mode: str, plans: list[CallPlan]) -> list[dict[str, Any]]:
    """Start a server in ``mode``, hold every call of the plans, stop it."""
    env = {**SERVER_ENV, **NET_ENV, **MODES[mode]}
    with tempfile.TemporaryDirectory() as data, server_process(env=env, data_dir=Path(data)) as url:

        async def calls() -> list[dict[str, Any]]:
            out = []
            for plan in plans:
                try:
                    out.append(await run_call(url, plan))
                except (CallFailed, TimeoutError) as exc:
                    print(f"  a {plan.voice} call failed: {exc}", flush=True)
            return out

        return asyncio.run(calls())


def main() -> dict[str, Any]:
    """Synthesize the candidates, run every mode, print, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="one voice: pauses of 1 and 2 s, a complete answer, a backchannel"
    )
    parser.add_argument("--mode", action="append", choices=list(MODES), help="default: both")
    parser.add_argument("--call", type=int, action="append", help="only these calls of the plan (0-based)")
    args = parser.parse_args()
    if args.quick:
        os.environ["MOCK_INTERVIEWER_BENCH_QUICK"] = "1"
    prepare_client_process("http://127.0.0.1")

    async def synthesize() -> list[CallPlan]:
        voices = Voices()
        try:
            return await build_plans(args.quick, voices)
        finally:
            await voices.aclose()

    plans = asyncio.run(synthesize())
    if args.call:
        plans = [plans[i] for i in args.call]
    started = time.monotonic()
    results: dict[str, list[dict[str, Any]]] = {}
    for mode in args.mode or list(MODES):
        mode_started = time.monotonic()
        results[mode] = run_mode(mode, plans)
        print_cases(mode, results[mode])
        print(f"  ({time.monotonic() - mode_started:.0f} s)", flush=True)
    summaries = {m: summarize(calls) for m, calls in results.items()}
    path = write_result(
        "turn_taking",
        {
            "quick": args.quick,
            "human_recordings": HUMAN_RECORDINGS,
            "voices": list(dict.fromkeys(p.voice for p in plans)),
            "echo": {"delay_ms": round(ECHO_DELAY_S * 1000), "gain_db": ECHO_GAIN_DB},
            "seconds": round(time.monotonic() - started),
            "modes": {m: {"env": MODES[m], "summary": summaries[m], "calls": results[m]} for m in results},
        },
    )
    print_table(summaries)
    print(f"written to {path}")
    return summaries


if __name__ == "__main__":
    main()

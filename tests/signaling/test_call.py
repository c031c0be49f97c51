"""Calls over real WebRTC: the loopback client against a real server on 127.0.0.1, embedded providers.

The candidate's answers and the threshold of the transcription check come from `benchmarks/stt_hearing.py`
(results in benchmarks/results/stt_hearing.json): eSpeak NG's `en-us` voice at 150 words per minute, sent
through Opus to the embedded Whisper, was heard with 89% recall of distinctive words overall, and every
distinctive word of the two answers below was heard. A check that asks for two of three words keeps a margin
for a codec or timing difference without letting a deaf STT pass.
"""

from __future__ import annotations

import re
import wave

import numpy as np

from signaling.client.base import Answer
from signaling.client.interview import run_interview
from voice_agent.audio import rms_dbfs
from voice_agent.providers.base import InterviewContext, ReplyRequest
from voice_agent.providers.scripted import ScriptedInterviewer

WEATHER = "My favourite project was a weather station built with a Raspberry Pi"
WEATHER_KEYS = {"weather", "station", "raspberry"}
MENTOR = "I mentor three junior developers every week"
MENTOR_KEYS = {"mentor", "junior", "developers", "week"}
NAME = "Robin Candidate"
INTERVIEW_CONTEXT = {
    "role": "Software Engineer",
    "interview_type": "mixed",
    "experience_level": "mid",
    "duration_minutes": 20,
}
INTERVIEW = {**INTERVIEW_CONTEXT, "candidate_name": NAME}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def mentor_keys_heard(text: str) -> int:
    """How many of the mentoring answer's key words were heard, matching on stems ("development" counts)."""
    heard = {word[:5] for word in words(text)}
    return sum(key[:5] in heard for key in MENTOR_KEYS)


def voiced_seconds(samples: np.ndarray) -> float:
    frames = [samples[i : i + 960] for i in range(0, len(samples) - 959, 960)]
    return sum(1 for f in frames if rms_dbfs(f) > -45) * 0.02


def read_wav(path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == 48000 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), np.int16)


async def test_a_call_greets_understands_the_answers_and_replies_to_each(server, tmp_path):
    record = tmp_path / "agent.wav"
    report = await run_interview(
        server.url,
        [Answer.spoken(WEATHER), Answer.spoken(MENTOR)],
        interview=INTERVIEW,
        record=record,
    )

    # The greeting arrived as sound, and asked a question.
    audio = read_wav(record)
    assert voiced_seconds(audio) > 5.0
    assert report.greeting.endswith("?")

    # Each answer was heard (two of three distinctive words at least) and answered with a different line.
    first, second = report.turns
    assert len(WEATHER_KEYS & words(first.heard)) >= 2, first.heard
    assert mentor_keys_heard(second.heard) >= 2, second.heard
    replies = [report.greeting, first.reply, second.reply]
    assert len(set(replies)) == 3 and all(replies)

    # Live transcripts of both sides and per-turn metrics came over the data channel.
    kinds = {(e["type"], e.get("role")) for e in report.events}
    assert {("transcript", "user"), ("transcript", "assistant"), ("metrics", None), ("state", None)} <= kinds
    for turn in report.turns:
        assert turn.server["response_ms"] > 0
        assert turn.server["stt_ms"] >= 0 and turn.server["endpointing_ms"] > 0
        assert turn.client_response_ms is not None and turn.client_response_ms > 0
    assert report.ended_reason == "candidate_ended"

    # What the server stored is what was said, in order.
    lines = await server.lines_after_call(report.interview_id)
    assert [line.role for line in lines] == ["assistant", "user", "assistant", "user", "assistant"]
    assert lines[1].content == first.heard and lines[1].audio_duration_seconds > 2.0


async def test_speaking_over_the_agent_stops_it_and_keeps_only_what_was_played(server):
    report = await run_interview(server.url, [Answer.spoken(MENTOR, barge_in_after_s=1.5)], interview=INTERVIEW)
    context = InterviewContext(seed=report.interview_id, candidate_name=NAME, **INTERVIEW_CONTEXT)
    full_greeting = ScriptedInterviewer().compose_reply(ReplyRequest("", (), context, 0.0))

    interrupted = next(
        e for e in report.events if e["type"] == "transcript" and e["role"] == "assistant" and e["final"]
    )
    turn = report.turns[0]
    assert turn.interrupted_agent
    # The agent fell silent within a second of the candidate starting to talk (its first sentence alone lasts
    # longer than that, and the greeting many seconds more).
    assert turn.agent_stop_ms is not None and turn.agent_stop_ms < 1000, turn.agent_stop_ms
    cut = interrupted["text"]
    assert 0 < len(cut.split()) < len(full_greeting.split()) / 2
    assert full_greeting.startswith(cut.rstrip(".,?! ")), (cut, full_greeting)

    # The store holds the cut line, marked as interrupted, then the candidate's answer and the agent's reply.
    lines = await server.lines_after_call(report.interview_id)
    assert lines[0].role == "assistant" and lines[0].content == cut and lines[0].interrupted
    assert lines[0].audio_duration_seconds < 4.0
    assert lines[1].role == "user" and mentor_keys_heard(lines[1].content) >= 2
    assert report.turns[0].reply and report.turns[0].reply != cut


LONG_ANSWER = (
    "In my last role I owned the payments platform. "
    "We processed about two million transactions a day across four regions. "
    "The biggest problem was that failed payments were retried by hand, which took hours every morning. "
    "I designed a retry service with a queue, idempotency keys and exponential backoff. "
    "I wrote the design document, reviewed it with the finance team, and rolled it out region by region. "
    "Manual work dropped to almost nothing, and recovered revenue went up by about three percent. "
    "Looking back, I would have added better dashboards earlier, because the first incident took too long to find."
)


async def test_agent_frames_keep_their_cadence_while_stt_and_tts_work(server):
    answer = Answer.spoken(LONG_ANSWER)
    assert len(answer.audio) / 48000 > 25  # a long answer: Whisper decodes it in segments while it is spoken

    report = await run_interview(server.url, [answer], interview=INTERVIEW)

    # The agent's track delivered a frame every 20 ms throughout: the long greeting being synthesised sentence
    # by sentence, the long answer being decoded, the reply. Silence frames count too: the clock never stalls.
    assert report.inbound_frames > 40 / 0.02 * 0.9
    assert report.inbound_max_gap_ms < 100, (report.inbound_max_gap_ms, report.inbound_max_gap_at_s)
    heard = words(report.turns[0].heard)
    stems = ("payment", "queue", "backoff", "dashboard", "revenue", "transaction", "region")
    assert sum(any(w.startswith(stem) for w in heard) for stem in stems) >= 3, report.turns[0].heard

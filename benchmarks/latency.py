"""Latency of a spoken interview, in two provider profiles.

The loopback client (a real WebRTC peer in this process) holds a multi-turn interview with a server process:

- ``offline``: the embedded providers as shipped (Whisper, Hibari, the scripted interviewer);
- ``seed-budget``: benchmark-only providers with the seed's cloud timing (``benchmarks/seed_budget.py``, loaded
  by the server through ``STT_PROVIDER=benchmarks.seed_budget:stt`` and so on).

For each profile it reports p50 and p95 of each stage the server measures (DESIGN §2), the server overhead (the
response latency minus the provider waits on its critical path), the voice-to-voice latency as the client hears
it (last voiced sample sent to first voiced sample received, through both sides' jitter buffers and the codec),
how often an early reply was started and thrown away, and, in separate calls that talk over the greeting, the
barge-in stop time (from the server's barge-in, when its VAD confirms the candidate's speech and it says
``listening``, to the last voiced agent frame the client receives).

    .venv/bin/python benchmarks/latency.py [--turns 10] [--barge-ins 5] [--profile offline --profile seed-budget]

(``make bench`` runs it in a network namespace with only loopback.)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import percentiles, server_process, write_result
from benchmarks.seed_budget import ANSWERS, FINAL_AFTER_S, LLM_FIRST_TOKEN_S, TTS_FIRST_AUDIO_S
from signaling.client.base import Answer
from signaling.client.interview import run_interview
from signaling.client.media_setup import prepare_client_process

PROFILES: dict[str, dict[str, str]] = {
    "offline": {},
    "seed-budget": {
        "STT_PROVIDER": "benchmarks.seed_budget:stt",
        "LLM_PROVIDER": "benchmarks.seed_budget:llm",
        "TTS_PROVIDER": "benchmarks.seed_budget:tts",
    },
}
#: Every benchmark server: no recordings (disk work that is not the call's), rate limits out of the way.
SERVER_ENV = {
    "LOG_LEVEL": "ERROR",
    "RECORDINGS": "false",
    "RATE_LIMIT_PER_MINUTE": "100000",
    "AUTH_RATE_LIMIT_PER_MINUTE": "100000",
}
INTERVIEW = {"role": "Software Engineer", "interview_type": "mixed", "duration_minutes": 60}
STAGES = ["endpointing_ms", "stt_ms", "llm_ttft_ms", "tts_first_audio_ms", "response_ms", "overhead_ms"]
#: The seed's sum of parts after the endpointing delay (STT final 250 + LLM first token 800 + TTS 300).
SEED_SUM_OF_PARTS_MS = round((FINAL_AFTER_S + LLM_FIRST_TOKEN_S + TTS_FIRST_AUDIO_S) * 1000)
#: When the first barge-in answer starts, seconds after the agent starts speaking; each next call starts a little
#: later, so the candidate cuts in at different points of the greeting (in a word, between words).
BARGE_IN_AFTER_S = 1.2
BARGE_IN_STEP_S = 0.37


async def interview(url: str, turns: int) -> dict[str, Any]:
    """One call of ``turns`` answers; the figures of each turn."""
    answers = [Answer.spoken(ANSWERS[i % len(ANSWERS)]) for i in range(turns)]
    report = await run_interview(url, answers, interview=INTERVIEW, turn_timeout=90)
    metrics = [t.server for t in report.turns]
    figures = {stage: percentiles([m.get(stage) for m in metrics]) for stage in STAGES}
    figures["client_voice_to_voice_ms"] = percentiles([t.client_response_ms for t in report.turns])
    return {
        "turns": len(report.turns),
        "ended": report.ended_reason,
        "figures": figures,
        "early_replies": sum(bool(m.get("early_reply") or m.get("early_reply_discarded")) for m in metrics),
        "early_replies_discarded": sum(bool(m.get("early_reply_discarded")) for m in metrics),
        "turns_ended_by": _count(m.get("ended_by", "vad") for m in metrics),
        "inbound_max_gap_ms": report.inbound_max_gap_ms,
        "per_turn": [
            {
                "said": t.said,
                "heard": t.heard,
                "client_voice_to_voice_ms": t.client_response_ms,
                **{k: t.server.get(k) for k in (*STAGES, "early_reply", "early_reply_discarded")},
            }
            for t in report.turns
        ],
    }


async def barge_ins(url: str, count: int) -> dict[str, Any]:
    """``count`` calls in which the candidate talks over the greeting."""
    stops, heard = [], []
    for n in range(count):
        answer = Answer.spoken(ANSWERS[n % len(ANSWERS)], barge_in_after_s=BARGE_IN_AFTER_S + n * BARGE_IN_STEP_S)
        report = await run_interview(url, [answer], interview=INTERVIEW, turn_timeout=90)
        turn = report.turns[0]
        stops.append(turn.barge_in_stop_ms)
        heard.append(turn.agent_stop_ms)
    return {
        "calls": count,
        "barge_in_stop_ms": percentiles(stops),
        "candidate_voice_to_agent_silence_ms": percentiles(heard),
    }


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def run_profile(profile: str, turns: int, barge_in_calls: int) -> dict[str, Any]:
    """Start a server with the profile's providers, hold the interview and the barge-in calls, stop it."""
    with (
        tempfile.TemporaryDirectory() as data,
        server_process(env={**SERVER_ENV, **PROFILES[profile]}, data_dir=Path(data)) as url,
    ):

        async def both() -> dict[str, Any]:
            result = await interview(url, turns)
            result["barge_in"] = await barge_ins(url, barge_in_calls)
            return result

        return {"profile": profile, **asyncio.run(both())}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_table(results: dict[str, dict[str, Any]]) -> None:
    """The figures of every profile side by side."""
    names = list(results)
    print(f"\nlatency, ms (p50 / p95){'':<6}" + "".join(f"{n:>22}" for n in names))
    rows = [*STAGES, "client_voice_to_voice_ms"]
    for row in rows:
        cells = []
        for name in names:
            f = results[name]["figures"][row]
            cells.append(f"{_fmt(f['p50'])} / {_fmt(f['p95'])}")
        print(f"{row:<30}" + "".join(f"{c:>22}" for c in cells))
    cells = []
    for name in names:
        f = results[name]["barge_in"]["barge_in_stop_ms"]
        cells.append(f"{_fmt(f['p50'])} / {_fmt(f['p95'])}")
    print(f"{'barge_in_stop_ms':<30}" + "".join(f"{c:>22}" for c in cells))
    cells = [f"{r['early_replies_discarded']} of {r['early_replies']}" for r in results.values()]
    print(f"{'early replies thrown away':<30}" + "".join(f"{c:>22}" for c in cells))
    if "seed-budget" in results:
        r = results["seed-budget"]
        p50 = r["figures"]["response_ms"]["p50"]
        endpointing = r["figures"]["endpointing_ms"]["p50"]
        if p50 is not None and endpointing is not None:
            print(
                f"seed-budget: server response p50 {p50:.0f} ms, {p50 - endpointing:.0f} ms after the endpointing "
                f"delay, against the seed's sum of parts {SEED_SUM_OF_PARTS_MS} ms after it"
            )


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="latency of a multi-turn interview in each provider profile")
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--barge-ins", type=int, default=5, help="calls that talk over the greeting")
    parser.add_argument("--profile", action="append", choices=list(PROFILES), help="default: every profile")
    args = parser.parse_args()
    prepare_client_process("http://127.0.0.1")  # every profile's server runs on this machine
    results = {p: run_profile(p, args.turns, args.barge_ins) for p in (args.profile or list(PROFILES))}
    path = write_result(
        "latency", {"turns": args.turns, "seed_sum_of_parts_ms": SEED_SUM_OF_PARTS_MS, "profiles": results}
    )
    print_table(results)
    print(f"written to {path}")
    return results


if __name__ == "__main__":
    main()

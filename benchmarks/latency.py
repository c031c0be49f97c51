"""Latency of a spoken interview: the loopback client holds a multi-turn interview with a server process.

Reports p50 and p95 of each stage the server measures (DESIGN §2) and of the voice-to-voice latency as the
client hears it (last voiced sample sent to first voiced sample received).

    .venv/bin/python benchmarks/latency.py [--turns 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import percentiles, server_process, write_result
from signaling.loopback import Answer, run_interview

#: Scripted answers (the words the candidate says); what the server transcribes is in the result file.
ANSWERS = [
    "My favourite project was a weather station built with a Raspberry Pi",
    "I mentor three junior developers every week",
    "I led the migration of our billing system to Kubernetes",
    "We cut deploy time from an hour to five minutes",
    "The database was slow, so I added an index and a cache",
    "I resolved the conflict by meeting each engineer and agreeing on a plan",
    "Our team shipped a mobile banking app to two million customers",
    "I would use a queue and retry failed payments with exponential backoff",
    "I wrote the design document and reviewed it with the finance team",
    "Looking back, I would have added better dashboards earlier",
]

STAGES = ["endpointing_ms", "stt_ms", "llm_ttft_ms", "tts_first_audio_ms", "response_ms"]


async def measure(url: str, turns: int) -> dict:
    answers = [Answer.spoken(ANSWERS[i % len(ANSWERS)]) for i in range(turns)]
    report = await run_interview(
        url,
        answers,
        interview_id="bench-latency",
        interview={"role": "Software Engineer", "interview_type": "mixed", "duration_minutes": 60},
    )
    figures = {stage: percentiles([t.server.get(stage) for t in report.turns]) for stage in STAGES}
    figures["client_voice_to_voice_ms"] = percentiles([t.client_response_ms for t in report.turns])
    return {
        "turns": len(report.turns),
        "figures": figures,
        "inbound_max_gap_ms": report.inbound_max_gap_ms,
        "transcripts": [{"said": t.said, "heard": t.heard} for t in report.turns],
    }


def main() -> dict:
    parser = argparse.ArgumentParser(description="latency of a multi-turn offline interview")
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, server_process(data_dir=Path(data)) as url:
        result = {"profile": "offline", **asyncio.run(measure(url, args.turns))}
    path = write_result("latency", result)
    print(f"latency, offline providers, {result['turns']} turns (ms)")
    print(f"{'stage':<28}{'p50':>8}{'p95':>8}")
    for stage, f in result["figures"].items():
        p50 = "-" if f["p50"] is None else f"{f['p50']:.0f}"
        p95 = "-" if f["p95"] is None else f"{f['p95']:.0f}"
        print(f"{stage:<28}{p50:>8}{p95:>8}")
    print(f"written to {path}")
    return result


if __name__ == "__main__":
    main()

"""What the acoustic end-of-turn model (Smart Turn v3.2) says about complete and cut-off answers.

The thresholds in ``TurnOptions`` (``turn_model_complete_at``, ``turn_model_unfinished_below``) and the tests'
examples come from this measurement. Each answer is spoken by the embedded voices (eSpeak NG in two voices,
hibari), brought to 16 kHz as the server does, its synthesis silence trimmed, and followed by 200 ms of
silence (about where the session asks the model: a short VAD silence into the pause). Three kinds:

- ``complete``: a whole sentence;
- ``cut-text``: the unfinished prefix synthesized on its own ("I would start by profiling the"): the voice
  ends it as if it were a sentence, the hard case for an acoustic model;
- ``cut-audio``: the whole sentence synthesized and its audio cut where that prefix ends (at the quietest
  frame near the prefix's own length): the prosody still runs on, as when a candidate stops to think.

    .venv/bin/python benchmarks/turn_model_scores.py   # a table; writes benchmarks/results/turn_model_scores.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voice_agent.audio import VAD_SAMPLE_RATE, PcmResampler
from voice_agent.providers.espeak import EspeakEngine
from voice_agent.providers.hibari_tts import HibariTextToSpeech
from voice_agent.turn_model import SmartTurnModel

RESULTS = Path(__file__).parent / "results"
#: Silence after the speech when the model is asked (the session asks a short VAD silence into a pause).
TRAILING_SILENCE_S = 0.2
#: A 20 ms frame quieter than this fraction of full scale is silence (to trim what the voices add around speech).
QUIET = 0.01

#: Complete answers, each with unfinished prefixes of it (the candidate stops there to think).
ANSWERS: list[tuple[str, list[str]]] = [
    ("I would start by profiling the slowest endpoint.", ["I would start by profiling the", "I would start by"]),
    (
        "We moved the whole service to Kubernetes and the deploys got much faster.",
        ["We moved the whole service to Kubernetes and", "We moved the whole service to"],
    ),
    ("I chose Postgres because the data was relational.", ["I chose Postgres because"]),
    ("So um, I think the main problem was the cache.", ["So um", "So um, I think the main problem was"]),
    ("I added an index, and the query time dropped by half.", ["I added an index, and the query time"]),
    ("That was the hardest bug I have ever fixed.", ["That was the hardest bug I have"]),
    ("Yes, I led a team of four engineers.", ["Yes, I led a team of"]),
]

Voice = Callable[[str], Awaitable[np.ndarray]]


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono int16/float32 samples at ``rate`` as 16 kHz float32 in [-1, 1]."""
    resampler = PcmResampler(VAD_SAMPLE_RATE)
    out = np.concatenate((resampler.resample(samples, rate), resampler.flush()))
    return out.astype(np.float32) / 32768.0


def frame_levels(samples: np.ndarray, frame: int = 320) -> np.ndarray:
    """The peak level of each 20 ms frame."""
    n = len(samples) // frame
    return np.abs(samples[: n * frame]).reshape(n, frame).max(axis=1)


def trim(samples: np.ndarray, frame: int = 320) -> np.ndarray:
    """``samples`` without the silence before the first and after the last loud 20 ms frame."""
    loud = np.flatnonzero(frame_levels(samples, frame) > QUIET)
    if loud.size == 0:
        return samples[:0]
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


def cut_at(whole: np.ndarray, length: int, search_s: float = 0.12, frame: int = 320) -> np.ndarray:
    """``whole`` cut near ``length`` samples, at the quietest 20 ms frame within ``search_s`` of it."""
    levels = frame_levels(whole, frame)
    centre = length // frame
    reach = int(search_s * VAD_SAMPLE_RATE) // frame
    lo, hi = max(1, centre - reach), min(len(levels), centre + reach + 1)
    quietest = lo + int(np.argmin(levels[lo:hi]))
    return trim(whole[: quietest * frame])


def with_pause(samples: np.ndarray) -> np.ndarray:
    """The speech followed by the silence the session has heard when it asks the model."""
    return np.concatenate((samples, np.zeros(int(TRAILING_SILENCE_S * VAD_SAMPLE_RATE), np.float32)))


def espeak_voice(voice: str, rate_wpm: int) -> Voice:
    """An eSpeak NG voice as an async text -> 16 kHz float32 function."""
    engine = EspeakEngine.shared()

    async def say(text: str) -> np.ndarray:
        loop = asyncio.get_running_loop()
        samples = await loop.run_in_executor(engine.executor, engine.synthesize, text, voice, rate_wpm)
        return trim(to_16k(samples, engine.sample_rate))

    return say


def hibari_voice(tts: HibariTextToSpeech) -> Voice:
    """The hibari voice as an async text -> 16 kHz float32 function (its clauses joined)."""

    async def say(text: str) -> np.ndarray:
        parts = [to_16k(chunk.samples, chunk.sample_rate) async for chunk in tts.synthesize(text)]
        return trim(np.concatenate(parts))

    return say


async def measure(voices: dict[str, Voice], model: SmartTurnModel, takes: int) -> tuple[list[dict], list[float]]:
    """Score every answer and cut in every voice, ``takes`` times (neither voice gives the very same samples
    twice: eSpeak's timing depends on what it said before, hibari's vocoder varies slightly); returns one row
    per voice, kind and text with every take's score, and the time of each decision (ms)."""
    rows: dict[tuple[str, str, str], dict] = {}
    timings: list[float] = []

    async def score(voice: str, kind: str, text: str, audio: np.ndarray) -> None:
        started = time.perf_counter()
        probability = await model.probability(with_pause(audio))
        timings.append((time.perf_counter() - started) * 1000)
        row = rows.setdefault((voice, kind, text), {"voice": voice, "kind": kind, "text": text, "scores": []})
        row["speech_s"] = round(len(audio) / VAD_SAMPLE_RATE, 2)
        row["scores"].append(probability)

    for _take in range(takes):
        for voice, say in voices.items():
            for whole_text, cuts in ANSWERS:
                whole = await say(whole_text)
                await score(voice, "complete", whole_text, whole)
                for cut in cuts:
                    prefix = await say(cut)
                    await score(voice, "cut-text", cut, prefix)
                    await score(voice, "cut-audio", cut, cut_at(whole, len(prefix)))
    for row in rows.values():
        row["median"] = statistics.median(row["scores"])
    return list(rows.values()), timings


#: The voice the thresholds are chosen on: the natural one. The model hears eSpeak NG as it hears no person
#: (its complete sentences score anywhere from 0.03 to 0.97), so eSpeak is measured and shown, not fitted.
FIT_VOICE = "hibari heart"
#: ``complete_at``: this share of complete answers sounds finished; ``unfinished_below``: at most this share of
#: complete answers sounds unfinished (calling a complete answer unfinished makes the candidate wait the grace).
COMPLETE_CALLED_FINISHED = 0.9
COMPLETE_CALLED_UNFINISHED = 0.05
#: Pipecat's ``LocalSmartTurnAnalyzerV3`` calls a turn complete above this probability.
PIPECAT_LINE = 0.5


def _floor_05(value: float) -> float:
    return round(float(np.floor(value * 20 + 1e-9)) / 20, 2)


def propose_thresholds(rows: list[dict]) -> dict[str, float]:
    """Thresholds from ``FIT_VOICE``'s complete answers (every take), each rounded down to 0.05:
    ``complete_at`` is their 10th percentile (nine in ten complete answers sound finished); ``unfinished_below``
    their 5th percentile (at most one in twenty sounds unfinished), and never above 0.5, Pipecat's own line
    between complete and incomplete. Seven sentences are too few to fit a line between answers and cuts (a sweep
    lands on whatever gap one sentence leaves); ``summary`` shows what these thresholds do to the cuts."""
    complete = sorted(s for r in rows if r["voice"] == FIT_VOICE and r["kind"] == "complete" for s in r["scores"])
    if len(complete) < 2:
        raise SystemExit(f"the thresholds are chosen on {FIT_VOICE!r}: run with it")
    percentiles = statistics.quantiles(complete, n=100, method="inclusive")
    finished = percentiles[round((1 - COMPLETE_CALLED_FINISHED) * 100) - 1]
    unfinished = percentiles[round(COMPLETE_CALLED_UNFINISHED * 100) - 1]
    return {"complete_at": _floor_05(finished), "unfinished_below": min(_floor_05(unfinished), PIPECAT_LINE)}


def summary(rows: list[dict], thresholds: dict[str, float]) -> dict[str, dict[str, int | float]]:
    """Per voice and kind: how many takes land on each side of the thresholds, and the score range."""
    out: dict[str, dict[str, int | float]] = {}
    for voice in dict.fromkeys(r["voice"] for r in rows):
        for kind in ("complete", "cut-text", "cut-audio"):
            scores = [s for r in rows if r["voice"] == voice and r["kind"] == kind for s in r["scores"]]
            out[f"{voice} / {kind}"] = {
                "n": len(scores),
                "min": round(min(scores), 3),
                "median": round(statistics.median(scores), 3),
                "max": round(max(scores), 3),
                "sounds_finished": sum(s >= thresholds["complete_at"] for s in scores),
                "unsure": sum(thresholds["unfinished_below"] <= s < thresholds["complete_at"] for s in scores),
                "sounds_unfinished": sum(s < thresholds["unfinished_below"] for s in scores),
            }
    return out


async def main() -> None:
    """Measure, print, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--takes", type=int, default=3, help="syntheses of each text per voice")
    parser.add_argument("--no-hibari", action="store_true", help="eSpeak NG voices only")
    parser.add_argument("--out", type=Path, default=RESULTS / "turn_model_scores.json")
    args = parser.parse_args()

    voices: dict[str, Voice] = {
        "espeak en-us 150": espeak_voice("en-us", 150),
        "espeak en 175": espeak_voice("en", 175),
    }
    hibari = None
    if not args.no_hibari:
        hibari = HibariTextToSpeech()
        await hibari.start()
        voices["hibari heart"] = hibari_voice(hibari)
    model = SmartTurnModel()
    await model.start()
    try:
        rows, timings = await measure(voices, model, args.takes)
    finally:
        await model.aclose()
        if hibari is not None:
            await hibari.aclose()

    thresholds = propose_thresholds(rows)
    print(f"{'voice':<17} {'kind':<10} {'median':>6} {'min':>6} {'max':>6}  text")
    for r in rows:
        print(
            f"{r['voice']:<17} {r['kind']:<10} {r['median']:6.3f} {min(r['scores']):6.3f} {max(r['scores']):6.3f}"
            f"  {r['text']}"
        )
    print()
    table = summary(rows, thresholds)
    for key, s in table.items():
        print(
            f"{key:<30} n={s['n']:<3} min {s['min']:.3f} median {s['median']:.3f} max {s['max']:.3f}   "
            f"finished {s['sounds_finished']}, unsure {s['unsure']}, unfinished {s['sounds_unfinished']}"
        )
    timing = {"p50": round(statistics.median(timings), 1), "max": round(max(timings), 1)}
    print(f"\nproposed: complete_at {thresholds['complete_at']}, unfinished_below {thresholds['unfinished_below']}")
    print(f"decision time ms: p50 {timing['p50']}, max {timing['max']} ({len(timings)} decisions, one thread)")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "model": model.name,
        "trailing_silence_s": TRAILING_SILENCE_S,
        "takes": args.takes,
        "thresholds": thresholds,
        "summary": table,
        "decision_ms": timing,
        "rows": [{**r, "median": round(r["median"], 4), "scores": [round(x, 4) for x in r["scores"]]} for r in rows],
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    asyncio.run(main())

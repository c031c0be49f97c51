"""What the embedded STT hears from the loopback client's voice.

The call tests check that an answer with distinctive words is transcribed with several of those words. The
voice, the speaking rate, the words and the threshold of that check come from this measurement, not from
sentences that happen to pass: each candidate sentence is spoken by eSpeak NG (as the loopback client does),
sent through Opus at 48 kHz and back (as WebRTC does), brought to 16 kHz (as the server does) and transcribed
by the embedded faster-whisper exactly as the server runs it. Word recall is reported per voice and rate, and
per distinctive word.

    .venv/bin/python benchmarks/stt_hearing.py            # prints a table, writes benchmarks/results/stt_hearing.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signaling.client.audio import speak
from voice_agent.audio import PcmResampler
from voice_agent.providers.whisper_stt import WhisperSpeechToText

RESULTS = Path(__file__).parent / "results"

#: Interview answers, each with the distinctive words a test would look for.
SENTENCES: list[tuple[str, list[str]]] = [
    ("I led the migration of our billing system to Kubernetes", ["migration", "billing", "kubernetes"]),
    ("We cut deploy time from an hour to five minutes", ["deploy", "hour", "five", "minutes"]),
    ("My favourite project was a weather station built with a Raspberry Pi", ["weather", "station", "raspberry"]),
    ("I would use a queue and retry failed payments with exponential backoff", ["queue", "payments", "backoff"]),
    ("Our team shipped a mobile banking app to two million customers", ["mobile", "banking", "million", "customers"]),
    ("I resolved the conflict by meeting each engineer and agreeing on a plan", ["conflict", "engineer", "plan"]),
    ("The database was slow, so I added an index and a cache", ["database", "index", "cache"]),
    ("I mentor three junior developers every week", ["mentor", "junior", "developers", "week"]),
]

VOICES = ["en-us", "en"]
RATES = [130, 150, 175]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def through_opus(pcm48k: np.ndarray) -> np.ndarray:
    """Encode to Opus and decode again, in 20 ms frames, as a WebRTC call does."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = 48000
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = 32000
    encoder.options = {"application": "voip"}
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate = 48000
    decoder.layout = "mono"
    decoder.format = "s16"
    out = []
    padded = np.concatenate([pcm48k, np.zeros(960 * 3 - len(pcm48k) % 960, np.int16)])
    for i in range(0, len(padded), 960):
        frame = av.AudioFrame.from_ndarray(padded[i : i + 960].reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = i
        for packet in encoder.encode(frame):
            for decoded in decoder.decode(packet):
                out.append(decoded.to_ndarray().reshape(-1))
    return np.concatenate(out)


def to_16k_float(pcm48k: np.ndarray) -> np.ndarray:
    resampler = PcmResampler(16000)
    pcm = np.concatenate([resampler.resample(pcm48k, 48000), resampler.flush()])
    return pcm.astype(np.float32) / 32768.0


async def measure() -> dict:
    stt = WhisperSpeechToText()
    await stt.start()
    per_setting = []
    for voice in VOICES:
        for rate in RATES:
            said_total = heard_total = 0
            key_total = key_heard = 0
            key_hits: dict[str, int] = {}
            rows = []
            for sentence, keys in SENTENCES:
                audio = to_16k_float(through_opus(speak(sentence, voice=voice, rate_wpm=rate)))
                start = time.perf_counter()
                text = await stt.decode(audio, "")
                seconds = time.perf_counter() - start
                heard = set(words(text))
                said = words(sentence)
                said_total += len(said)
                heard_total += sum(1 for w in said if w in heard)
                key_total += len(keys)
                hits = [k for k in keys if k in heard]
                key_heard += len(hits)
                for k in keys:
                    key_hits[k] = key_hits.get(k, 0) + (k in heard)
                rows.append({"said": sentence, "heard": text, "keys_heard": hits, "decode_s": round(seconds, 3)})
            per_setting.append(
                {
                    "voice": voice,
                    "rate_wpm": rate,
                    "word_recall": round(heard_total / said_total, 3),
                    "key_word_recall": round(key_heard / key_total, 3),
                    "key_hits": key_hits,
                    "sentences": rows,
                }
            )
    await stt.aclose()
    return {"measured_at": time.strftime("%Y-%m-%d"), "settings": per_setting}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(RESULTS / "stt_hearing.json"))
    args = parser.parse_args()
    results = asyncio.run(measure())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"{'voice':<6} {'wpm':>4} {'word recall':>12} {'key-word recall':>16}")
    for s in results["settings"]:
        print(f"{s['voice']:<6} {s['rate_wpm']:>4} {s['word_recall']:>12.0%} {s['key_word_recall']:>16.0%}")
    best = max(results["settings"], key=lambda s: (s["key_word_recall"], s["word_recall"]))
    print(f"\nbest: {best['voice']} at {best['rate_wpm']} wpm")
    for row in best["sentences"]:
        print(f"  {row['said']!r} -> {row['heard']!r}  keys heard: {row['keys_heard']}")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()

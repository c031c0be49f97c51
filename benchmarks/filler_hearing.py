"""Does the embedded Whisper keep filler words ("um", "uh", "you know")?

Whisper was trained on transcripts that mostly leave disfluencies out, so it tends to drop them, and the
feedback's filler count would then be too low. A known remedy is an ``initial_prompt`` that itself contains
disfluencies. This measures both on answers spoken with fillers by eSpeak NG (as the loopback client speaks),
through Opus and back, transcribed exactly as the server does: how many of the fillers said were written.

    .venv/bin/python benchmarks/filler_hearing.py     # prints a table, writes benchmarks/results/filler_hearing.json

eSpeak's "um" and "uh" are read words rather than a person's hesitation sounds, so the figures say what Whisper
does with the words, not how it hears real hesitations; the README says how far to trust the count.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import write_result
from benchmarks.stt_hearing import SENTENCES, through_opus, to_16k_float, words
from signaling.client.audio import speak
from voice_agent.providers.whisper_stt import DISFLUENT_PROMPT, WhisperOptions, WhisperSpeechToText

#: Answers with fillers, and how many of each filler each says.
ANSWERS: list[tuple[str, dict[str, int]]] = [
    ("Um, I led the migration of our billing system, uh, to Kubernetes.", {"um": 1, "uh": 1}),
    ("So, uh, we cut deploy time from, um, an hour to five minutes.", {"uh": 1, "um": 1}),
    ("I think, you know, the hardest part was, um, getting everyone to agree.", {"you know": 1, "um": 1}),
    ("Uh, honestly, I mean, we, uh, we just added a cache in front of the database.", {"uh": 2, "i mean": 1}),
    ("It was, like, basically a queue with retries, um, and exponential backoff.", {"um": 1, "basically": 1}),
    ("Um, um, let me think. I would, uh, start with the requirements.", {"um": 2, "uh": 1}),
]

PROMPTS = {"no prompt": "", "disfluent prompt": DISFLUENT_PROMPT}


def count(text: str, filler: str) -> int:
    return len(re.findall(rf"\b{re.escape(filler)}\b", text.lower().replace("umm", "um").replace("uhh", "uh")))


FILLER_WORDS = ("um", "uh", "er", "ah", "you know", "i mean", "basically")


async def measure() -> dict:
    clips = [(text, fillers, to_16k_float(through_opus(speak(text)))) for text, fillers in ANSWERS]
    plain = [(text, to_16k_float(through_opus(speak(text)))) for text, _ in SENTENCES]
    results = {}
    for label, prompt in PROMPTS.items():
        stt = WhisperSpeechToText(WhisperOptions(initial_prompt=prompt))
        await stt.start()
        said = kept = 0
        rows = []
        for text, fillers, audio in clips:
            heard = await stt.decode(audio, "")
            for filler, n in fillers.items():
                said += n
                kept += min(n, count(heard, filler))
            rows.append({"said": text, "heard": heard})
        # Answers without fillers: a prompt must not make Whisper invent them, nor hear the words worse.
        invented = heard_words = plain_words = 0
        for text, audio in plain:
            heard = await stt.decode(audio, "")
            invented += sum(count(heard, filler) for filler in FILLER_WORDS)
            said_words = words(text)
            plain_words += len(said_words)
            heard_words += sum(1 for w in said_words if w in set(words(heard)))
            rows.append({"said": text, "heard": heard})
        await stt.aclose()
        results[label] = {
            "fillers_said": said,
            "fillers_kept": kept,
            "recall": round(kept / said, 3),
            "fillers_invented_in_plain_answers": invented,
            "plain_word_recall": round(heard_words / plain_words, 3),
            "rows": rows,
        }
    return results


def main() -> dict:
    results = asyncio.run(measure())
    path = write_result("filler_hearing", {"measured_on": time.strftime("%Y-%m-%d"), "results": results})
    print(f"{'whisper':<18}{'fillers said':>14}{'kept':>6}{'recall':>8}{'invented':>10}{'word recall':>13}")
    for label, r in results.items():
        print(
            f"{label:<18}{r['fillers_said']:>14}{r['fillers_kept']:>6}{r['recall']:>8.0%}"
            f"{r['fillers_invented_in_plain_answers']:>10}{r['plain_word_recall']:>13.0%}"
        )
    print(f"written to {path}")
    return results


if __name__ == "__main__":
    main()

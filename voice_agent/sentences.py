"""Cut streamed language-model text into sentences, so each can be synthesized as soon as it is complete."""

from __future__ import annotations

import re

from voice_agent.turn_options import TurnOptions

# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e eg ie approx dept est inc ltd co corp fig no vol".split()
)
_END_PUNCT = ".!?…"
_CLOSERS = "\"'”’)]"
_CLAUSE_BREAK = re.compile(r"[,;:—]\s")


class SentenceSplitter:
    """Accumulates text fragments and hands back complete sentences.

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (plus closing quotes or brackets) followed by whitespace,
    except after an abbreviation or an initial, inside a number ("3.5"), or before a lowercase word ("p.m. today"),
    and at a line break. A run-on longer
    than ``max_chars`` is cut at its last clause break so the voice does not wait for it.
    """

    def __init__(self, max_chars: int | None = None) -> None:
        self.max_chars = TurnOptions().sentence_max_chars if max_chars is None else max_chars
        self._buffer = ""

    def push(self, fragment: str) -> list[str]:
        """Add a fragment; return the sentences it completed."""
        self._buffer += fragment
        sentences: list[str] = []
        while True:
            cut = self._find_cut(self._buffer)
            if cut is None:
                break
            sentence, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:].lstrip()
            if sentence:
                sentences.append(sentence)
        return sentences

    def flush(self) -> str | None:
        """Whatever is left at the end of the stream, as a last sentence."""
        rest, self._buffer = self._buffer.strip(), ""
        return rest or None

    def _find_cut(self, text: str) -> int | None:
        for i, ch in enumerate(text):
            if ch == "\n":
                return i + 1
            if ch not in _END_PUNCT:
                continue
            j = i + 1
            while j < len(text) and (text[j] in _CLOSERS or text[j] in _END_PUNCT):
                j += 1
            if j >= len(text):
                return None  # wait for what follows before deciding
            if not text[j].isspace():
                continue
            following = len(text) - len(text[j:].lstrip())
            if following >= len(text):
                return None  # wait for the next word: a lowercase one means this was not an end
            if text[following].islower() or (ch == "." and _is_abbreviation(text, i)):
                continue
            return j
        if len(text) > self.max_chars:
            breaks = list(_CLAUSE_BREAK.finditer(text, 0, self.max_chars))
            if breaks:
                return breaks[-1].end()
            space = text.rfind(" ", 0, self.max_chars)
            if space > 0:
                return space + 1
        return None


def _is_abbreviation(text: str, dot: int) -> bool:
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lstrip("(\"'“‘").lower()
    if not word:
        return False
    if len(word) == 1 and word.isalpha() and word != "i":
        return True  # an initial: "J. Smith" (but "... so did I. Then")
    return word in _ABBREVIATIONS or word.rstrip(".") in _ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """All sentences of a complete text."""
    splitter = SentenceSplitter()
    out = splitter.push(text)
    last = splitter.flush()
    return [*out, last] if last else out

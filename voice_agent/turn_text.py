"""What a transcript says about the turn: pure functions over the text a speech recogniser returned.

The transcripts are as Whisper, Deepgram or OpenAI write them: with or without punctuation and capitals,
fillers as "um", "uh", "hmm", "mm-hmm" or "Mm-hmm.". Each function reads the words of a transcript
(``words``: lowercase, apostrophes made straight, hyphenated words kept whole, spellings made one, number
words as digits) against the word lists of ``voice_agent/data/turn_words.toml``, loaded once, validated,
into the frozen ``TURN_WORDS``:

- ``completeness``: whether an utterance ends mid-clause (``UNFINISHED``), on a finished clause (``COMPLETE``),
  or cannot tell (``UNKNOWN``: no punctuation and a content word at the end);
- ``is_backchannel``: only acknowledgements ("mm-hm", "okay", "Right, right.");
- ``asks_for_time``: only a request for thinking time ("Let me think.", "Good question, hmm.");
- ``is_filler_only``: only hesitations and fillers ("um", "uh, you know");
- ``echo_of`` and ``EchoDetector``: the transcript is (mostly) the words the interviewer just played.

Nothing here reads a clock or keeps state but ``EchoDetector``, which is given the times.
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

WORDS_FILE = Path(__file__).parent / "data" / "turn_words.toml"

#: A word: letters or digits, joined by apostrophes, hyphens or dots inside it ("i'd", "mm-hmm", "3.5"); "%".
_WORD = re.compile(r"[^\W_]+(?:['\-.][^\W_]+)*|%")
#: What may follow the last punctuation mark: closing quotes and brackets, emphasis, spaces.
_TRAILING = re.compile(r"[\s\"'”’»)\]}*]+$")
_OPEN_MARKS = ",;:-–—"  # a clause still going on
_TERMINAL_MARKS = ".!?"

Phrase = tuple[str, ...]


class TurnWordsError(ValueError):
    """A word-list file that cannot be used; the message names the file and the key."""


class Completeness(enum.StrEnum):
    """How an utterance ends, by its words and punctuation."""

    COMPLETE = "complete"  #: terminal punctuation after a word that closes a clause
    UNFINISHED = "unfinished"  #: it ends mid-clause: on a conjunction, article, filler, comma, ellipsis...
    UNKNOWN = "unknown"  #: no terminal punctuation and a content word at the end, or no words at all


@dataclass(frozen=True, slots=True)
class PhraseSet:
    """Words and phrases, each a tuple of normalised words, matched whole-word (build one with ``of``)."""

    phrases: frozenset[Phrase]
    #: The number of words of the longest phrase.
    longest: int
    #: The one-word phrases.
    singles: frozenset[str]

    @classmethod
    def of(cls, phrases: Iterable[Phrase]) -> PhraseSet:
        """The set of these phrases."""
        found = frozenset(phrases)
        longest = max((len(phrase) for phrase in found), default=0)
        return cls(found, longest, frozenset(phrase[0] for phrase in found if len(phrase) == 1))

    def ends(self, words: Sequence[str]) -> bool:
        """Whether ``words`` end with one of the phrases."""
        return any(tuple(words[-size:]) in self.phrases for size in range(1, min(self.longest, len(words)) + 1))

    def sizes_at(self, words: Sequence[str], start: int) -> Iterable[int]:
        """The lengths of the phrases that ``words`` hold at ``start``."""
        for size in range(1, min(self.longest, len(words) - start) + 1):
            if tuple(words[start : start + size]) in self.phrases:
                yield size


@dataclass(frozen=True, slots=True)
class TurnWords:
    """The word lists of ``turn_words.toml``, normalised as transcripts are (see its comments)."""

    spellings: Mapping[str, Phrase]
    conjunctions: PhraseSet
    determiners: PhraseSet
    prepositions: PhraseSet
    auxiliaries: PhraseSet
    hesitations: PhraseSet
    fillers: PhraseSet
    intensifiers: PhraseSet
    subjects: PhraseSet
    demonstratives: frozenset[str]
    pronoun_after: frozenset[str]
    complete_endings: PhraseSet
    elliptical_subjects: frozenset[str]
    question_endings: PhraseSet
    backchannel: PhraseSet
    time_requests: PhraseSet
    time_padding: PhraseSet

    @property
    def unfinished(self) -> tuple[PhraseSet, ...]:
        """Every list whose words at the end leave a clause open."""
        return (
            self.conjunctions,
            self.determiners,
            self.prepositions,
            self.auxiliaries,
            self.hesitations,
            self.fillers,
            self.intensifiers,
            self.subjects,
        )


#: Each table of the file and the keys it must have (no others).
_LAYOUT: dict[str, tuple[str, ...]] = {
    "unfinished": (
        "conjunctions",
        "determiners",
        "prepositions",
        "auxiliaries",
        "hesitations",
        "fillers",
        "intensifiers",
        "subjects",
    ),
    "demonstratives": ("words", "pronoun_after"),
    "complete": ("endings", "elliptical_subjects", "question_endings"),
    "backchannel": ("tokens",),
    "time_request": ("requests", "padding"),
}
#: The keys whose entries must be single words.
_SINGLE_WORDS = {("demonstratives", "words"), ("demonstratives", "pronoun_after"), ("complete", "elliptical_subjects")}


def _split(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'").replace("‘", "'"))


def _respell(tokens: Iterable[str], spellings: Mapping[str, Phrase]) -> Phrase:
    out: list[str] = []
    for token in tokens:
        out.extend(spellings.get(token, (token,)))
    return tuple(out)


def load_turn_words(path: Path = WORDS_FILE) -> TurnWords:
    """Read and validate a word-list file. Raises ``TurnWordsError`` naming the file and the key at fault: the
    file unreadable or not TOML, a table or key missing or unknown, a list not a list of non-empty strings, an
    entry with no word in it, a multi-word entry where one word is needed."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise TurnWordsError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TurnWordsError(f"{path}: not valid TOML ({exc})") from exc

    def fail(place: str, problem: str) -> TurnWordsError:
        return TurnWordsError(f"{path}: {place}: {problem}")

    unknown = sorted(set(data) - {"spellings", *_LAYOUT})
    if unknown:
        raise fail(f"[{unknown[0]}]", "unknown table")
    spellings = _table(data, "spellings", fail)
    respelled: dict[str, Phrase] = {}
    for key, value in spellings.items():
        source = _split(key)
        if len(source) != 1:
            raise fail(f"[spellings] {key!r}", "must be one word")
        if not isinstance(value, str) or not _split(value):
            raise fail(f"[spellings] {key!r}", "must be a string of one or more words")
        respelled[source[0]] = tuple(_split(value))

    lists: dict[tuple[str, str], PhraseSet] = {}
    for table_name, keys in _LAYOUT.items():
        table = _table(data, table_name, fail)
        extra = sorted(set(table) - set(keys))
        if extra:
            raise fail(f"[{table_name}] {extra[0]}", f"unknown key (the keys are {', '.join(keys)})")
        for key in keys:
            place = f"[{table_name}] {key}"
            if key not in table:
                raise fail(place, "missing")
            entries = table[key]
            if not isinstance(entries, list) or not entries:
                raise fail(place, "must be a non-empty list of strings")
            phrases = set()
            for number, entry in enumerate(entries, 1):
                if not isinstance(entry, str) or not entry.strip():
                    raise fail(place, f"entry {number} ({entry!r}) must be a non-empty string")
                phrase = _respell(_split(entry), respelled)
                if not phrase:
                    raise fail(place, f"entry {number} ({entry!r}) has no word in it")
                if (table_name, key) in _SINGLE_WORDS and len(phrase) != 1:
                    raise fail(place, f"entry {number} ({entry!r}) must be one word")
                phrases.add(phrase)
            lists[table_name, key] = PhraseSet.of(phrases)

    unfinished = {key: lists["unfinished", key] for key in _LAYOUT["unfinished"]}
    return TurnWords(
        spellings=MappingProxyType(respelled),
        **unfinished,
        demonstratives=lists["demonstratives", "words"].singles,
        pronoun_after=lists["demonstratives", "pronoun_after"].singles,
        complete_endings=lists["complete", "endings"],
        elliptical_subjects=lists["complete", "elliptical_subjects"].singles,
        question_endings=lists["complete", "question_endings"],
        backchannel=lists["backchannel", "tokens"],
        time_requests=lists["time_request", "requests"],
        time_padding=lists["time_request", "padding"],
    )


def _table(data: dict[str, Any], name: str, fail: Callable[[str, str], TurnWordsError]) -> dict[str, Any]:
    if name not in data:
        raise fail(f"[{name}]", "missing table")
    if not isinstance(data[name], dict):
        raise fail(f"[{name}]", "must be a table")
    return data[name]


#: The word lists, loaded once when this module is imported.
TURN_WORDS: TurnWords = load_turn_words()


def words(text: str) -> Phrase:
    """The words of ``text`` as every function here compares them: lowercase, curly apostrophes straight,
    punctuation dropped, hyphenated words whole ("mm-hmm"), "%" as "percent", and each word respelled by the
    file's ``[spellings]`` ("OK" → "okay", "three" → "3")."""
    return _respell(_split(text), TURN_WORDS.spellings)


def _end_mark(text: str) -> str:
    """``"open"`` for a trailing comma, colon, semicolon, dash or ellipsis; the terminal mark (``.``, ``!``,
    ``?``); or ``""`` for none (closing quotes and brackets after the mark are looked through)."""
    stripped = _TRAILING.sub("", text)
    if stripped.endswith(("…", "..")) or stripped[-1:] in _OPEN_MARKS:
        return "open"
    return stripped[-1] if stripped[-1:] in _TERMINAL_MARKS else ""


def _closes_a_clause(said: Phrase, mark: str) -> bool | None:
    """True when the last words close a clause, False when they leave it open, None when nothing says."""
    w = TURN_WORDS
    if mark == "?" and w.question_endings.ends(said):
        return True
    if w.complete_endings.ends(said):
        return True
    if mark and len(said) >= 2 and said[-2] in w.elliptical_subjects and said[-1] in w.auxiliaries.singles:
        return True  # "Yes, I have." (without the mark "I have" may go on)
    if said[-1] in w.demonstratives:
        return len(said) >= 2 and (said[-2] in w.pronoun_after or said[-2] in w.prepositions.singles)
    if any(phrases.ends(said) for phrases in w.unfinished):
        return False
    return None


def completeness(text: str) -> Completeness:
    """Whether ``text`` ends mid-clause, by its last words and punctuation.

    ``UNFINISHED``: it ends with a comma, colon, semicolon, dash or ellipsis (``...``, ``…``), whatever the
    word; or its last word(s) leave a clause open: a conjunction ("and", "so", "because", "and then"), an
    article or determiner ("the", "my"), a preposition ("to", "by"), an auxiliary ("is", "would"), a
    hesitation or filler ("um", "like", "you know"), an intensifier ("very"), a lone subject ("I", "we",
    "it's"), or "this"/"that"/"these"/"those" not used as a pronoun ("so that" but not "I've done that") --
    with a terminal mark too ("I'd start by profiling the." is unfinished).

    ``COMPLETE``: terminal punctuation (``.``, ``!``, ``?``, before closing quotes or brackets) after any other
    word, a number ("by 40%.") or an ending that closes a clause although its last word is listed above
    ("I think so.", "since then"), a subject and an auxiliary ("Yes, I have.", "I think it is."), and before
    ``?`` an inverted question ("Should I?", "Why is that?").

    ``UNKNOWN``: a content word or a clause-closing ending without terminal punctuation ("I'd use Redis",
    "I think so": Deepgram without smart format, OpenAI), and a text with no words at all ("", "...", "—").
    A subject and an auxiliary without the mark stay ``UNFINISHED`` ("yes I have" may go on: "...used it").
    """
    said = words(text)
    if not said:
        return Completeness.UNKNOWN
    mark = _end_mark(text)
    if mark == "open":
        return Completeness.UNFINISHED
    if _closes_a_clause(said, mark) is False:
        return Completeness.UNFINISHED
    return Completeness.COMPLETE if mark else Completeness.UNKNOWN


def _covered(said: Phrase, allowed: Sequence[PhraseSet], required: PhraseSet | None = None) -> bool:
    """Whether ``said`` is, end to end, a sequence of phrases of the ``allowed`` sets (and of ``required``, at
    least one of which when it is given)."""
    sets = [*allowed, *([required] if required else [])]
    # reach[i]: for the words before i covered, whether a required phrase was among them (either or both).
    reach: list[set[bool]] = [set() for _ in range(len(said) + 1)]
    reach[0].add(required is None)
    for start in range(len(said)):
        for found in reach[start]:
            for phrases in sets:
                for size in phrases.sizes_at(said, start):
                    reach[start + size].add(found or phrases is required)
    return bool(said) and True in reach[-1]


def is_backchannel(text: str, *, max_words: int = 4) -> bool:
    """Whether ``text`` is only acknowledgement tokens ("mm-hm", "okay", "yeah", "got it", "I see"), repeated or
    combined ("Okay, yeah.", "Right, right."), in at most ``max_words`` words. False for a text with no words
    and for one that goes on ("Okay so I would split the service", "Okay, so.")."""
    said = words(text)
    return 0 < len(said) <= max_words and _covered(said, [TURN_WORDS.backchannel])


def asks_for_time(text: str) -> bool:
    """Whether ``text`` is only a request for thinking time: at least one of the file's requests ("let me
    think", "give me a second", "one second", "hold on", "good question") with nothing else but padding
    ("okay", "so", "about that", "for a moment"), hesitations, fillers and acknowledgements around it
    ("Okay, let me think about that.", "Good question, hmm."). An answer that goes on after the request
    ("Let me think... I would start by profiling the endpoint") is not: False, as for "" and "Hmm."."""
    w = TURN_WORDS
    return _covered(words(text), [w.time_padding, w.hesitations, w.fillers, w.backchannel], w.time_requests)


def is_filler_only(text: str) -> bool:
    """Whether ``text`` is only hesitations and fillers ("um", "Uh... hmm.", "um, you know"). False for a text
    with no words, and for acknowledgements ("mm-hmm", "okay": see ``is_backchannel``)."""
    return _covered(words(text), [TURN_WORDS.hesitations, TURN_WORDS.fillers])


@lru_cache(maxsize=8192)
def _same_word(heard: str, played: str) -> bool:
    """Equal, or near enough for a speech recogniser's slip ("limited" for "limiter", "cubernetes")."""
    if heard == played:
        return True
    if min(len(heard), len(played)) < 4 or abs(len(heard) - len(played)) > 2:
        return False
    return SequenceMatcher(None, heard, played).ratio() >= 0.8


def echo_score(text: str, played: Sequence[str]) -> float:
    """The share of the words of ``text`` (hesitations left out) that the played texts (joined in order)
    hold in the same order, less one word for each played word skipped between two matched ones: from 0
    (nothing in common) to 1 (``text`` is a stretch of what was played). Words match when equal after
    ``words`` or nearly so (a recogniser's slip: similar spellings of four letters or more). 0.0 when ``text``
    or ``played`` has no words."""
    skip = TURN_WORDS.hesitations.singles
    heard = [word for word in words(text) if word not in skip]
    spoken = [word for part in played for word in words(part) if word not in skip]
    if not heard or not spoken:
        return 0.0
    # best[j]: the best score of an alignment of the heard words so far whose last match is at or before
    # spoken[j - 1], counting the skipped spoken words after that match as already paid. A local alignment:
    # the spoken words before the first match and after the last one cost nothing.
    best = [0.0] * (len(spoken) + 1)
    for word in heard:
        row = [0.0] * (len(spoken) + 1)
        for j, other in enumerate(spoken, 1):
            matched = best[j - 1] + 1 if _same_word(word, other) else 0.0
            # skip this heard word (free: it only lowers the share), or skip this spoken word (costs one).
            row[j] = max(matched, best[j], row[j - 1] - 1, 0.0)
        best = row
    return max(best) / len(heard)


def echo_of(text: str, played: Sequence[str], *, min_words: int = 3, min_ratio: float = 0.7) -> bool:
    """Whether ``text`` is (mostly) the interviewer's own words coming back (a speakerphone without echo
    cancellation): it has at least ``min_words`` words besides hesitations and its ``echo_score`` against
    ``played`` (the texts the interviewer just played, oldest first) is at least ``min_ratio``. A short answer
    that reuses a few of the question's words is not an echo ("I'd use Kubernetes" after "Would you use
    Kubernetes?": 2 of 3 words; "I would use Kubernetes": 3 of 4 less one skipped word)."""
    skip = TURN_WORDS.hesitations.singles
    if sum(word not in skip for word in words(text)) < min_words:
        return False
    return echo_score(text, played) >= min_ratio


class EchoDetector:
    """The text the interviewer played recently, with when, to tell an echo from an answer (``echo_of``).

    Times are the caller's, in seconds on one clock (``time.monotonic()``, say): a text played at ``at``
    counts until ``at + horizon_s``.
    """

    def __init__(self, horizon_s: float = 10.0, *, min_words: int = 3, min_ratio: float = 0.7) -> None:
        self.horizon_s = horizon_s
        self.min_words = min_words
        self.min_ratio = min_ratio
        self._played: deque[tuple[float, str]] = deque()

    def played(self, text: str, at: float) -> None:
        """Record that the interviewer played ``text`` (a sentence, say) at time ``at``."""
        self._played.append((at, text))

    def recent(self, now: float) -> tuple[str, ...]:
        """The texts played within ``horizon_s`` before ``now``, oldest first (older ones are forgotten)."""
        while self._played and self._played[0][0] < now - self.horizon_s:
            self._played.popleft()
        return tuple(text for _, text in self._played)

    def is_echo(self, text: str, now: float) -> bool:
        """Whether the candidate transcript ``text``, final at ``now``, echoes what was played recently."""
        return echo_of(text, self.recent(now), min_words=self.min_words, min_ratio=self.min_ratio)

    def clear(self) -> None:
        """Forget everything played."""
        self._played.clear()

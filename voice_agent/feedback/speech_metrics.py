"""Speech metrics of an interview, computed from its stored transcript lines.

Pure functions: the figures depend only on the lines given (no clock, no randomness, no I/O), so the same transcript
always gives the same figures.

Answers. Consecutive candidate ("user") lines with no interviewer ("assistant") line between them form one answer.
An answer's duration is the sum of its lines' ``audio_duration_seconds``; its text is its lines joined with a space.
Answers are numbered from 0 in the order they were spoken (``AnswerMetrics.index``).

Words. A word is a run of letters or digits (any script), with internal apostrophes keeping it together: "don't",
"I'm" and "café" are one word each, "3.5" is two ("3", "5"), "well-known" is two, a bare "'" or "-" is none.
Curly apostrophes count as straight ones. Fillers and hedges are words like any other in the word counts.

Rates. Words, fillers and hedges per minute are ``count * 60 / seconds``; an answer (or a whole interview) spoken for
less than ``MIN_RATE_SECONDS`` has no rate (``None``) and no pace flag. The pace flag compares the exact rate:
"slow" below ``SLOW_WPM``, "fast" above ``FAST_WPM``, else "ok" (110 and 170 themselves are "ok").

Phrases (fillers and hedges) are matched case-insensitively on whole words, ignoring punctuation around them; a
multi-word phrase matches only when no pause (punctuation such as a comma, a dash, a line break) and no joiner (a
lone "-", ".", "/" between two words) separates its words: "you, know" is not "you know". Each line is scanned on its
own, so a phrase never spans two lines, and the start and end of a line count as pauses.
Within one list, the longest phrase wins and its words are used once ("I'm not sure" counts once, not also as "not
sure"; "you know" is one filler, not "you" plus "know"). The two lists are independent: "kind of" and "sort of" are
in both, so each occurrence counts once as a filler and once as a hedge.

Fillers (``FILLERS``), with these rules:

- um, uh, er, ah also match their drawn-out spellings: "umm", "ummm", "uhm" are um; "uhh" is uh; "err", "erm" are
  er; "ahh" is ah.
- basically, actually, literally count every time; "I mean" counts except right after "what" ("what I mean is").
- "you know" counts except right after do/does/did/don't/doesn't/didn't/if/what/whether ("do you know ...").
- "kind of" / "sort of" count except right after a determiner ("what kind of database", "a sort of cache": see
  ``_DETERMINERS``); the same rule applies to them as hedges.
- "like" (the exact word; "likes", "liked" never count) is decided by the first rule that applies:

  1. joined to a neighbour by a hyphen or other joiner ("like-minded", "business-like"): not a filler;
  2. right after a word that makes it the verb (``_LIKE_VERB_BEFORE``: "I like", "would like", "I'd like", "do you
     like", "to like", "really like"): not a filler;
  3. right after a word that makes it a preposition (``_LIKE_PREPOSITION_BEFORE``: "feel like", "looks like",
     "sounds like", "something like", "more like", "just like", "not like"): not a filler;
  4. followed by a pause (comma, other punctuation, end of line: "like, ...", "it was, like."): a filler;
  5. followed by a comparison object (``_LIKE_OBJECT_AFTER``: "like a", "like the", "like this", "like that",
     "like it"): not a filler;
  6. after a pause (start of line, comma, other punctuation: "Like I was saying", "so, like three years"): a filler;
  7. right after a form of "be" (quotative or hedging use: "was like", "is like", "I'm like", "it's like", "they're
     like"): a filler;
  8. right next to um/uh/er/ah (any spelling), or between two other fillers ("you know like basically"): a filler;
  9. otherwise ("tools like Docker", "people like you"): not a filler.

  "Right after" / "followed by" means with no pause between (spaces or quotes only): "I, like, ..." is rule 4.

Hedges (``HEDGES``) count every time, with the "kind of" / "sort of" exception above.

``Line.interrupted`` is carried for callers but does not change any figure.

Asides. A line of kind "aside" (``ASIDE``: "Sure, take your time.", an idle prompt, a rejoin greeting) is not a turn
of the interview and is skipped: it belongs to no answer, does not split one (the candidate's lines on both sides of
it are one answer), is no answer's prompt and adds no interviewer seconds. Only the time to start answering looks at
it (below).

Talk share. Candidate seconds / (candidate seconds + interviewer seconds), from ``audio_duration_seconds`` as stored
(an interrupted interviewer line counts for what was stored for it); ``None`` when both are 0.

Time to start answering. For each answer whose previous line (asides skipped) is an interviewer line: the start of
the answer's first line minus the end of that interviewer line (its ``started_at`` plus its ``audio_duration_seconds``);
when an interviewer aside came after that line and began no later than the answer (a rejoin greeting repeating the
question), the answer is timed from the latest such aside instead. A negative
gap (the candidate started before the interviewer finished: barge-in) counts as 0. The mean is over those answers;
``None`` when there are none (e.g. the transcript starts with the candidate and the interviewer never speaks).

Long and short answers: duration above ``LONG_ANSWER_SECONDS`` (120 s) or below ``SHORT_ANSWER_SECONDS`` (15 s); the
thresholds themselves are neither.

Rounding. The dataclasses hold exact (unrounded) values; ``to_dict()`` rounds with Python's ``round`` (half to
even): seconds to 2 decimals, rates (per minute) and mean word counts to 1 decimal, the talk share (a fraction from 0
to 1) to 3 decimals.
Counts are ints; ``None`` stays ``None``; times are ISO 8601 strings with their offset. Filler and hedge counts list
only the phrases that occur, in the order of ``FILLERS`` / ``HEDGES``, so the output is stable.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

# --- Thresholds -----------------------------------------------------------------------------------------------------

SLOW_WPM: float = 110.0
"""Words per minute below which speech is flagged "slow"."""

FAST_WPM: float = 170.0
"""Words per minute above which speech is flagged "fast"."""

SHORT_ANSWER_SECONDS: float = 15.0
"""An answer spoken for less than this many seconds is "short"."""

LONG_ANSWER_SECONDS: float = 120.0
"""An answer spoken for more than this many seconds is "long"."""

MIN_RATE_SECONDS: float = 1.0
"""Below this many spoken seconds, per-minute rates (and the pace flag) are None: too little speech to measure."""

# --- Phrase lists ---------------------------------------------------------------------------------------------------

FILLERS: tuple[str, ...] = (
    "um",
    "uh",
    "er",
    "ah",
    "like",
    "you know",
    "I mean",
    "sort of",
    "kind of",
    "basically",
    "actually",
    "literally",
)
"""Filler words and phrases, as reported (keys of ``filler_counts``). See the module docstring for the rules."""

HEDGES: tuple[str, ...] = (
    "I think",
    "I guess",
    "I believe",
    "I suppose",
    "I feel like",
    "I'm not sure",
    "not sure",
    "maybe",
    "probably",
    "perhaps",
    "possibly",
    "sort of",
    "kind of",
    "somewhat",
    "might",
    "could be",
    "more or less",
    "to be honest",
)
"""Hedging phrases, as reported (keys of ``hedge_counts``). Matched case-insensitively on whole words."""

USER = "user"
"""The candidate's role."""

ASSISTANT = "assistant"
"""The interviewer's role."""

TURN = "turn"
"""The kind of a line that is a turn of the interview (a question, an answer)."""

ASIDE = "aside"
"""The kind of a line that is not a turn ("Sure, take your time.", an idle prompt, a rejoin greeting): skipped."""

Pace = Literal["slow", "ok", "fast"]

# --- Matching details -----------------------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# A gap between two words made of exactly one of these (no spaces) joins them: "well-known", "3.5", "and/or".
_JOINERS = frozenset("-./&+")
# Any of these in a gap between two words is a pause (as are the start and end of a line).
_PAUSE_CHARS = frozenset(",;:.!?…—–-()[]{}\n")

_HESITATIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("um", re.compile(r"u+h?m+")),
    ("uh", re.compile(r"u+h+")),
    ("er", re.compile(r"e+r+m*")),
    ("ah", re.compile(r"a+h+")),
)
_ALWAYS_FILLERS = frozenset({"basically", "actually", "literally"})

_DETERMINERS = frozenset(
    "a an the this that these those what which any some every each one same other all no my your his her its our "
    "their different".split()
)
_YOU_KNOW_NOT_AFTER = frozenset("do does did don't doesn't didn't if what whether".split())
_I_MEAN_NOT_AFTER = frozenset({"what"})

_LIKE_VERB_BEFORE = frozenset(
    "i you we they who would do does did don't doesn't didn't to really also always never still genuinely "
    "definitely".split()
)
_LIKE_PREPOSITION_BEFORE = frozenset(
    "feel feels felt feeling look looks looked looking sound sounds sounded seem seems seemed something anything "
    "nothing everything things stuff more less much just exactly not".split()
)
_LIKE_OBJECT_AFTER = frozenset(
    "a an the this that these those it him her them me us my your his our their its so".split()
)
_BE_FORMS = frozenset("is was were are am be been being".split())

_SPACE, _JOIN, _PAUSE = "space", "join", "pause"


@dataclass(frozen=True, slots=True)
class _Token:
    word: str  # lower case, straight apostrophes
    before: str  # gap kind before: _SPACE, _JOIN or _PAUSE (start of line is a pause)
    after: str  # gap kind after (end of line is a pause)


def _gap_kind(gap: str) -> str:
    if len(gap) == 1 and gap in _JOINERS:
        return _JOIN
    if any(char in _PAUSE_CHARS for char in gap):
        return _PAUSE
    return _SPACE


def _tokenize(text: str) -> list[_Token]:
    matches = list(_WORD_RE.finditer(text))
    kinds = [_PAUSE]
    kinds += [_gap_kind(text[left.end() : right.start()]) for left, right in itertools.pairwise(matches)]
    kinds.append(_PAUSE)
    return [_Token(match.group().lower().replace("’", "'"), kinds[i], kinds[i + 1]) for i, match in enumerate(matches)]


def _phrase_words(phrase: str) -> tuple[str, ...]:
    return tuple(phrase.lower().split())


# Multi-word phrases, longest first, as (name, words).
_MULTIWORD_FILLERS = sorted(
    ((name, _phrase_words(name)) for name in FILLERS if " " in name), key=lambda item: -len(item[1])
)
_HEDGE_PHRASES = sorted(((name, _phrase_words(name)) for name in HEDGES), key=lambda item: -len(item[1]))


def _matches_at(tokens: Sequence[_Token], i: int, words: tuple[str, ...]) -> bool:
    """Whether ``words`` occur at ``tokens[i]``, separated by nothing but spaces."""
    if i + len(words) > len(tokens):
        return False
    for offset, word in enumerate(words):
        token = tokens[i + offset]
        if token.word != word or (offset > 0 and token.before != _SPACE):
            return False
    return True


def _word_before(tokens: Sequence[_Token], i: int) -> str | None:
    """The word right before ``tokens[i]`` when only spaces separate them, else None."""
    return tokens[i - 1].word if i > 0 and tokens[i].before == _SPACE else None


def _hesitation(word: str) -> str | None:
    for name, pattern in _HESITATIONS:
        if pattern.fullmatch(word):
            return name
    return None


def _phrase_allowed(name: str, previous: str | None) -> bool:
    """The context exceptions shared by fillers and hedges."""
    if name in ("kind of", "sort of"):
        return previous not in _DETERMINERS
    if name == "you know":
        return previous not in _YOU_KNOW_NOT_AFTER
    if name == "I mean":
        return previous not in _I_MEAN_NOT_AFTER
    return True


def _filler_ends_at(tokens: Sequence[_Token], j: int) -> bool:
    """Whether a filler other than "like" (ignoring context exceptions) ends at ``tokens[j]``."""
    if j < 0:
        return False
    word = tokens[j].word
    if _hesitation(word) or word in _ALWAYS_FILLERS:
        return True
    return any(_matches_at(tokens, j - len(words) + 1, words) for _, words in _MULTIWORD_FILLERS if j >= len(words) - 1)


def _filler_starts_at(tokens: Sequence[_Token], j: int) -> bool:
    """Whether a filler other than "like" (ignoring context exceptions) starts at ``tokens[j]``."""
    if j >= len(tokens):
        return False
    word = tokens[j].word
    if _hesitation(word) or word in _ALWAYS_FILLERS:
        return True
    return any(_matches_at(tokens, j, words) for _, words in _MULTIWORD_FILLERS)


def _like_is_filler(tokens: Sequence[_Token], i: int) -> bool:
    """Rules 1-9 of the module docstring, first match wins."""
    token = tokens[i]
    previous = tokens[i - 1].word if i > 0 and token.before == _SPACE else None
    following = tokens[i + 1].word if i + 1 < len(tokens) and token.after == _SPACE else None
    if _JOIN in (token.before, token.after):  # 1
        return False
    if previous is not None and (previous in _LIKE_VERB_BEFORE or previous.endswith("'d")):  # 2
        return False
    if previous in _LIKE_PREPOSITION_BEFORE:  # 3
        return False
    if token.after == _PAUSE:  # 4
        return True
    if following in _LIKE_OBJECT_AFTER:  # 5
        return False
    if token.before == _PAUSE:  # 6
        return True
    if previous is not None and (previous in _BE_FORMS or previous.endswith(("'m", "'s", "'re"))):  # 7
        return True
    if (previous is not None and _hesitation(previous)) or (following is not None and _hesitation(following)):  # 8
        return True
    return _filler_ends_at(tokens, i - 1) and _filler_starts_at(tokens, i + 1)  # 8 (between two fillers), else 9


def _count_fillers_in(tokens: Sequence[_Token], counts: dict[str, int]) -> None:
    i = 0
    while i < len(tokens):
        previous = _word_before(tokens, i)
        for name, words in _MULTIWORD_FILLERS:
            if _matches_at(tokens, i, words) and _phrase_allowed(name, previous):
                counts[name] += 1
                i += len(words)
                break
        else:
            word = tokens[i].word
            name = _hesitation(word) or (word if word in _ALWAYS_FILLERS else None)
            if name is None and word == "like" and _like_is_filler(tokens, i):
                name = "like"
            if name is not None:
                counts[name] += 1
            i += 1


def _count_hedges_in(tokens: Sequence[_Token], counts: dict[str, int]) -> None:
    i = 0
    while i < len(tokens):
        previous = _word_before(tokens, i)
        for name, words in _HEDGE_PHRASES:
            if _matches_at(tokens, i, words) and _phrase_allowed(name, previous):
                counts[name] += 1
                i += len(words)
                break
        else:
            i += 1


def _nonzero(counts: dict[str, int], order: Sequence[str]) -> dict[str, int]:
    return {name: counts[name] for name in order if counts.get(name)}


# --- Public text helpers --------------------------------------------------------------------------------------------


def count_words(text: str) -> int:
    """The number of words in ``text`` (runs of letters/digits; internal apostrophes keep a word together)."""
    return len(_WORD_RE.findall(text))


def count_fillers(text: str) -> dict[str, int]:
    """Filler counts in ``text``: only the fillers that occur, in ``FILLERS`` order. A line break counts as a pause."""
    counts = dict.fromkeys(FILLERS, 0)
    _count_fillers_in(_tokenize(text), counts)
    return _nonzero(counts, FILLERS)


def count_hedges(text: str) -> dict[str, int]:
    """Hedge counts in ``text``: only the hedges that occur, in ``HEDGES`` order."""
    counts = dict.fromkeys(HEDGES, 0)
    _count_hedges_in(_tokenize(text), counts)
    return _nonzero(counts, HEDGES)


def pace_flag(words_per_minute: float | None) -> Pace | None:
    """ "slow" below ``SLOW_WPM``, "fast" above ``FAST_WPM``, else "ok"; None for no rate."""
    if words_per_minute is None:
        return None
    if words_per_minute < SLOW_WPM:
        return "slow"
    if words_per_minute > FAST_WPM:
        return "fast"
    return "ok"


def per_minute(count: int, seconds: float) -> float | None:
    """``count`` per minute of ``seconds``; None below ``MIN_RATE_SECONDS``."""
    if seconds < MIN_RATE_SECONDS:
        return None
    return count * 60.0 / seconds


# --- Input ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One transcript line, in the order spoken.

    ``role`` is "user" (the candidate) or "assistant" (the interviewer); ``started_at`` (timezone-aware) is when it
    began to be spoken; ``audio_duration_seconds`` how long it was spoken; ``interrupted`` whether the candidate cut
    the interviewer's line by talking over it; ``kind`` "turn", or "aside" for a line that is not a turn of the
    interview (skipped, see the module docstring). Raises ``ValueError`` on an unknown role or kind, a naive
    ``started_at`` or a negative or non-finite duration.
    """

    role: str
    content: str
    started_at: datetime
    audio_duration_seconds: float
    interrupted: bool = False
    kind: str = TURN

    def __post_init__(self) -> None:
        if self.role not in (USER, ASSISTANT):
            raise ValueError(f"unknown role {self.role!r}: expected {USER!r} or {ASSISTANT!r}")
        if self.kind not in (TURN, ASIDE):
            raise ValueError(f"unknown kind {self.kind!r}: expected {TURN!r} or {ASIDE!r}")
        if self.started_at.utcoffset() is None:
            raise ValueError("started_at must be timezone-aware")
        if not math.isfinite(self.audio_duration_seconds) or self.audio_duration_seconds < 0:
            raise ValueError(f"audio_duration_seconds must be a finite number >= 0, not {self.audio_duration_seconds}")

    @classmethod
    def from_message(cls, message: Any) -> Line:
        """A line from any object with ``role``, ``content``, ``started_at``, ``audio_duration_seconds``,
        ``interrupted`` and ``kind`` attributes (e.g. a stored message row).

        ``role`` and ``kind`` may be str enums (their ``value`` is used). When the object has no ``started_at`` (or
        it is None), its ``timestamp`` is used instead: the stored rows keep the line's start there. A missing
        ``interrupted`` is False, a missing (or None) ``kind`` is "turn", a None ``content`` is "".
        """
        role = message.role
        kind = getattr(message, "kind", None) or TURN
        started_at = getattr(message, "started_at", None)
        if started_at is None:
            started_at = message.timestamp
        content = message.content
        return cls(
            role=str(getattr(role, "value", role)),
            content="" if content is None else str(content),
            started_at=started_at,
            audio_duration_seconds=float(message.audio_duration_seconds),
            interrupted=bool(getattr(message, "interrupted", False)),
            kind=str(getattr(kind, "value", kind)),
        )


# --- Output ---------------------------------------------------------------------------------------------------------


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True, slots=True)
class AnswerMetrics:
    """The figures of one answer (the candidate's lines between two interviewer lines). Values are exact."""

    index: int
    """0-based position among the interview's answers."""
    line_count: int
    started_at: datetime
    """When the answer's first line began."""
    text: str
    """The answer's lines joined with a space (not in ``to_dict()``: the transcript has it)."""
    duration_seconds: float
    word_count: int
    words_per_minute: float | None
    pace: Pace | None
    filler_count: int
    fillers_per_minute: float | None
    filler_counts: dict[str, int]
    hedge_count: int
    hedges_per_minute: float | None
    hedge_counts: dict[str, int]
    start_delay_seconds: float | None
    """Gap from the end of the interviewer line just before (or of a later aside, ``AnswerGroup.cue``) to the
    answer's start, negative clamped to 0; None when the answer does not follow an interviewer line."""
    is_long: bool
    is_short: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, rounded as documented in the module docstring."""
        return {
            "index": self.index,
            "line_count": self.line_count,
            "started_at": self.started_at.isoformat(),
            "duration_seconds": round(self.duration_seconds, 2),
            "word_count": self.word_count,
            "words_per_minute": _round(self.words_per_minute, 1),
            "pace": self.pace,
            "filler_count": self.filler_count,
            "fillers_per_minute": _round(self.fillers_per_minute, 1),
            "filler_counts": dict(self.filler_counts),
            "hedge_count": self.hedge_count,
            "hedges_per_minute": _round(self.hedges_per_minute, 1),
            "hedge_counts": dict(self.hedge_counts),
            "start_delay_seconds": _round(self.start_delay_seconds, 2),
            "is_long": self.is_long,
            "is_short": self.is_short,
        }


@dataclass(frozen=True, slots=True)
class SpeechMetrics:
    """The speech figures of a whole interview. Values are exact; ``to_dict()`` rounds them."""

    answer_count: int
    total_words: int
    """Candidate words, all answers."""
    total_seconds: float
    """Candidate seconds spoken, all answers."""
    interviewer_seconds: float
    talk_share: float | None
    """Candidate seconds / (candidate + interviewer seconds), 0 to 1; None when both are 0."""
    words_per_minute: float | None
    pace: Pace | None
    filler_count: int
    fillers_per_minute: float | None
    filler_counts: dict[str, int]
    hedge_count: int
    hedges_per_minute: float | None
    hedge_counts: dict[str, int]
    longest_answer_seconds: float | None
    longest_answer_words: int | None
    """The most words in one answer (not necessarily the answer with the longest duration)."""
    mean_answer_seconds: float | None
    mean_answer_words: float | None
    mean_start_delay_seconds: float | None
    long_answers: tuple[int, ...]
    """Indexes of the answers longer than ``LONG_ANSWER_SECONDS``."""
    short_answers: tuple[int, ...]
    """Indexes of the answers shorter than ``SHORT_ANSWER_SECONDS``."""
    answers: tuple[AnswerMetrics, ...]

    @property
    def long_answer_count(self) -> int:
        """How many answers ran long."""
        return len(self.long_answers)

    @property
    def short_answer_count(self) -> int:
        """How many answers were short."""
        return len(self.short_answers)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``json.dumps`` works), rounded as documented in the module docstring; stable key order."""
        return {
            "answer_count": self.answer_count,
            "total_words": self.total_words,
            "total_seconds": round(self.total_seconds, 2),
            "interviewer_seconds": round(self.interviewer_seconds, 2),
            "talk_share": _round(self.talk_share, 3),
            "words_per_minute": _round(self.words_per_minute, 1),
            "pace": self.pace,
            "filler_count": self.filler_count,
            "fillers_per_minute": _round(self.fillers_per_minute, 1),
            "filler_counts": dict(self.filler_counts),
            "hedge_count": self.hedge_count,
            "hedges_per_minute": _round(self.hedges_per_minute, 1),
            "hedge_counts": dict(self.hedge_counts),
            "longest_answer_seconds": _round(self.longest_answer_seconds, 2),
            "longest_answer_words": self.longest_answer_words,
            "mean_answer_seconds": _round(self.mean_answer_seconds, 2),
            "mean_answer_words": _round(self.mean_answer_words, 1),
            "mean_start_delay_seconds": _round(self.mean_start_delay_seconds, 2),
            "long_answers": list(self.long_answers),
            "long_answer_count": self.long_answer_count,
            "short_answers": list(self.short_answers),
            "short_answer_count": self.short_answer_count,
            "answers": [answer.to_dict() for answer in self.answers],
        }


# --- Computation ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerGroup:
    """One answer of the transcript and the interviewer lines it answers (asides skipped, see the module docstring)."""

    prompt: Line | None
    """The line just before the answer if that is an interviewer line (asides skipped), else None."""
    cue: Line | None
    """The interviewer line the answer is timed from: the prompt, or a later interviewer aside begun no later than
    the answer (a rejoin greeting repeating the question); None when there is neither."""
    lines: list[Line]
    """The answer's candidate lines in order."""


def answer_groups(lines: Sequence[Line]) -> list[AnswerGroup]:
    """Split the transcript into answers, each with its prompt and its cue (see ``AnswerGroup``); asides belong to
    no answer and do not split one."""
    groups: list[AnswerGroup] = []
    previous: Line | None = None
    asides: list[Line] = []
    for line in lines:
        if line.kind == ASIDE:
            if line.role == ASSISTANT:
                asides.append(line)
            continue
        if line.role == USER:
            if previous is not None and previous.role == USER:
                groups[-1].lines.append(line)
            else:
                prompt = previous if previous is not None and previous.role == ASSISTANT else None
                timed = [aside for aside in asides if aside.started_at <= line.started_at]
                groups.append(AnswerGroup(prompt, timed[-1] if timed else prompt, [line]))
        asides = []
        previous = line
    return groups


def group_answers(lines: Sequence[Line]) -> list[tuple[Line | None, list[Line]]]:
    """Split the transcript into answers: each is (the line just before it if that is an interviewer line, else None;
    the answer's candidate lines in order). Asides are skipped (see the module docstring)."""
    return [(group.prompt, group.lines) for group in answer_groups(lines)]


def _answer_metrics(index: int, prompt: Line | None, lines: list[Line]) -> AnswerMetrics:
    duration = math.fsum(line.audio_duration_seconds for line in lines)
    words = sum(count_words(line.content) for line in lines)
    fillers = dict.fromkeys(FILLERS, 0)
    hedges = dict.fromkeys(HEDGES, 0)
    for line in lines:
        tokens = _tokenize(line.content)
        _count_fillers_in(tokens, fillers)
        _count_hedges_in(tokens, hedges)
    filler_count = sum(fillers.values())
    hedge_count = sum(hedges.values())
    delay = None
    if prompt is not None:
        gap = (lines[0].started_at - prompt.started_at).total_seconds() - prompt.audio_duration_seconds
        delay = max(0.0, gap)
    wpm = per_minute(words, duration)
    return AnswerMetrics(
        index=index,
        line_count=len(lines),
        started_at=lines[0].started_at,
        text=" ".join(line.content.strip() for line in lines if line.content.strip()),
        duration_seconds=duration,
        word_count=words,
        words_per_minute=wpm,
        pace=pace_flag(wpm),
        filler_count=filler_count,
        fillers_per_minute=per_minute(filler_count, duration),
        filler_counts=_nonzero(fillers, FILLERS),
        hedge_count=hedge_count,
        hedges_per_minute=per_minute(hedge_count, duration),
        hedge_counts=_nonzero(hedges, HEDGES),
        start_delay_seconds=delay,
        is_long=duration > LONG_ANSWER_SECONDS,
        is_short=duration < SHORT_ANSWER_SECONDS,
    )


def _sum_counts(answers: Iterable[dict[str, int]], order: Sequence[str]) -> dict[str, int]:
    totals = dict.fromkeys(order, 0)
    for counts in answers:
        for name, count in counts.items():
            totals[name] += count
    return _nonzero(totals, order)


def compute_speech_metrics(lines: Iterable[Line]) -> SpeechMetrics:
    """The speech metrics of an interview from its transcript lines in spoken order (see the module docstring).

    An empty transcript (or one without candidate lines) gives zero counts, empty lists and None for every rate,
    mean and extreme.
    """
    lines = list(lines)
    answers = tuple(_answer_metrics(i, group.cue, group.lines) for i, group in enumerate(answer_groups(lines)))
    total_seconds = math.fsum(answer.duration_seconds for answer in answers)
    interviewer_seconds = math.fsum(
        line.audio_duration_seconds for line in lines if line.role == ASSISTANT and line.kind != ASIDE
    )
    total_words = sum(answer.word_count for answer in answers)
    filler_count = sum(answer.filler_count for answer in answers)
    hedge_count = sum(answer.hedge_count for answer in answers)
    talk_time = total_seconds + interviewer_seconds
    delays = [answer.start_delay_seconds for answer in answers if answer.start_delay_seconds is not None]
    wpm = per_minute(total_words, total_seconds)
    return SpeechMetrics(
        answer_count=len(answers),
        total_words=total_words,
        total_seconds=total_seconds,
        interviewer_seconds=interviewer_seconds,
        talk_share=total_seconds / talk_time if talk_time > 0 else None,
        words_per_minute=wpm,
        pace=pace_flag(wpm),
        filler_count=filler_count,
        fillers_per_minute=per_minute(filler_count, total_seconds),
        filler_counts=_sum_counts((answer.filler_counts for answer in answers), FILLERS),
        hedge_count=hedge_count,
        hedges_per_minute=per_minute(hedge_count, total_seconds),
        hedge_counts=_sum_counts((answer.hedge_counts for answer in answers), HEDGES),
        longest_answer_seconds=max((answer.duration_seconds for answer in answers), default=None),
        longest_answer_words=max((answer.word_count for answer in answers), default=None),
        mean_answer_seconds=total_seconds / len(answers) if answers else None,
        mean_answer_words=total_words / len(answers) if answers else None,
        mean_start_delay_seconds=math.fsum(delays) / len(delays) if delays else None,
        long_answers=tuple(answer.index for answer in answers if answer.is_long),
        short_answers=tuple(answer.index for answer in answers if answer.is_short),
        answers=answers,
    )

"""Keyword matching: how the scripted interviewer and the offline scorer both read an answer.

One matcher for both, so a key point the interviewer counts as covered is the one the scorer credits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from voice_agent.question_banks import KeyPoint, Question

#: Words that show an answer weighed a trade-off or an alternative.
TRADEOFF_KEYWORDS: tuple[str, ...] = (
    "trade-off",
    "tradeoff",
    "trade off",
    "instead",
    "alternative",
    "alternatively",
    "downside",
    "drawback",
    "cost",
    "versus",
    "vs",
    "compared",
    "rather than",
    "whereas",
    "on the other hand",
    "it depends",
    "depends on",
    "pros and cons",
    "overhead",
    "expensive",
    "cheaper",
    "at the expense",
    "compromise",
    "risk",
    "limitation",
)


@cache
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Words of a phrase may be joined by spaces or hyphens, or written together ("trade-off", "tradeoff").
    words = [re.escape(word) for word in re.split(r"[\s-]+", keyword.lower()) if word]
    body = r"[\s-]*".join(words)
    # Keywords of five letters or more are stems ("regulariz" or "cache" also match "cached");
    # shorter ones must be whole words, plural allowed ("ci" must not match "city").
    tail = "" if len(keyword) >= 5 else r"(?:s|es)?(?![a-z0-9])"
    return re.compile(r"(?<![a-z0-9])" + body + tail)


def mentions(text: str, keyword: str) -> bool:
    """Whether ``text`` mentions ``keyword`` (case-insensitive; starts at a word boundary; keywords of five
    characters or more also match longer words that start with them, shorter ones only whole words)."""
    return _keyword_pattern(keyword).search(text.lower()) is not None


def mentions_any(text: str, keywords: Iterable[str]) -> bool:
    """Whether ``text`` mentions at least one of ``keywords``."""
    return any(mentions(text, keyword) for keyword in keywords)


def covered_key_points(question: Question, answer: str) -> list[KeyPoint]:
    """The key points of ``question`` that ``answer`` mentions, in the question's order."""
    return [point for point in question.key_points if mentions_any(answer, point.keywords)]

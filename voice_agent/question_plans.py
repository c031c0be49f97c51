"""Interview plans for the scripted interviewer: which questions, in which order (and the role families).

The questions themselves are data: the TOML banks of ``voice_agent/questions/`` (or an operator's folder),
loaded by ``voice_agent.question_banks``. A question carries key points, each a label plus keywords that a
transparent rule-based scorer can look for in an answer (``voice_agent.keywords``), and follow-ups keyed by
the reason for asking them:

- ``detail``: the answer was too short;
- ``example``: no concrete example (a behavioral answer that stayed hypothetical);
- ``result``: no measurable outcome;
- ``ownership``: only "we", never "I";
- ``tradeoff``: no trade-off or alternative discussed;
- ``key:<label>``: probes one key point the answer did not mention.

Texts of the generic bank and of the openers hold ``{role}`` (the role as entered) or ``{a_role}`` (the
role with its article, "an Accountant"); ``build_plan`` and ``find_question(..., role=...)`` fill them in.

``build_plan`` is deterministic: the same interview (seed, role, type, level, duration) and the same banks
always get the same plan, which is what lets a stateless interviewer continue after a reconnect.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterator, Sequence
from itertools import zip_longest

from voice_agent.keywords import mentions as mentions  # re-exported: the plans' callers match keywords too
from voice_agent.providers.base import InterviewContext
from voice_agent.question_banks import (
    DATA_SCIENTIST,
    GENERIC,
    PRODUCT_MANAGER,
    SOFTWARE_ENGINEER,
    Question,
    QuestionBanks,
    load_question_banks,
)

#: About one main question per 3.5 minutes, after a minute for the greeting and the closing.
MINUTES_PER_QUESTION = 3.5
MIN_MAIN_QUESTIONS = 2

#: The banks shipped in ``voice_agent/questions/``.
BUILTIN_BANKS: QuestionBanks = load_question_banks()
TECHNICAL_OPENER = BUILTIN_BANKS.technical_opener
BACKGROUND_OPENER = BUILTIN_BANKS.background_opener
OPENERS: tuple[Question, ...] = (TECHNICAL_OPENER, BACKGROUND_OPENER)
TECHNICAL_BANKS = BUILTIN_BANKS.technical
BEHAVIORAL_QUESTIONS = BUILTIN_BANKS.behavioral


# --------------------------------------------------------------------------------------------------------
# Role families

# Checked in order: "ML product manager" is a product role, "machine learning engineer" a data role.
_FAMILY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        PRODUCT_MANAGER,
        re.compile(r"\bproduct (manager|owner|management|lead)\b|\bhead of product\b|\bpm\b|\bcpo\b"),
    ),
    (
        DATA_SCIENTIST,
        re.compile(
            r"\bdata scien|\bmachine learning\b|\bml\b|\bmlops\b|\bdata analy|\bdeep learning\b|\bnlp\b"
            r"|\bcomputer vision\b|\bstatistician\b|\b(ai|applied|research) (engineer|scientist)\b"
            r"|\bbusiness intelligence\b|\bbi (analyst|developer)\b|\banalytics\b"
        ),
    ),
    (
        SOFTWARE_ENGINEER,
        re.compile(
            r"\bsoftware\b|\bback[ -]?end\b|\bfront[ -]?end\b|\bfull[ -]?stack\b|\bdev ?ops\b|\bsre\b"
            r"|\bsite reliability\b|\bmobile\b|\bios\b|\bandroid\b|\bdeveloper\b|\bprogrammer\b|\bcoder\b"
            r"|\bweb\b|\b(platform|cloud|infrastructure|data|qa|test|security|systems) engineer\b"
        ),
    ),
)


def role_family(role: str) -> str:
    """The family of a role as typed by the candidate: ``software_engineer``, ``data_scientist``,
    ``product_manager``, or ``generic`` for anything else ("Accountant", "Nurse")."""
    text = " ".join(role.lower().split())
    for family, pattern in _FAMILY_PATTERNS:
        if pattern.search(text):
            return family
    return GENERIC


# --------------------------------------------------------------------------------------------------------
# Plans


def main_question_count(duration_minutes: int) -> int:
    """How many main questions (besides the opener) fit in the planned duration: 10 min → 3, 20 → 5, 30 → 8."""
    return max(MIN_MAIN_QUESTIONS, int((duration_minutes - 1) / MINUTES_PER_QUESTION + 0.5))


def build_plan(context: InterviewContext, banks: QuestionBanks = BUILTIN_BANKS) -> list[Question]:
    """The questions of one interview, in order: an easy opener, then the main questions.

    Deterministic: the same seed, role, type and level always give the same plan. Questions are filtered by
    level; a mixed interview alternates technical and behavioral questions, starting with a technical one.
    The plan is shorter than the duration asks for only when the bank runs out. ``banks``: the built-in ones
    unless an operator configured their own.
    """
    role = display_role(context.role)
    level = context.experience_level
    rng = random.Random(f"{context.seed}|{role.casefold()}|{context.interview_type}|{context.experience_level}")
    technical = [q for q in banks.technical[role_family(role)] if level in q.levels]
    behavioral = [q for q in banks.behavioral if level in q.levels]
    rng.shuffle(technical)
    rng.shuffle(behavioral)

    count = main_question_count(context.duration_minutes)
    if context.interview_type == "technical":
        opener, main = banks.technical_opener, technical[:count]
    elif context.interview_type == "behavioral":
        opener, main = banks.background_opener, behavioral[:count]
    else:
        opener, main = banks.background_opener, _alternate(technical, behavioral, count)
    return [render_question(q, role) for q in (opener, *main)]


def _alternate(first: Sequence[Question], second: Sequence[Question], count: int) -> list[Question]:
    """Up to ``count`` questions taken in turn from ``first`` and ``second``; when one side runs out, the
    other continues alone."""
    picked = [q for pair in zip_longest(first, second) for q in pair if q is not None]
    return picked[:count]


def display_role(role: str) -> str:
    """The role as it should be spoken: the candidate's own words, trimmed ("professional" when empty)."""
    return " ".join(role.split()) or "professional"


def _with_article(role: str) -> str:
    first_word = role.split()[0]
    # Acronyms are read letter by letter: "an SRE", "an ML engineer", but "a QA engineer".
    if first_word.isupper() and len(first_word) > 1:
        vowel_sound = first_word[0] in "AEFHILMNORSX"
    else:
        vowel_sound = first_word[0].lower() in "aeiou"
    return ("an " if vowel_sound else "a ") + role


def render_question(question: Question, role: str) -> Question:
    """The question with the role filled into its text and follow-ups."""
    role = display_role(role)
    values = {"role": role, "a_role": _with_article(role)}
    return dataclasses.replace(
        question,
        text=question.text.format(**values),
        follow_ups={reason: text.format(**values) for reason, text in question.follow_ups.items()},
    )


def all_questions(banks: QuestionBanks = BUILTIN_BANKS) -> Iterator[Question]:
    """Every question of every bank (openers included), with ``{role}`` placeholders left in the texts."""
    return banks.all_questions()


def find_question(question_id: str, role: str | None = None, banks: QuestionBanks = BUILTIN_BANKS) -> Question | None:
    """The question with this id, or None; with ``role``, its texts are rendered for that role."""
    question = banks.by_id.get(question_id)
    if question is None or role is None:
        return question
    return render_question(question, role)

"""The interview as question blocks: what was asked and everything the candidate said to it.

With the scripted interviewer, a block is one question of the plan: the line that asked it and the follow-ups on
it, with every answer in between (matched the way the interviewer itself reads its progress: a question counts as
asked when its first words were spoken). With a chat model, whose questions are not known in advance, a block is
one exchange: an interviewer line that asks something and the candidate's answer.

Asides ("Sure, take your time.", idle prompts, rejoin greetings) are no question of their own and do not split an
answer; an aside that asks a plan question (a rejoin greeting repeating it) still counts as asking it, as it does
for the interviewer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from voice_agent.feedback.speech_metrics import Line, answer_groups
from voice_agent.providers.base import InterviewContext
from voice_agent.question_banks import Question, QuestionBanks
from voice_agent.question_plans import BUILTIN_BANKS, build_plan

_WORDS = re.compile(r"[a-z0-9']+")
HEAD_WORDS = 8


@dataclass
class QuestionBlock:
    """A question and the candidate's whole answer to it (follow-ups included)."""

    question: str
    plan_question: Question | None = None
    answers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def answer(self) -> str:
        return " ".join(a for a in self.answers if a)


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def _asks(line: str, question: Question) -> bool:
    spoken = " " + " ".join(_words(line)) + " "
    return " " + " ".join(_words(question.text)[:HEAD_WORDS]) + " " in spoken


def last_question_sentence(text: str) -> str:
    """The question an interviewer line asks (its last sentence ending in '?'), else the line itself."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    questions = [s for s in sentences if s.endswith("?")]
    return questions[-1] if questions else text.strip()


def question_blocks(
    lines: Sequence[Line], context: InterviewContext, banks: QuestionBanks = BUILTIN_BANKS
) -> list[QuestionBlock]:
    """The answered questions of an interview, in order (``banks``: the ones the interviewer asked from)."""
    plan = build_plan(context, banks)
    blocks: list[QuestionBlock] = []
    by_plan: dict[str, QuestionBlock] = {}
    current: QuestionBlock | None = None
    for group in answer_groups(lines):
        prompt, answer_lines = group.prompt, group.lines
        text = " ".join(line.content for line in answer_lines).strip()
        seconds = sum(line.audio_duration_seconds for line in answer_lines)
        askers = [line.content for line in (prompt, group.cue) if line is not None]
        asked = [q for q in plan if any(_asks(asker, q) for asker in askers)]
        if asked:
            question = asked[-1]
            current = by_plan.get(question.id)
            if current is None:
                current = by_plan[question.id] = QuestionBlock(question.text, question)
                blocks.append(current)
        elif current is None or current.plan_question is None:
            # A chat model's question (or talk before the first planned one): one block per exchange.
            current = QuestionBlock(last_question_sentence(prompt.content) if prompt else "(before any question)")
            blocks.append(current)
        current.answers.append(text)
        current.seconds += seconds
    return [b for b in blocks if b.answer]

"""The offline scorer: transparent rules over the answers' content and the speech metrics (no AI model).

Every rule is here and in the README; a candidate can see why they got each score.

Per answer (a question block: the question and everything said to it, follow-ups included):

- **Coverage**: the share of the question's key points (from the scripted question plan) the answer mentions.
- **STAR** (behavioral questions): which of situation, task, action, result the answer contains (situation,
  action and result from the plan's key points; task from ``TASK_WORDS``).
- **Specificity**: numbers and named tools or products (capitalised words not at a sentence start), counting up to
  3 as fully specific.
- **Structure markers** (technical questions): words that order or justify an explanation (``STRUCTURE_WORDS``),
  up to 3.

Scores (each 1 to 100, a fraction x from 0 to 1 mapped to 15 + 85x unless said otherwise):

- **Technical depth**: mean over technical answers of 0.7 coverage + 0.3 specificity (without technical answers:
  0.4 coverage + 0.6 specificity over all answers).
- **Structure**: mean over answers of the STAR share (behavioral) or the structure-marker share (technical).
- **Communication**: 100, minus up to 30 for pace outside 110-170 words per minute (half a point per word per
  minute outside), minus up to 30 for fillers above 2 per minute (5 points each), minus 20 times the share of
  answers under 15 seconds and 15 times the share over 2 minutes.
- **Confidence**: 100, minus up to 30 for hedges above 1 per minute (6 points each), minus up to 20 for fillers
  above 3 per minute (3 points each), minus up to 20 for a mean start over 3 seconds (4 points a second), minus 20
  times the share of answers under 25 words.
- **Overall**: 0.30 technical depth + 0.25 communication + 0.25 structure + 0.20 confidence.

An interview without a single answer scores 1 everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from voice_agent.feedback.blocks import QuestionBlock, question_blocks
from voice_agent.feedback.report import FeedbackReport, QuestionNote, clamp_score, filler_reliability
from voice_agent.feedback.speech_metrics import Line, SpeechMetrics, compute_speech_metrics, count_words
from voice_agent.keywords import covered_key_points, mentions_any
from voice_agent.providers.base import InterviewContext
from voice_agent.question_banks import KeyPoint, QuestionBanks
from voice_agent.question_plans import BUILTIN_BANKS

SCORED_BY = "offline rules"
TASK_WORDS = (
    "my role",
    "my job",
    "my task",
    "responsible for",
    "i was responsible",
    "i needed to",
    "i had to",
    "we needed to",
    "we had to",
    "the goal",
    "my goal",
    "was asked to",
    "i owned",
)
STRUCTURE_WORDS = (
    "first",
    "second",
    "third",
    "then",
    "next",
    "finally",
    "because",
    "so that",
    "for example",
    "for instance",
    "trade-off",
    "tradeoff",
    "on the other hand",
    "instead",
    "in summary",
)
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty hundred "
    "thousand million billion percent half double twice".split()
)
_STAR = ("situation", "task", "action", "result")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)([A-Z][a-z]+)")


@dataclass
class AnswerAssessment:
    """What the rules found in one answer."""

    block: QuestionBlock
    kind: str
    words: int
    covered: list[KeyPoint]
    missing: list[KeyPoint]
    star: list[str]
    numbers: int
    named: list[str]
    markers: int

    @property
    def coverage(self) -> float:
        total = len(self.covered) + len(self.missing)
        return len(self.covered) / total if total else 0.0

    @property
    def specificity(self) -> float:
        return min(1.0, (self.numbers + len(self.named)) / 3)

    @property
    def structure(self) -> float:
        if self.kind == "behavioral":
            return len(self.star) / len(_STAR)
        return min(1.0, self.markers / 3)


def count_numbers(text: str) -> int:
    """Figures in an answer: digits (3, 40%, 2.5) and number words (three, million, percent)."""
    digits = re.findall(r"\d+(?:[.,]\d+)?%?", text)
    words = [w for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS]
    return len(digits) + len(words)


def named_things(text: str) -> list[str]:
    """Capitalised words that are not at a sentence start and are not 'I': tools, products, companies."""
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    names = []
    for match in re.finditer(r"\b[A-Z][A-Za-z0-9+#.]*[A-Za-z0-9+#]\b|\b[A-Z]{2,}\b", text):
        word = match.group(0)
        if match.start() in starts or word in ("I", "I'm", "I've", "I'd", "OK", "Okay"):
            continue
        if word not in names:
            names.append(word)
    return names


def assess(block: QuestionBlock) -> AnswerAssessment:
    """The rules' findings for one answer."""
    answer = block.answer
    question = block.plan_question
    kind = (
        question.kind if question is not None else ("behavioral" if _sounds_behavioral(block.question) else "technical")
    )
    covered = covered_key_points(question, answer) if question is not None else []
    missing = [p for p in question.key_points if p not in covered] if question is not None else []
    star: list[str] = []
    if kind == "behavioral":
        labels = {p.label for p in covered}
        star = [element for element in _STAR if element in labels]
        if "task" not in star and mentions_any(answer, TASK_WORDS):
            star.insert(1 if "situation" in star else 0, "task")
        if question is None:  # no plan: look for the elements by their words
            star = _star_by_words(answer)
    markers = sum(1 for word in STRUCTURE_WORDS if mentions_any(answer, (word,)))
    return AnswerAssessment(
        block, kind, count_words(answer), covered, missing, star, count_numbers(answer), named_things(answer), markers
    )


def _sounds_behavioral(question: str) -> bool:
    lowered = question.lower()
    return any(p in lowered for p in ("tell me about a time", "describe a time", "a situation", "give me an example"))


def _star_by_words(answer: str) -> list[str]:
    found = []
    if mentions_any(answer, ("when i was", "at my last", "at the time", "we had", "our team", "project", "ago")):
        found.append("situation")
    if mentions_any(answer, TASK_WORDS):
        found.append("task")
    if mentions_any(answer, ("i decided", "i built", "i wrote", "i led", "i proposed", "i talked", "i set up")):
        found.append("action")
    if count_numbers(answer) or mentions_any(answer, ("as a result", "in the end", "reduced", "increased", "improved")):
        found.append("result")
    return found


def _scale(fraction: float) -> int:
    return clamp_score(15 + 85 * max(0.0, min(1.0, fraction)))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def score(assessments: Sequence[AnswerAssessment], speech: SpeechMetrics) -> dict[str, int]:
    """The five scores from the rules above."""
    if not assessments:
        return dict.fromkeys(
            ("overall_score", "technical_depth_score", "communication_score", "structure_score", "confidence_score"), 1
        )
    technical = [a for a in assessments if a.kind == "technical"]
    if technical:
        depth = _mean([0.7 * a.coverage + 0.3 * a.specificity for a in technical])
    else:
        depth = _mean([0.4 * a.coverage + 0.6 * a.specificity for a in assessments])
    structure = _mean([a.structure for a in assessments])

    communication = 100.0
    wpm = speech.words_per_minute
    if wpm is not None and not 110 <= wpm <= 170:
        communication -= min(30.0, (110 - wpm if wpm < 110 else wpm - 170) / 2)
    fillers = speech.fillers_per_minute or 0.0
    communication -= min(30.0, max(0.0, fillers - 2) * 5)
    answers = max(1, speech.answer_count)
    communication -= 20 * speech.short_answer_count / answers + 15 * speech.long_answer_count / answers

    confidence = 100.0
    confidence -= min(30.0, max(0.0, (speech.hedges_per_minute or 0.0) - 1) * 6)
    confidence -= min(20.0, max(0.0, fillers - 3) * 3)
    if speech.mean_start_delay_seconds is not None:
        confidence -= min(20.0, max(0.0, speech.mean_start_delay_seconds - 3) * 4)
    confidence -= 20 * sum(1 for a in assessments if a.words < 25) / len(assessments)

    scores = {
        "technical_depth_score": _scale(depth),
        "communication_score": clamp_score(communication),
        "structure_score": _scale(structure),
        "confidence_score": clamp_score(confidence),
    }
    overall = (
        0.30 * scores["technical_depth_score"]
        + 0.25 * scores["communication_score"]
        + 0.25 * scores["structure_score"]
        + 0.20 * scores["confidence_score"]
    )
    return {"overall_score": clamp_score(overall), **scores}


def _labels(points: Sequence[KeyPoint]) -> str:
    return ", ".join(p.label.replace("_", " ") for p in points)


def strengths_of(assessments: Sequence[AnswerAssessment], speech: SpeechMetrics) -> list[str]:
    """What went well, strongest first (at most four)."""
    found: list[tuple[float, str]] = []
    technical = [a for a in assessments if a.kind == "technical" and a.covered]
    if technical and _mean([a.coverage for a in technical]) >= 0.5:
        covered = _labels([p for a in technical for p in a.covered][:4])
        found.append((0.9, f"Your technical answers covered the key points ({covered})."))
    behavioral = [a for a in assessments if a.kind == "behavioral"]
    complete = [a for a in behavioral if len(a.star) >= 3]
    if behavioral and len(complete) * 2 >= len(behavioral):
        found.append(
            (
                0.85,
                f"You told structured stories: {len(complete)} of {len(behavioral)} had the situation, "
                "what you did and how it turned out.",
            )
        )
    with_numbers = [a for a in assessments if a.numbers]
    if with_numbers and len(with_numbers) * 2 >= len(assessments):
        total = sum(a.numbers for a in with_numbers)
        found.append(
            (0.8, f"You backed your answers with concrete figures ({total} across {len(with_numbers)} answers).")
        )
    if speech.pace == "ok" and speech.words_per_minute is not None:
        found.append((0.6, f"You spoke at a clear, easy pace ({speech.words_per_minute:.0f} words per minute)."))
    if speech.fillers_per_minute is not None and speech.fillers_per_minute <= 2:
        found.append((0.55, f"Few filler words ({speech.fillers_per_minute:.1f} per minute)."))
    if speech.mean_start_delay_seconds is not None and speech.mean_start_delay_seconds <= 2:
        found.append((0.4, "You started your answers promptly."))
    if not found and assessments:
        found.append((0.1, f"You answered {len(assessments)} question(s) and finished the interview."))
    return [text for _, text in sorted(found, key=lambda item: -item[0])[:4]]


def improvements_of(assessments: Sequence[AnswerAssessment], speech: SpeechMetrics) -> list[str]:
    """What to work on, most important first (at most four)."""
    if not assessments:
        return ["Answer the questions out loud: the interview has no answers to assess yet."]
    found: list[tuple[float, str]] = []
    technical = [a for a in assessments if a.kind == "technical" and (a.covered or a.missing)]
    if technical and _mean([a.coverage for a in technical]) < 0.5:
        missing = _labels([p for a in technical for p in a.missing][:4])
        found.append((0.9, f"Cover more of what each technical question asks; for example {missing} went unmentioned."))
    behavioral = [a for a in assessments if a.kind == "behavioral"]
    no_result = [a for a in behavioral if "result" not in a.star]
    if behavioral and no_result:
        found.append(
            (
                0.85,
                f"End your stories with the result, ideally a number: {len(no_result)} of "
                f"{len(behavioral)} did not say how it turned out.",
            )
        )
    if sum(1 for a in assessments if a.numbers == 0) * 2 > len(assessments):
        found.append((0.7, "Add specifics: numbers, scale, the names of the tools you used."))
    if speech.pace == "fast":
        found.append(
            (0.65, f"Slow down a little: {speech.words_per_minute:.0f} words per minute is fast; aim for 110 to 170.")
        )
    elif speech.pace == "slow":
        found.append((0.6, f"Pick up the pace a little: {speech.words_per_minute:.0f} words per minute is slow."))
    if speech.fillers_per_minute is not None and speech.fillers_per_minute > 3:
        top = ", ".join(f"'{k}' ×{v}" for k, v in sorted(speech.filler_counts.items(), key=lambda kv: -kv[1])[:3])
        found.append(
            (
                0.75,
                f"Cut filler words ({speech.fillers_per_minute:.1f} per minute: {top}); a short silent "
                "pause works better.",
            )
        )
    if speech.hedges_per_minute is not None and speech.hedges_per_minute > 2:
        top = ", ".join(f"'{k}' ×{v}" for k, v in sorted(speech.hedge_counts.items(), key=lambda kv: -kv[1])[:3])
        found.append((0.6, f"Sound surer of what you know: fewer hedges ({top})."))
    if speech.short_answer_count:
        found.append(
            (
                0.7,
                f"Expand short answers ({speech.short_answer_count} under 15 seconds): context, what you "
                "did, and the outcome.",
            )
        )
    if speech.long_answer_count:
        found.append(
            (
                0.5,
                f"Keep answers under two minutes ({speech.long_answer_count} ran long): lead with the "
                "point, then the detail.",
            )
        )
    if not found:
        found.append((0.1, "Keep practising with harder questions: try a longer interview or a more senior level."))
    return [text for _, text in sorted(found, key=lambda item: -item[0])[:4]]


def summarise(answer: str, words: int = 35) -> str:
    """The first sentences of an answer, at most about ``words`` words."""
    tokens = answer.split()
    if len(tokens) <= words:
        return answer
    cut = " ".join(tokens[:words])
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    return cut[: end + 1] if end > len(cut) // 2 else cut + "…"


def note_for(assessment: AnswerAssessment) -> QuestionNote:
    """The per-question note: what was good, what was missing, and a stronger answer to aim for."""
    good, missing = [], []
    if assessment.covered:
        good.append(f"Mentioned {_labels(assessment.covered)}.")
    if assessment.kind == "behavioral" and assessment.star:
        good.append("Included the " + ", ".join(assessment.star) + ".")
    if assessment.numbers:
        good.append(f"Gave {assessment.numbers} concrete figure(s).")
    if assessment.named:
        good.append("Named specifics: " + ", ".join(assessment.named[:4]) + ".")
    if assessment.missing:
        missing.append(f"Did not cover {_labels(assessment.missing)}.")
    if assessment.kind == "behavioral":
        absent = [e for e in _STAR if e not in assessment.star]
        if absent:
            missing.append("The story lacked the " + ", ".join(absent) + ".")
    if not assessment.numbers:
        missing.append("No numbers or measurable outcome.")
    if assessment.words < 25:
        missing.append(f"Very short ({assessment.words} words).")
    return QuestionNote(
        question=assessment.block.question,
        answer_summary=summarise(assessment.block.answer),
        good=good,
        missing=missing,
        stronger_answer=stronger_answer(assessment),
    )


def stronger_answer(assessment: AnswerAssessment) -> str:
    """A short example of a stronger answer, built from what the answer lacked."""
    if assessment.kind == "behavioral":
        return (
            "Situation: one sentence on where you were and what was at stake. Task: what you were responsible for. "
            "Action: two or three things you did yourself, in the first person. Result: what changed, with a "
            "number, for example 'we cut review time from three days to one, and the team kept the process'."
        )
    if assessment.missing:
        parts = []
        for point in assessment.missing[:3]:
            examples = [k for k in point.keywords if " " not in k][:2] or list(point.keywords[:2])
            parts.append(f"{point.label.replace('_', ' ')} (for example {' and '.join(examples)})")
        return (
            "Name the approach first, then walk through it in order, covering "
            + "; ".join(parts)
            + ". Close with the main trade-off and how you would measure that it works."
        )
    return (
        "Lead with the answer in one sentence, then justify it: the alternative you rejected and why, the numbers "
        "that matter (scale, latency, cost), and how you would check it works."
    )


def offline_report(
    lines: Sequence[Line], context: InterviewContext, stt_name: str | None, banks: QuestionBanks = BUILTIN_BANKS
) -> FeedbackReport:
    """The whole report, scored by the rules of this module (``banks``: the ones the interviewer asked from)."""
    speech = compute_speech_metrics(lines)
    assessments = [assess(block) for block in question_blocks(lines, context, banks)]
    return FeedbackReport(
        **score(assessments, speech),
        strengths=strengths_of(assessments, speech) or ["You joined the interview."],
        improvements=improvements_of(assessments, speech),
        questions=[note_for(a) for a in assessments],
        scored_by=SCORED_BY,
        scoring_note=(
            "Scored offline by transparent rules, not by an AI model: coverage of each question's key points, "
            "STAR elements in stories, concrete figures and names, and the speech metrics (pace, fillers, hedges, "
            "answer lengths). The README lists every rule."
        ),
        speech=speech.to_dict(),
        filler_reliability=filler_reliability(stt_name),
    )

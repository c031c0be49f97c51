"""The feedback report: the seed's rubric scores, strengths, improvements and a note per question.

``LlmFeedback`` is what a chat model must answer (its JSON schema is sent with the request and its answer is
validated against it); ``FeedbackReport`` is what is stored: the same, plus the speech metrics, who scored it and
how reliable the filler count is.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Score = Field(ge=1, le=100)


class QuestionNote(BaseModel):
    """Feedback on one question of the interview."""

    model_config = ConfigDict(extra="ignore")

    question: str = Field(min_length=1, description="what was asked")
    answer_summary: str = Field(description="a short summary of the candidate's answer")
    good: list[str] = Field(default_factory=list, description="what was good about the answer")
    missing: list[str] = Field(default_factory=list, description="what was missing or could be better")
    stronger_answer: str = Field(description="a short example of a stronger answer")


class Scores(BaseModel):
    """The seed's five scores, integers from 1 to 100."""

    overall_score: int = Score
    technical_depth_score: int = Score
    communication_score: int = Score
    structure_score: int = Score
    confidence_score: int = Score


class LlmFeedback(Scores):
    """What a chat model answers: scores, strengths, improvements and per-question notes."""

    model_config = ConfigDict(extra="ignore")

    strengths: list[str] = Field(min_length=1, max_length=6)
    improvements: list[str] = Field(min_length=1, max_length=6)
    questions: list[QuestionNote] = Field(default_factory=list)


#: The JSON schema sent to chat models with the request.
LLM_FEEDBACK_SCHEMA: dict[str, Any] = LlmFeedback.model_json_schema()


class FeedbackReport(LlmFeedback):
    """A finished report, as stored."""

    scored_by: str = Field(description="'offline rules' or the model that scored it")
    scoring_note: str = ""
    speech: dict[str, Any] = Field(default_factory=dict, description="speech metrics (speech_metrics.to_dict())")
    filler_reliability: dict[str, str] = Field(default_factory=dict)

    def scores(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in Scores.model_fields}

    def detailed_feedback(self) -> dict[str, Any]:
        """What goes in the ``detailed_feedback`` JSON column."""
        return {
            "questions": [note.model_dump() for note in self.questions],
            "speech": self.speech,
            "scored_by": self.scored_by,
            "scoring_note": self.scoring_note,
            "filler_reliability": self.filler_reliability,
        }


def clamp_score(value: float) -> int:
    """A 1..100 integer score."""
    return int(max(1, min(100, round(value))))


def filler_reliability(stt_name: str | None) -> dict[str, str]:
    """How far to trust the filler count, given the speech recognition that wrote the transcript."""
    notes = {
        "deepgram": ("high", "Deepgram was asked to keep filler words (filler_words=true), so the count is reliable."),
        "whisper": (
            "medium",
            "The embedded Whisper is primed to keep filler words; measured on synthetic speech it kept 93% of them "
            "(benchmarks/filler_hearing.py), but soft hesitations may still be missed, so the count is a floor.",
        ),
        "openai-stt": (
            "low",
            "OpenAI-style transcription tends to tidy away 'um' and 'uh', so the filler count is likely too low.",
        ),
        "pocketsphinx": ("low", "pocketsphinx hears many words wrongly; treat the filler count as rough."),
    }
    level, note = notes.get(
        stt_name or "", ("unknown", "The speech recognition used is not known; the count is a guide.")
    )
    return {"level": level, "note": note, "stt": stt_name or "unknown"}

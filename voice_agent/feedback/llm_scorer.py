"""The chat-model scorer: one structured call with the interviewer's rubric and the transcript.

The answer must validate against ``LLM_FEEDBACK_SCHEMA``; invalid output is retried once, with the validation
error shown to the model. The speech metrics are computed here, not by the model, and attached to the report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import ValidationError

from voice_agent.feedback.report import LLM_FEEDBACK_SCHEMA, FeedbackReport, LlmFeedback, filler_reliability
from voice_agent.feedback.speech_metrics import ASIDE, Line, compute_speech_metrics
from voice_agent.providers.base import ChatMessage, InterviewContext, LanguageModel, ProviderError

RUBRIC = """You are an experienced hiring manager reviewing a mock job interview for a {role} position \
({interview_type} interview, {level} level). Score the candidate honestly and kindly, as a coach would.

Scores are integers from 1 to 100:
- technical_depth_score: correctness, depth and precision of technical content for the level (for behavioral \
interviews: depth of domain knowledge shown in the stories).
- communication_score: clarity, concision, pace and fluency (the speech metrics below are measured, use them).
- structure_score: organised answers: STAR (situation, task, action, result) for behavioral questions; a clear \
approach, steps and trade-offs for technical ones.
- confidence_score: assured delivery, ownership ("I" over "we"), few hedges and fillers, committing to answers.
- overall_score: the hiring signal overall, not a plain average.

Give 2 to 4 strengths and 2 to 4 improvements, each one concrete sentence addressed to the candidate. For every \
question the interviewer asked and the candidate answered, give a note: the question, a one-sentence summary of \
the answer, what was good, what was missing, and a short example (two or three sentences) of a stronger answer \
in the candidate's own situation."""


def transcript_text(lines: Sequence[Line]) -> str:
    """The interview as 'Interviewer:' / 'Candidate:' lines; asides (lines that are not turns of the interview:
    "Sure, take your time.", idle prompts, rejoin greetings) are left out."""
    return "\n".join(
        f"{'Candidate' if line.role == 'user' else 'Interviewer'}: {line.content}"
        for line in lines
        if line.content and line.kind != ASIDE
    )


async def llm_report(
    lines: Sequence[Line], context: InterviewContext, llm: LanguageModel, stt_name: str | None
) -> FeedbackReport:
    """The report written by ``llm``; raises when the model fails or answers invalid JSON twice."""
    speech = compute_speech_metrics(lines)
    system = RUBRIC.format(role=context.role, interview_type=context.interview_type, level=context.experience_level)
    figures = speech.to_dict()
    figures.pop("answers", None)
    messages = [
        ChatMessage(
            "user",
            "Transcript of the interview:\n\n"
            + transcript_text(lines)
            + "\n\nMeasured speech metrics:\n"
            + json.dumps(figures)
            + "\n\nWrite the feedback as JSON.",
        )
    ]
    feedback: LlmFeedback | None = None
    for attempt in range(2):
        data: object = None
        try:
            data = await llm.complete_json(system, messages, LLM_FEEDBACK_SCHEMA)
            feedback = LlmFeedback.model_validate(data)
            break
        except (ValidationError, ProviderError) as exc:
            if attempt == 1:
                raise ProviderError("llm", f"the model's feedback did not validate twice: {_short(exc)}") from exc
            answered = json.dumps(data) if isinstance(data, dict) else "(no JSON object)"
            messages = [
                *messages,
                ChatMessage("assistant", answered),
                ChatMessage(
                    "user", f"That did not validate against the schema ({_short(exc)}). Answer again: JSON only."
                ),
            ]
    assert feedback is not None
    model = getattr(llm, "model", getattr(llm, "name", "a language model"))
    return FeedbackReport(
        **feedback.model_dump(),
        scored_by=str(model),
        scoring_note=f"Scored by {model} against the rubric; speech metrics measured from the recording.",
        speech=speech.to_dict(),
        filler_reliability=filler_reliability(stt_name),
    )


def _short(exc: Exception) -> str:
    text = str(exc).replace("\n", " ")
    return text[:300]

"""Which scorer writes an interview's feedback: the chat model when one plays the interviewer, else the rules."""

from __future__ import annotations

from collections.abc import Sequence

from voice_agent.feedback.llm_scorer import llm_report
from voice_agent.feedback.offline_scorer import offline_report
from voice_agent.feedback.report import FeedbackReport
from voice_agent.feedback.speech_metrics import Line
from voice_agent.providers.base import InterviewContext, LanguageModel, writes_json
from voice_agent.providers.scripted import ScriptedInterviewer


async def write_feedback(
    lines: Sequence[Line], context: InterviewContext, llm: LanguageModel, stt_name: str | None
) -> FeedbackReport:
    """The report for a finished interview (raises when a chat model fails: the caller retries)."""
    if not writes_json(llm):  # an interviewer that writes no free-form JSON: scored by the offline rules
        # Scored against the banks the interviewer asked from (an operator's, with QUESTION_BANKS_DIR).
        if isinstance(llm, ScriptedInterviewer):
            return offline_report(lines, context, stt_name, llm.banks)
        return offline_report(lines, context, stt_name)
    return await llm_report(lines, context, llm, stt_name)

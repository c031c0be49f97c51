"""The interviewer's brief: the system prompt for chat models and the marker that ends an interview."""

from __future__ import annotations

from voice_agent.providers.base import InterviewContext

#: A reply that ends with this marker closes the interview once it has been spoken. The marker itself is
#: never spoken nor shown; every language model (scripted or chat) is told to use it.
END_OF_INTERVIEW_MARKER = "[[END]]"

_TYPE_BRIEF = {
    "technical": "a technical interview: problem solving, fundamentals, system design and trade-offs "
    "appropriate to the role",
    "behavioral": "a behavioral interview: past situations, using the STAR method (situation, task, action, "
    "result) to probe ownership, collaboration, conflict and impact",
    "mixed": "a mixed interview: alternate technical questions with behavioral ones",
}

_LEVEL_BRIEF = {
    "entry": "an entry-level candidate: favour fundamentals, learning and projects; be encouraging",
    "mid": "a mid-level candidate: expect independent delivery and sound trade-offs",
    "senior": "a senior candidate: expect depth, scale, leadership and influence beyond their own work",
}


def format_minutes(seconds: float) -> str:
    """'3 minutes', '1 minute', 'less than a minute'."""
    minutes = int(seconds // 60)
    if minutes <= 0:
        return "less than a minute"
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


def build_system_prompt(context: InterviewContext, elapsed_seconds: float) -> str:
    """The system prompt for a chat model playing the interviewer, with the clock as it stands now."""
    remaining = max(0.0, context.duration_minutes * 60 - elapsed_seconds)
    name = context.candidate_name.strip() or "the candidate"
    return "\n".join(
        [
            f"You are a professional, friendly interviewer running a spoken mock job interview with {name} "
            f"for a {context.role} position.",
            f"This is {_TYPE_BRIEF[context.interview_type]}.",
            f"The candidate is {_LEVEL_BRIEF[context.experience_level]}.",
            f"The interview is planned for {context.duration_minutes} minutes; "
            f"{format_minutes(elapsed_seconds)} have passed and {format_minutes(remaining)} remain.",
            "",
            "How to speak:",
            "- Your words are converted to speech: plain sentences only, no lists, markdown, emoji or "
            "stage directions.",
            "- Keep each turn short: at most three sentences, then one question.",
            "- Ask exactly one question at a time and wait for the answer.",
            "- If the conversation is empty, greet the candidate briefly, say how the interview will go, and "
            "ask the first question.",
            "- If an answer is short or vague, ask one follow-up (a concrete example, their own contribution, "
            "the measurable result, a trade-off); after one follow-up, acknowledge and move on.",
            "- Never give away model answers during the interview; feedback comes afterwards.",
            "- If the candidate asks you to repeat or clarify, do so.",
            f"- When about one minute remains, or you have covered enough ground, thank the candidate, say "
            f"that their feedback report will be ready shortly, say goodbye, and end that final turn with "
            f"{END_OF_INTERVIEW_MARKER} (it is not spoken).",
        ]
    )

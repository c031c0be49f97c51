"""The scripted interviewer: the offline stand-in for a chat model (``LLM_PROVIDER=offline``).

It runs a real interview from a question plan (``voice_agent.question_plans``) with rule-based follow-ups,
and it is stateless: every reply is derived from the request alone (context, conversation, clock), so a
reconnect continues the same plan. Progress is read back from the conversation:

- a plan question counts as asked when an agent line contains its first eight words (the agent may have been
  cut off by the candidate; a question cut before eight words were spoken is asked again);
- the agent lines after the one that asked the current question are its follow-ups (at most one is asked);
- a line holding the closing sentence means the interview is over;
- asides (lines of kind "aside": "Sure, take your time.", idle prompts, rejoin greetings) are not turns: they
  are no follow-up and do not split an answer (the candidate's lines on both sides of one are one answer). An
  aside that asks a plan question (a rejoin greeting repeating it) still counts as asking it.

Replies are plain spoken sentences for TTS, streamed word by word.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from voice_agent.interview import END_OF_INTERVIEW_MARKER, format_minutes
from voice_agent.keywords import TRADEOFF_KEYWORDS, covered_key_points, mentions_any
from voice_agent.providers.base import (
    ChatMessage,
    InterviewContext,
    LlmUsage,
    ProviderError,
    ReplyRequest,
)
from voice_agent.question_banks import Question, QuestionBanks
from voice_agent.question_plans import BUILTIN_BANKS, build_plan, display_role

#: Below this many seconds left, the interviewer closes instead of asking anything more.
CLOSING_SECONDS = 75
#: Answers shorter than this get the "detail" follow-up.
THIN_ANSWER_WORDS = 25
#: How many leading words of a question must have been spoken for it to count as asked.
ASKED_PREFIX_WORDS = 8
#: Repeat requests and "I don't know" are recognised only in short utterances, not inside real answers.
_SHORT_UTTERANCE_WORDS = 15

CLOSING_SENTENCE = "Your feedback report will be ready shortly."

_REPEAT_REQUEST = re.compile(
    r"\b(repeat|say that again|say it again|come again|pardon|one more time|rephrase|clarify"
    r"|didn't (catch|hear|get|understand)|did not (catch|hear|get|understand)|what do you mean"
    r"|what did you mean|what was the question|not sure what you mean|what are you asking)\b"
)
_PASS = re.compile(
    r"\b(i don't know|i do not know|no idea|skip|next question|pass on (this|that)|move on"
    r"|never done (that|this)|no experience (with|in) (that|this)|can't think of|cannot think of"
    r"|can't remember|don't remember)\b"
)
_HYPOTHETICAL = re.compile(
    r"\b(i would|i'd|usually|generally|normally|typically|in general|i tend to|i always|you should)\b"
)
_PAST = re.compile(
    r"\b(was|were|did|had|ago|last (year|month|week|quarter|job|role)|once|remember|back when|told|went"
    r"|made|led|took|gave|got|found|built|wrote|decided|asked|worked|started|realised|realized|noticed"
    r"|proposed|talked|managed|helped|delivered)\b"
)
_NUMBER_WORDS = frozenset(
    "two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty sixty "
    "seventy eighty ninety hundred hundreds thousand thousands million millions billion percent half double "
    "doubled twice triple tripled quarter dozen".split()
)
_FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'd", "i'll", "me", "my", "myself", "mine"})
_FIRST_PERSON_PLURAL = frozenset({"we", "we're", "we've", "we'd", "we'll", "us", "our", "ours", "ourselves"})

_MEASURED_NUMBER = re.compile(
    r"(?<![\w.])(\d+(?:[.,]\d+)*)\s*(%|per ?cent\b|x\b|times\b|ms\b|milliseconds?\b|seconds?\b|minutes?\b"
    r"|hours?\b|days?\b|weeks?\b|months?\b|years?\b|users?\b|customers?\b|clients?\b|people\b|engineers?\b"
    r"|requests?\b|servers?\b|patients?\b|million\b|thousand\b|k\b)",
    re.IGNORECASE,
)
_UNIT_SPOKEN = {"%": "percent", "per cent": "percent", "x": "times", "k": "thousand", "ms": "milliseconds"}

# Technical terms the acknowledgement may name. Keys are lower case, values the spelling to say back.
_TERMS = {
    term.lower(): term
    for term in (
        "Python Java JavaScript TypeScript Golang Kotlin Scala Elixir Haskell PHP C++ C# Angular Vue Svelte "
        "Next.js Node.js Django FastAPI Kubernetes Docker Terraform Ansible Jenkins GitHub GitLab Git AWS GCP "
        "Azure PostgreSQL Postgres MySQL SQLite MongoDB Redis Cassandra DynamoDB Elasticsearch Kafka "
        "RabbitMQ GraphQL gRPC Nginx Linux Prometheus Grafana Datadog Sentry OpenTelemetry Kibana Jira "
        "Confluence Figma Airflow BigQuery Redshift Databricks Hadoop dbt Tableau Looker pandas NumPy "
        "scikit-learn PyTorch TensorFlow Keras XGBoost LightGBM Jupyter MLflow SQL NoSQL Salesforce HubSpot "
        "Amplitude Mixpanel SAP QuickBooks Xero NetSuite IFRS GAAP Cerner Selenium Cypress Playwright "
        "Postman Flutter iOS Android Unity Heroku Cloudflare Firebase Supabase Vercel webpack Bazel Snowflake "
        "Go Rust Swift Ruby React Flask Spring Rails Excel Spark Slack Notion Stripe Epic Lambda Node REST"
    ).split()
}
# Also ordinary words: named only when capitalised in the middle of a sentence ("in Go", not "go ahead").
_AMBIGUOUS_TERMS = frozenset(
    "go rust swift ruby react flask spring rails excel spark slack notion stripe epic lambda node snowflake "
    "unity rest".split()
)
_TERM_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9+#.\-]*[A-Za-z0-9+#]|[A-Za-z]")

_PLAIN_ACKS = (
    "Thank you, that's helpful.",
    "Okay, thanks for walking me through that.",
    "Great, thank you.",
    "Understood, thanks.",
    "Thanks, that gives me a good picture.",
    "Alright, that's clear.",
    "Got it, thank you.",
    "Thanks for the detail.",
)
_TERM_ACKS = (
    "Thanks, the part about {term} is useful context.",
    "Okay, thanks. Good to hear your take on {term}.",
    "Got it. Thanks for bringing {term} into it.",
)
_NUMBER_ACKS = (
    "Thanks, {number} is a helpful concrete figure.",
    "Got it, {number}. That helps me picture the scale.",
)
_PASS_ACKS = (
    "That's okay, let's move on.",
    "No problem, we can move on.",
    "That's fine, let's try something else.",
)
_FOLLOW_UP_LEADS = ("I see.", "Okay.", "Thanks.", "Right.", "Interesting.")
_REPEAT_LEADS = ("Of course.", "Sure, let me say that again.", "No problem, here it is again.")
_TRANSITIONS = ("Let's move on.", "Next question.", "Here's the next one.", "Let's keep going.")


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the interview stands, as read back from the conversation."""

    #: Index in the plan of the question under discussion; -1 before the first was asked.
    current: int = -1
    #: Agent lines (asides not counted) since the one that asked the current question.
    follow_ups: int = 0
    closed: bool = False
    #: Whether the agent has said anything yet (asides that ask no question not counted).
    spoke: bool = False
    #: The agent's last line, asides that ask no question skipped.
    last_agent_line: str = ""
    #: What the candidate said since the last agent line (asides skipped).
    answer: str = ""


class ScriptedInterviewer:
    """A ``LanguageModel`` that interviews from a question plan with rule-based follow-ups; no model, no
    network. It writes no free-form JSON: feedback comes from the offline scorer, which reads the same
    ``banks`` (the built-in ones unless an operator configured their own)."""

    name = "scripted"
    embedded = True
    writes_json = False

    def __init__(self, banks: QuestionBanks = BUILTIN_BANKS) -> None:
        self.banks = banks

    async def stream_reply(self, request: ReplyRequest, usage: LlmUsage | None = None) -> AsyncIterator[str]:
        """Yield the next interviewer line word by word (each word with its following space)."""
        words = self.compose_reply(request).split()
        if usage is not None:
            heard = sum(len(m.content.split()) for m in request.messages) + len(request.system.split())
            usage.input_tokens += _tokens(heard)
        sent = 0
        try:
            for index, word in enumerate(words):
                yield word if index == len(words) - 1 else word + " "
                sent += 1
                await asyncio.sleep(0)
        finally:
            if usage is not None:
                usage.output_tokens += _tokens(sent)

    async def complete_json(self, system: str, messages: list[ChatMessage], schema: dict[str, Any]) -> dict[str, Any]:
        """Always fails: the scripted interviewer cannot write free-form JSON."""
        raise ProviderError(
            "llm",
            "The scripted interviewer does not write free-form JSON; the offline feedback scorer is used instead.",
        )

    def compose_reply(self, request: ReplyRequest) -> str:
        """The whole next interviewer line for this request (what ``stream_reply`` streams)."""
        context = request.context
        plan = build_plan(context, self.banks)
        progress = read_progress(plan, request.messages)
        name = first_name(context.candidate_name)
        remaining = context.duration_minutes * 60 - request.elapsed_seconds

        if not progress.spoke:
            return _greeting(context, name, plan[0])
        if progress.closed:
            return _closed_again(name)
        answer = progress.answer
        slot = _slot(context, progress.current)
        if remaining < CLOSING_SECONDS:
            ack = _acknowledgement(answer, slot) if answer else ""
            return _closing(name, ack, out_of_time=True)
        if progress.current < 0:
            return f"Let me start with the first question. {plan[0].text}"

        pending_text = _pending_question(plan, progress)
        if not answer:
            return f"Take your time. {pending_text}"
        if _is_repeat_request(answer):
            return f"{_pick(_REPEAT_LEADS, slot)} {pending_text}"

        question = plan[progress.current]
        passed = _is_pass(answer)
        if progress.follow_ups == 0 and not passed:
            reason = choose_follow_up(question, answer)
            if reason is not None:
                return f"{_pick(_FOLLOW_UP_LEADS, slot)} {question.follow_ups[reason]}"
        return _move_on(plan, progress, name, answer, passed, slot)


# --------------------------------------------------------------------------------------------------------
# Reading the conversation


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("\u2019", "'"))


def _spoken(text: str) -> str:
    """The words of ``text`` as one padded string, for whole-word containment tests."""
    return " " + " ".join(_words(text)) + " "


def _head(text: str) -> str:
    return " " + " ".join(_words(text)[:ASKED_PREFIX_WORDS]) + " "


def read_progress(plan: Sequence[Question], messages: Sequence[ChatMessage]) -> Progress:
    """Read the interview's progress back from the conversation (see the module docstring)."""
    heads = [_head(question.text) for question in plan]
    closing = _spoken(CLOSING_SENTENCE)
    current, follow_ups, closed, spoke = -1, 0, False, False
    last_agent_line = ""
    answer: list[str] = []
    for message in messages:
        if message.role == "user":
            if message.content.strip() and message.kind != "aside":
                answer.append(message.content.strip())
            continue
        spoken = _spoken(message.content)
        closed = closed or closing in spoken or END_OF_INTERVIEW_MARKER in message.content
        asked = [index for index, head in enumerate(heads) if head in spoken]
        asks = bool(asked) and max(asked) >= current
        if message.kind == "aside" and not asks:
            continue
        spoke, last_agent_line, answer = True, message.content, []
        if asks:
            current, follow_ups = max(asked), 0
        elif current >= 0:
            follow_ups += 1
    return Progress(current, follow_ups, closed, spoke, last_agent_line, " ".join(answer))


def _pending_question(plan: Sequence[Question], progress: Progress) -> str:
    """What the candidate was last asked (the current question or its follow-up), to repeat it."""
    question = plan[progress.current]
    if progress.follow_ups == 0:
        return question.text
    last = _spoken(progress.last_agent_line)
    for text in question.follow_ups.values():
        if _head(text) in last:
            return text
    # The last line was neither the question nor its follow-up: most likely the move to the next question,
    # cut off before it got through.
    if progress.current + 1 < len(plan):
        return plan[progress.current + 1].text
    return question.text


def _was_cut_before(line: str, question: str) -> bool:
    """Whether ``line`` ends with the first words of ``question`` (the candidate cut the agent off)."""
    line_words, question_words = _words(line), _words(question)
    for size in range(min(len(line_words), ASKED_PREFIX_WORDS), 1, -1):
        tail = line_words[-size:]
        if tail[:-1] == question_words[: size - 1] and question_words[size - 1].startswith(tail[-1]):
            return True
    return False


# --------------------------------------------------------------------------------------------------------
# Judging an answer


def _is_repeat_request(answer: str) -> bool:
    words = _words(answer)
    return len(words) <= _SHORT_UTTERANCE_WORDS and _REPEAT_REQUEST.search(" ".join(words)) is not None


def _is_pass(answer: str) -> bool:
    words = _words(answer)
    return len(words) <= _SHORT_UTTERANCE_WORDS and _PASS.search(" ".join(words)) is not None


def _has_number(answer: str) -> bool:
    return bool(re.search(r"\d", answer)) or any(word in _NUMBER_WORDS for word in _words(answer))


def _is_hypothetical(answer: str) -> bool:
    """A behavioral answer that says what one would do, with no sign of a real past situation."""
    text = " ".join(_words(answer))
    return _HYPOTHETICAL.search(text) is not None and _PAST.search(text) is None


def choose_follow_up(question: Question, answer: str) -> str | None:
    """The reason for a follow-up to this answer (a key of ``question.follow_ups``), or None if the answer
    is complete enough to move on."""
    words = _words(answer)
    if len(words) < THIN_ANSWER_WORDS:
        return "detail"
    if question.kind == "behavioral":
        if _is_hypothetical(answer):
            return "example"
        if not _has_number(answer):
            return "result"
        if not _FIRST_PERSON.intersection(words) and _FIRST_PERSON_PLURAL.intersection(words):
            return "ownership"
        return None
    if question.key_points and not covered_key_points(question, answer):
        return f"key:{question.key_points[0].label}"
    if not mentions_any(answer, TRADEOFF_KEYWORDS):
        return "tradeoff"
    return None


# --------------------------------------------------------------------------------------------------------
# Saying things


def first_name(candidate_name: str) -> str:
    """The name to address the candidate by: the first word of their name, or the whole name after a title
    ("Dr. Okafor"); empty if unknown."""
    parts = candidate_name.split()
    if not parts:
        return ""
    if parts[0].rstrip(".").lower() in {"dr", "mr", "mrs", "ms", "mx", "prof"} and len(parts) > 1:
        return " ".join(parts)
    return parts[0]


def _tokens(words: int) -> int:
    return round(words * 4 / 3)


def _slot(context: InterviewContext, index: int) -> int:
    """A number fixed for this interview and question: picks phrasings that vary from one turn to the next
    (consecutive questions get consecutive slots) and stay the same if a reply is generated again."""
    return zlib.crc32(f"{context.seed}|{context.role}".encode()) + index


def _pick(options: Sequence[str], slot: int) -> str:
    return options[slot % len(options)]


def _greeting(context: InterviewContext, name: str, first: Question) -> str:
    hello = f"Hi {name}, welcome, and thanks for joining." if name else "Hi, welcome, and thanks for joining."
    role = display_role(context.role)
    length = format_minutes(context.duration_minutes * 60)
    if context.interview_type == "mixed":
        about = (
            f"This is a mock interview for the {role} role, mixing technical and behavioral questions, "
            f"and it will take about {length}."
        )
    else:
        about = f"This is a mock {context.interview_type} interview for the {role} role, about {length} long."
    return f"{hello} {about} If you'd like me to repeat a question at any point, just ask. {first.text}"


def _technical_term(answer: str) -> str | None:
    for match in _TERM_TOKEN.finditer(answer):
        token = match.group()
        canonical = _TERMS.get(token.lower())
        if canonical is None:
            continue
        if token.lower() in _AMBIGUOUS_TERMS:
            before = answer[: match.start()].rstrip()
            sentence_start = not before or before[-1] in ".!?"
            if token[0].islower() or sentence_start or (token.lower() == "rest" and token != "REST"):
                continue
        return canonical
    return None


def _measured_number(answer: str) -> str | None:
    match = _MEASURED_NUMBER.search(answer)
    if match is None:
        return None
    number, unit = match.group(1), match.group(2).lower()
    return f"{number} {_UNIT_SPOKEN.get(unit, unit)}"


def _acknowledgement(answer: str, slot: int, passed: bool = False) -> str:
    """A short, varied acknowledgement; may name a number or a technical term from the answer."""
    if passed:
        return _pick(_PASS_ACKS, slot)
    references = []
    number = _measured_number(answer)
    if number is not None:
        references.append(_pick(_NUMBER_ACKS, slot).format(number=number))
    term = _technical_term(answer)
    if term is not None:
        references.append(_pick(_TERM_ACKS, slot).format(term=term))
    # Plain on every third turn, so the references do not become a tic.
    if references and slot % 3:
        return _pick(references, slot)
    return _pick(_PLAIN_ACKS, slot)


def _move_on(plan: Sequence[Question], progress: Progress, name: str, answer: str, passed: bool, slot: int) -> str:
    """Acknowledge the answer and ask the next question, or close when the plan is done."""
    ack = _acknowledgement(answer, slot, passed)
    index = progress.current + 1
    if index >= len(plan):
        return _closing(name, ack, out_of_time=False)
    question = plan[index]
    if progress.follow_ups and _was_cut_before(progress.last_agent_line, question.text):
        return f"{ack} Let me finish my question. {question.text}"
    if index == len(plan) - 1:
        transition = "Here is my last question."
    elif question.kind != plan[progress.current].kind and index > 1:
        transition = f"Now for a {question.kind} question."
    else:
        transition = _pick(_TRANSITIONS, slot)
    return f"{ack} {transition} {question.text}"


def _closing(name: str, ack: str, out_of_time: bool) -> str:
    reason = (
        "We're nearly out of time, so let's stop here."
        if out_of_time
        else "That was my last question, so we'll stop here."
    )
    thanks = f"Thank you, {name}, I really enjoyed talking with you." if name else "Thank you for your time."
    parts = [ack, reason, thanks, CLOSING_SENTENCE, "Goodbye, and good luck!", END_OF_INTERVIEW_MARKER]
    return " ".join(part for part in parts if part)


def _closed_again(name: str) -> str:
    thanks = f"Thanks again, {name}." if name else "Thanks again."
    return f"{thanks} We've finished for today. {CLOSING_SENTENCE} Goodbye! {END_OF_INTERVIEW_MARKER}"

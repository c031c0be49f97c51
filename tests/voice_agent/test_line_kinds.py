"""Lines that are not turns (asides): the reply that makes one, and the readers that skip them (the scripted
interviewer's progress, the speech metrics, the offline and chat-model scorers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.voice_agent.session_harness import Harness, ScriptedStt
from tests.voice_agent.test_offline_scorer import full_answer
from voice_agent.events import LineCommitted, TurnMetrics
from voice_agent.feedback.blocks import question_blocks
from voice_agent.feedback.llm_scorer import transcript_text
from voice_agent.feedback.offline_scorer import offline_report
from voice_agent.feedback.speech_metrics import Line, compute_speech_metrics, group_answers
from voice_agent.outbound import OutboundAudio
from voice_agent.providers.base import ChatMessage, InterviewContext, LlmUsage, Providers, ReplyRequest
from voice_agent.providers.espeak import EspeakTextToSpeech
from voice_agent.providers.scripted import ScriptedInterviewer, read_progress
from voice_agent.question_plans import build_plan
from voice_agent.reply import Reply, greeting_kind
from voice_agent.session import CallSession, SessionOptions

CONTEXT = InterviewContext(
    role="Software Engineer",
    interview_type="mixed",
    experience_level="mid",
    duration_minutes=20,
    candidate_name="Ada Lovelace",
    seed="interview-42",
)
PLAN = build_plan(CONTEXT)
SHORT_ANSWER = "I would probably use a database for that."
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def agent(text: str) -> ChatMessage:
    return ChatMessage("assistant", text)


def aside(text: str) -> ChatMessage:
    return ChatMessage("assistant", text, "aside")


def candidate(text: str) -> ChatMessage:
    return ChatMessage("user", text)


def compose(messages: list[ChatMessage], elapsed: float = 60.0) -> str:
    request = ReplyRequest(system="", messages=tuple(messages), context=CONTEXT, elapsed_seconds=elapsed)
    return ScriptedInterviewer().compose_reply(request)


def greeting() -> str:
    return compose([])


# ------------------------------------------------------------------------------------------ the interviewer


def test_an_aside_between_a_question_and_its_answer_is_no_follow_up_and_does_not_split_the_answer() -> None:
    messages = [agent(greeting()), candidate("Let me think."), aside("Sure, take your time."), candidate(SHORT_ANSWER)]

    progress = read_progress(PLAN, messages)
    assert (progress.current, progress.follow_ups) == (0, 0)
    assert progress.answer == f"Let me think. {SHORT_ANSWER}"
    assert progress.last_agent_line == messages[0].content

    # The follow-up is still to be asked: a thin answer gets it.
    follow_up = compose(messages)
    assert any(text in follow_up for text in PLAN[0].follow_ups.values()), follow_up

    # Read as a turn, the same line would have used the follow-up up (what the kind is there to prevent).
    as_turn = [*messages[:2], agent("Sure, take your time."), messages[3]]
    assert read_progress(PLAN, as_turn).follow_ups == 1


def test_a_rejoin_greeting_repeating_a_follow_up_does_not_count_as_another_one() -> None:
    follow_up = compose([agent(greeting()), candidate(SHORT_ANSWER)])
    messages = [agent(greeting()), candidate(SHORT_ANSWER), agent(follow_up)]
    rejoin = compose(messages)
    assert rejoin.startswith("Take your time.")

    progress = read_progress(PLAN, [*messages, aside(rejoin), candidate("Could you say that again?")])
    assert (progress.current, progress.follow_ups, progress.last_agent_line) == (0, 1, follow_up)
    repeated = compose([*messages, aside(rejoin), candidate("Could you say that again?")])
    assert repeated.endswith(follow_up.split(" ", 1)[1])


def test_an_aside_that_asks_a_plan_question_still_asks_it() -> None:
    # A greeting cut before its question, then the call dropped: the rejoin greeting asks the first question.
    cut = agent("Hi Ada, welcome, and thanks")
    rejoin = compose([cut])
    assert rejoin.endswith(PLAN[0].text)

    progress = read_progress(PLAN, [cut, aside(rejoin), candidate(SHORT_ANSWER)])
    assert (progress.current, progress.follow_ups, progress.answer) == (0, 0, SHORT_ANSWER)
    follow_up = compose([cut, aside(rejoin), candidate(SHORT_ANSWER)])
    assert any(text in follow_up for text in PLAN[0].follow_ups.values()), follow_up


# ------------------------------------------------------------------------------------------ the reply


def test_the_greeting_of_a_rejoin_with_nothing_to_answer_is_an_aside() -> None:
    assert greeting_kind([]) == "turn"  # the first greeting of an interview
    assert greeting_kind([agent("Tell me about yourself.")]) == "aside"
    assert greeting_kind([agent("Tell me about yourself."), aside("Take your time. Tell me about yourself.")]) == (
        "aside"
    )
    # The candidate's answer was never replied to: the greeting is that reply.
    assert greeting_kind([agent("Tell me about yourself."), candidate("I build APIs.")]) == "turn"
    assert greeting_kind([agent("Q?"), candidate("I build APIs."), aside("Sure, take your time.")]) == "turn"


def _reply(messages: list[ChatMessage], turn: int, user_text: str | None = None, **kwargs: object) -> Reply:
    request = ReplyRequest(system="", messages=tuple(messages), context=CONTEXT, elapsed_seconds=0.0)
    providers = Providers(stt=ScriptedStt([]), llm=ScriptedInterviewer(), tts=EspeakTextToSpeech())
    return Reply(
        request=request,
        providers=providers,
        outbound=OutboundAudio(),
        metrics=TurnMetrics(turn=turn),
        emit=lambda event: None,
        clock=lambda: 0.0,
        usage=LlmUsage(),
        user_text=user_text,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_reply_is_a_turn_unless_it_is_a_rejoin_greeting_or_told_otherwise() -> None:
    asked = [agent("Tell me about yourself.")]
    assert _reply([], turn=0).kind == "turn"
    assert _reply(asked, turn=0).kind == "aside"
    assert _reply([*asked, candidate("I build APIs.")], turn=0).kind == "turn"
    assert _reply(asked, turn=3).kind == "turn"
    assert _reply(asked, turn=0, user_text="I build APIs.").kind == "turn"
    assert _reply([], turn=2, kind="aside").kind == "aside"


@pytest.fixture(scope="module")
async def voice() -> EspeakTextToSpeech:
    tts = EspeakTextToSpeech()
    await tts.start()
    return tts


async def test_a_rejoined_call_stores_its_greeting_as_an_aside(voice) -> None:
    providers = Providers(stt=ScriptedStt([]), llm=ScriptedInterviewer(), tts=voice, fallback_tts=voice)
    history = [agent(greeting())]
    h = Harness(
        lambda sink: CallSession(
            providers=providers, context=CONTEXT, on_event=sink, options=SessionOptions(), history=history
        )
    )
    await h.session.start()
    await h.play()
    await h.session.close("test")
    lines = [e.line for e in h.events if isinstance(e, LineCommitted)]
    assert [(line.role, line.kind) for line in lines] == [("assistant", "aside")]
    assert lines[0].content.startswith("Take your time.")


# ------------------------------------------------------------------------------------------ the feedback


def line(role: str, text: str, at: float, seconds: float, kind: str = "turn") -> Line:
    return Line(role, text, T0 + timedelta(seconds=at), seconds, kind=kind)


def test_speech_metrics_skip_asides_and_keep_an_answer_around_one_whole() -> None:
    with_aside = [
        line("assistant", "Tell me about a system you built.", 0, 3),
        line("user", "Let me think.", 5, 1),
        line("assistant", "Sure, take your time.", 6.5, 1.5, kind="aside"),
        line("user", "I built a billing service in Python.", 10, 3),
    ]
    without = [with_aside[0], with_aside[1], with_aside[3]]

    assert [(p.content if p else None, [x.content for x in g]) for p, g in group_answers(with_aside)] == [
        ("Tell me about a system you built.", ["Let me think.", "I built a billing service in Python."])
    ]
    assert compute_speech_metrics(with_aside) == compute_speech_metrics(without)
    assert compute_speech_metrics(with_aside).answer_count == 1
    assert compute_speech_metrics(with_aside).interviewer_seconds == 3


def test_an_answer_after_a_rejoin_greeting_is_timed_from_the_greeting() -> None:
    lines = [
        line("assistant", "Tell me about a system you built.", 0, 3),
        # The call dropped; ten minutes later the rejoined call repeats the question.
        line("assistant", "Take your time. Tell me about a system you built.", 600, 4, kind="aside"),
        line("user", "I built a billing service in Python.", 606, 3),
    ]
    metrics = compute_speech_metrics(lines)
    assert metrics.answers[0].start_delay_seconds == pytest.approx(2.0)
    assert metrics.interviewer_seconds == 3


def test_lines_read_their_kind_from_stored_rows() -> None:
    class Row:
        role, content, timestamp, audio_duration_seconds, interrupted = "assistant", "Hm?", T0, 1.0, False

    assert Line.from_message(Row()).kind == "turn"
    row = Row()
    row.kind = "aside"  # type: ignore[attr-defined]
    assert Line.from_message(row).kind == "aside"
    with pytest.raises(ValueError):
        Line("user", "x", T0, 1.0, kind="idle")


def test_the_offline_scorer_ignores_an_aside() -> None:
    question = PLAN[0]

    def interview(with_aside: bool) -> list[Line]:
        lines = [line("assistant", question.text, 0, 6), line("user", "Let me think about that for a second.", 8, 3)]
        if with_aside:
            lines.append(line("assistant", "Sure, take your time. Shall I repeat the question?", 12, 4, "aside"))
        return [*lines, line("user", full_answer(question), 17, 25)]

    with_aside = offline_report(interview(True), CONTEXT, "whisper")
    without = offline_report(interview(False), CONTEXT, "whisper")
    assert len(question_blocks(interview(True), CONTEXT)) == 1
    assert with_aside.scores() == without.scores()
    assert with_aside.questions == without.questions
    assert with_aside.speech == without.speech
    assert with_aside.speech["answer_count"] == 1


def test_the_chat_model_scorer_leaves_asides_out_of_the_transcript() -> None:
    lines = [
        line("assistant", "Tell me about a system you built.", 0, 3),
        line("user", "Let me think.", 5, 1),
        line("assistant", "Sure, take your time.", 6.5, 1.5, kind="aside"),
        line("user", "A billing service.", 10, 3),
    ]
    assert transcript_text(lines) == (
        "Interviewer: Tell me about a system you built.\nCandidate: Let me think.\nCandidate: A billing service."
    )

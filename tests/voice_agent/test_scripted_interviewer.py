"""The scripted interviewer: question plans, follow-up rules, the clock, and streaming."""

from __future__ import annotations

import itertools
import re

import pytest

from voice_agent.interview import END_OF_INTERVIEW_MARKER
from voice_agent.providers.base import (
    ChatMessage,
    InterviewContext,
    LanguageModel,
    LlmUsage,
    ProviderError,
    ReplyRequest,
)
from voice_agent.providers.scripted import ScriptedInterviewer, choose_follow_up
from voice_agent.question_plans import (
    BEHAVIORAL_QUESTIONS,
    TECHNICAL_BANKS,
    Question,
    all_questions,
    build_plan,
    find_question,
    main_question_count,
    mentions,
    render_question,
    role_family,
)

ROLES = {
    "software_engineer": "Senior Backend Developer",
    "data_scientist": "ML Engineer",
    "product_manager": "Product Owner",
    "generic": "Accountant",
}

SHORT_ANSWER = "I would probably use a database for that."
RICH_BEHAVIORAL_ANSWER = (
    "Last year at my previous company I led a project where two teams were blocked on each other. "
    "I decided to meet both leads, I proposed a shared plan and I organised a weekly check-in. "
    "In the end we delivered two weeks early and cut support tickets by 30 percent."
)


def context(**overrides: object) -> InterviewContext:
    values: dict[str, object] = {
        "role": "Software Engineer",
        "interview_type": "mixed",
        "experience_level": "mid",
        "duration_minutes": 20,
        "candidate_name": "Ada Lovelace",
        "seed": "interview-42",
    }
    values.update(overrides)
    return InterviewContext(**values)  # type: ignore[arg-type]


def rich_answer(question: Question) -> str:
    """An answer that leaves no reason for a follow-up."""
    if question.kind == "behavioral":
        return RICH_BEHAVIORAL_ANSWER
    covered = ", ".join(point.keywords[0] for point in question.key_points)
    return (
        f"I would look at {covered} first, and I have done this on two projects before. "
        "The trade-off is cost versus simplicity, so for a small load I would pick the simpler option "
        "instead and revisit it once the numbers justify more work."
    )


async def reply(ctx: InterviewContext, messages: list[ChatMessage], elapsed: float = 0.0) -> str:
    request = ReplyRequest(system="", messages=tuple(messages), context=ctx, elapsed_seconds=elapsed)
    return "".join([fragment async for fragment in ScriptedInterviewer().stream_reply(request)])


def agent(text: str) -> ChatMessage:
    return ChatMessage("assistant", text)


def candidate(text: str) -> ChatMessage:
    return ChatMessage("user", text)


def test_it_is_a_language_model() -> None:
    assert isinstance(ScriptedInterviewer(), LanguageModel)
    assert ScriptedInterviewer().name == "scripted"


async def test_greeting_names_the_candidate_and_asks_the_first_question() -> None:
    ctx = context()
    greeting = await reply(ctx, [])
    plan = build_plan(ctx)
    assert greeting.startswith("Hi Ada,")
    assert "Software Engineer" in greeting
    assert "20 minutes" in greeting
    assert "repeat" in greeting
    assert greeting.endswith(plan[0].text)
    assert END_OF_INTERVIEW_MARKER not in greeting


async def test_greeting_without_a_name() -> None:
    greeting = await reply(context(candidate_name=""), [])
    assert greeting.startswith("Hi, welcome")


@pytest.mark.parametrize(
    ("family", "interview_type", "level"),
    list(itertools.product(ROLES, ["technical", "behavioral", "mixed"], ["entry", "mid", "senior"])),
)
def test_plans_for_every_family_type_and_level(family: str, interview_type: str, level: str) -> None:
    ctx = context(role=ROLES[family], interview_type=interview_type, experience_level=level)
    assert role_family(ctx.role) == family

    plan = build_plan(ctx)

    assert [q.id for q in plan] == [q.id for q in build_plan(ctx)]
    assert len(plan) == 1 + main_question_count(20) == 6
    assert plan[0].id.startswith("opener-")
    main = plan[1:]
    assert len({q.id for q in main}) == len(main)
    assert all(level in q.levels for q in main)
    if interview_type == "mixed":
        assert [q.kind for q in main] == ["technical", "behavioral"] * 2 + ["technical"]
    else:
        assert {q.kind for q in plan} == {interview_type}
    assert all("{" not in q.text for q in plan)


@pytest.mark.parametrize(("minutes", "questions"), [(5, 2), (10, 3), (15, 4), (20, 5), (30, 8)])
def test_the_number_of_questions_follows_the_duration(minutes: int, questions: int) -> None:
    assert main_question_count(minutes) == questions
    assert len(build_plan(context(duration_minutes=minutes))) == 1 + questions


def test_a_long_interview_is_capped_by_the_bank() -> None:
    plan = build_plan(context(interview_type="technical", experience_level="senior", duration_minutes=90))
    bank = [q for q in TECHNICAL_BANKS["software_engineer"] if "senior" in q.levels]
    assert len(plan) == 1 + len(bank)


def test_different_interviews_get_different_plans() -> None:
    plans = {tuple(q.id for q in build_plan(context(seed=f"seed-{n}"))) for n in range(6)}
    assert len(plans) > 1


def test_role_families() -> None:
    assert role_family("frontend engineer") == "software_engineer"
    assert role_family("Full Stack Developer") == "software_engineer"
    assert role_family("DevOps") == "software_engineer"
    assert role_family("data scientist") == "data_scientist"
    assert role_family("Senior Data Analyst") == "data_scientist"
    assert role_family("product manager") == "product_manager"
    assert role_family("Nurse") == "generic"
    assert role_family("Civil Engineer") == "generic"


def test_banks_are_large_enough() -> None:
    for bank in TECHNICAL_BANKS.values():
        assert len(bank) >= 8
    assert len(BEHAVIORAL_QUESTIONS) >= 10
    for question in all_questions():
        assert question.key_points
        assert {"detail", "example", "result", "ownership", "tradeoff"} <= question.follow_ups.keys()
        for point in question.key_points:
            assert f"key:{point.label}" in question.follow_ups
            assert point.keywords


def test_questions_are_told_apart_by_their_first_eight_words() -> None:
    """Progress is read back from the first eight words of each question: they must be unique, and no
    follow-up may contain them."""
    questions = [render_question(q, "Accountant") for q in all_questions()]
    heads = [" ".join(re.findall(r"[a-z0-9']+", q.text.lower())[:8]) for q in questions]
    assert len(set(heads)) == len(heads)
    follow_ups = [
        " ".join(re.findall(r"[a-z0-9']+", text.lower())) for q in questions for text in q.follow_ups.values()
    ]
    assert not [head for head in heads if any(head in text for text in follow_ups)]


def test_find_question() -> None:
    assert find_question("swe-url-shortener") is not None
    assert find_question("no-such-question") is None
    rendered = find_question("gen-tools", role="Nurse")
    assert rendered is not None and "as a Nurse" in rendered.text


def test_keywords_match_words_not_fragments() -> None:
    assert mentions("We used a load-balancer", "load balancer")
    assert mentions("caching helped", "caching")
    assert mentions("regularization", "regulariz")
    assert mentions("our CI runs the tests", "ci")
    assert not mentions("a big city", "ci")


async def test_a_short_answer_gets_one_follow_up_then_the_next_question() -> None:
    ctx = context()
    plan = build_plan(ctx)
    messages = [agent(await reply(ctx, [])), candidate(SHORT_ANSWER)]

    follow_up = await reply(ctx, messages)
    assert any(text in follow_up for text in plan[0].follow_ups.values())
    assert plan[1].text not in follow_up

    messages += [agent(follow_up), candidate("I studied physics.")]
    next_question = await reply(ctx, messages)
    assert next_question.endswith(plan[1].text)
    assert END_OF_INTERVIEW_MARKER not in next_question


async def test_a_rich_answer_moves_straight_on() -> None:
    ctx = context()
    plan = build_plan(ctx)
    messages = [agent(await reply(ctx, [])), candidate(rich_answer(plan[0]))]
    second = await reply(ctx, messages)
    assert second.endswith(plan[1].text)

    messages += [agent(second), candidate(rich_answer(plan[1]))]
    third = await reply(ctx, messages)
    assert third.endswith(plan[2].text)


async def test_could_you_repeat_that_repeats_the_question() -> None:
    ctx = context()
    plan = build_plan(ctx)
    messages = [agent(await reply(ctx, [])), candidate("Sorry, could you repeat that?")]
    repeated = await reply(ctx, messages)
    assert repeated.endswith(plan[0].text)
    assert not repeated.startswith("Hi")

    # The repeat does not use up the follow-up: a short answer after it still gets one.
    messages += [agent(repeated), candidate(SHORT_ANSWER)]
    follow_up = await reply(ctx, messages)
    assert any(text in follow_up for text in plan[0].follow_ups.values())


async def test_a_repeat_request_after_a_follow_up_repeats_the_follow_up() -> None:
    ctx = context()
    messages = [agent(await reply(ctx, [])), candidate(SHORT_ANSWER)]
    follow_up = await reply(ctx, messages)
    messages += [agent(follow_up), candidate("What do you mean?")]
    repeated = await reply(ctx, messages)
    assert repeated.endswith(follow_up.split(" ", 1)[1])


async def test_a_question_cut_off_after_three_words_is_asked_again() -> None:
    ctx = context()
    plan = build_plan(ctx)
    cut = " ".join(plan[1].text.split()[:3])
    messages = [
        agent(await reply(ctx, [])),
        candidate(rich_answer(plan[0])),
        agent(f"Thanks, that gives me a good picture. {cut}"),
        candidate("Sorry, one more thing: I also mentored two interns."),
    ]
    again = await reply(ctx, messages)
    assert again.endswith(plan[1].text)


async def test_a_greeting_cut_off_before_the_question_is_followed_by_the_question() -> None:
    ctx = context()
    plan = build_plan(ctx)
    messages = [agent("Hi Ada, welcome, and thanks"), candidate("Hello!")]
    assert (await reply(ctx, messages)).endswith(plan[0].text)


async def test_i_dont_know_moves_on_without_a_follow_up() -> None:
    ctx = context()
    plan = build_plan(ctx)
    messages = [agent(await reply(ctx, [])), candidate("Honestly, I don't know.")]
    assert (await reply(ctx, messages)).endswith(plan[1].text)


async def test_the_clock_closes_the_interview() -> None:
    ctx = context(duration_minutes=10)
    plan = build_plan(ctx)
    messages = [agent(await reply(ctx, [])), candidate(SHORT_ANSWER)]
    closing = await reply(ctx, messages, elapsed=10 * 60 - 60)
    assert closing.endswith(END_OF_INTERVIEW_MARKER)
    assert "Ada" in closing
    assert "feedback report will be ready shortly" in closing
    assert plan[1].text not in closing


async def test_after_the_closing_it_closes_again() -> None:
    ctx = context()
    messages = [agent(await reply(ctx, [])), candidate(SHORT_ANSWER)]
    closing = await reply(ctx, messages, elapsed=20 * 60 - 30)
    messages += [agent(closing.replace(END_OF_INTERVIEW_MARKER, "").strip()), candidate("Thanks, bye!")]
    again = await reply(ctx, messages, elapsed=20 * 60 - 20)
    assert again.endswith(END_OF_INTERVIEW_MARKER)
    assert len(again.split()) < 25


async def test_a_generic_role_is_named_in_its_questions() -> None:
    ctx = context(role="Accountant", interview_type="technical")
    plan = build_plan(ctx)
    assert all("Accountant" in q.text for q in plan)
    assert "an Accountant" in plan[0].text
    assert "Accountant" in await reply(ctx, [])


def test_follow_up_rules() -> None:
    behavioral = find_question("beh-disagreement")
    technical = find_question("swe-url-shortener")
    assert behavioral is not None and technical is not None
    padding = " and that was a real situation at work that took a few weeks to settle between everyone"

    assert choose_follow_up(behavioral, "We talked it through.") == "detail"
    assert (
        choose_follow_up(
            behavioral,
            "I would usually listen first and then try to find common ground, because in general people "
            "just want to be heard, and normally that is enough to settle it between everyone",
        )
        == "example"
    )
    assert choose_follow_up(behavioral, "I listened to my colleague and we agreed on a plan" + padding) == "result"
    assert (
        choose_follow_up(behavioral, "We listened to each other and we agreed on a plan in 3 days" + padding)
        == "ownership"
    )
    assert choose_follow_up(behavioral, RICH_BEHAVIORAL_ANSWER) is None

    vague = "I would think about it carefully, talk with the team about what they need, and then write it up " * 2
    assert choose_follow_up(technical, vague) == "key:scalability"
    no_tradeoff = "I would put a load balancer in front of stateless servers and keep hot links in a Redis cache" * 2
    assert choose_follow_up(technical, no_tradeoff) == "tradeoff"
    assert choose_follow_up(technical, rich_answer(technical)) is None


async def test_acknowledgements_may_name_a_term_from_the_answer() -> None:
    replies = []
    for n in range(6):
        ctx = context(seed=f"ack-{n}", interview_type="technical")
        plan = build_plan(ctx)
        answer = rich_answer(plan[0]) + " We ran it all on Kubernetes."
        replies.append(await reply(ctx, [agent(await reply(ctx, [])), candidate(answer)]))
    assert any("Kubernetes" in r for r in replies)
    assert not any("kubernetes" in r for r in replies)


async def test_a_whole_interview_walks_the_plan_and_closes() -> None:
    ctx = context(duration_minutes=20)
    plan = build_plan(ctx)
    messages: list[ChatMessage] = []
    elapsed = 0.0
    agent_lines: list[str] = []
    for _ in range(40):
        line = await reply(ctx, messages, elapsed)
        agent_lines.append(line)
        if line.endswith(END_OF_INTERVIEW_MARKER):
            break
        messages.append(agent(line))
        # Every question gets a thin answer first, then a complete one after the follow-up.
        asked = [q for q in plan if q.text in line]
        messages.append(candidate(SHORT_ANSWER if asked else RICH_BEHAVIORAL_ANSWER))
        elapsed += 80
    else:
        pytest.fail("the interview never closed")

    assert len(agent_lines) == 1 + 2 * len(plan)
    asked_in_order = [q.id for line in agent_lines for q in plan if q.text in line]
    assert asked_in_order == [q.id for q in plan]
    assert "Ada" in agent_lines[-1]
    assert "last question" in agent_lines[-3]
    # Moving on never opens with the same acknowledgement twice in a row.
    openings = [line.split(".")[0] for line in agent_lines[2::2]]
    assert all(a != b for a, b in itertools.pairwise(openings))


async def test_the_reply_streams_word_by_word_and_counts_tokens() -> None:
    ctx = context()
    usage = LlmUsage()
    request = ReplyRequest(system="Be an interviewer.", messages=(), context=ctx)
    fragments = [fragment async for fragment in ScriptedInterviewer().stream_reply(request, usage)]

    assert len(fragments) > 10
    assert all(f.endswith(" ") and " " not in f[:-1] for f in fragments[:-1])
    assert "".join(fragments) == ScriptedInterviewer().compose_reply(request)
    assert usage.output_tokens == round(len(fragments) * 4 / 3)
    assert usage.input_tokens > 0


async def test_it_does_not_write_json() -> None:
    with pytest.raises(ProviderError) as raised:
        await ScriptedInterviewer().complete_json("system", [], {"type": "object"})
    assert raised.value.role == "llm"
    assert "scorer" in str(raised.value)

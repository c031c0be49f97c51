"""Transcript lines: numbered per interview, in order, with their metrics."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from db import Database, InterviewNotFound, MessageKind, MessageRole, utcnow


async def test_simultaneous_lines_get_distinct_consecutive_numbers(database: Database, make_user) -> None:
    user = await make_user()
    interview = await database.create_interview(user.id, "Backend engineer", "technical", 30)

    added = await asyncio.gather(
        *(database.add_message(interview.id, MessageRole.USER, f"line {n}", utcnow(), 1.0) for n in range(12))
    )

    assert sorted(message.seq for message in added) == list(range(1, 13))
    listed = await database.list_messages(interview.id)
    assert [message.seq for message in listed] == list(range(1, 13))
    assert {message.content for message in listed} == {f"line {n}" for n in range(12)}


async def test_lines_keep_order_metrics_and_move_activity(database: Database, make_user) -> None:
    user = await make_user(credits=2)
    interview = await database.create_interview(user.id, "Backend engineer", "technical", 30)
    other = await database.create_interview(user.id, "Backend engineer", "technical", 30)
    metrics = {"server_response_ms": 412.5, "stt_ms": 120, "stages": {"llm_first_token_ms": [88, 91]}}

    await database.add_message(interview.id, MessageRole.ASSISTANT, "Tell me about yourself.", utcnow(), 2.0)
    await database.add_message(other.id, MessageRole.ASSISTANT, "Another interview.", utcnow(), 1.0)
    await database.add_message(
        interview.id, MessageRole.USER, "I build APIs.", utcnow(), 3.25, metrics=metrics, interrupted=True
    )

    first, second = await database.list_messages(interview.id)
    assert (first.seq, first.role, first.content, first.metrics) == (
        1,
        MessageRole.ASSISTANT,
        "Tell me about yourself.",
        None,
    )
    assert first.interrupted is False
    assert (second.seq, second.role, second.metrics, second.interrupted) == (2, MessageRole.USER, metrics, True)
    assert second.audio_duration_seconds == 3.25
    assert [message.seq for message in await database.list_messages(other.id)] == [1]
    assert (await database.get_interview(interview.id)).last_activity_at > interview.last_activity_at


async def test_line_for_an_unknown_interview_is_refused(database: Database) -> None:
    with pytest.raises(InterviewNotFound):
        await database.add_message(uuid.uuid4(), MessageRole.USER, "Hello?", utcnow(), 1.0)


async def test_lines_keep_their_kind_and_default_to_turns(database: Database, make_user) -> None:
    user = await make_user()
    interview = await database.create_interview(user.id, "Backend engineer", "technical", 30)

    await database.add_message(interview.id, MessageRole.ASSISTANT, "Tell me about yourself.", utcnow(), 2.0)
    aside = await database.add_message(
        interview.id, MessageRole.ASSISTANT, "Sure, take your time.", utcnow(), 1.0, kind=MessageKind.ASIDE
    )
    await database.add_message(interview.id, MessageRole.USER, "I build APIs.", utcnow(), 3.0, kind="turn")

    assert aside.kind == MessageKind.ASIDE
    listed = await database.list_messages(interview.id)
    assert [(m.content, m.kind) for m in listed] == [
        ("Tell me about yourself.", MessageKind.TURN),
        ("Sure, take your time.", MessageKind.ASIDE),
        ("I build APIs.", MessageKind.TURN),
    ]
    with pytest.raises(ValueError):
        await database.add_message(interview.id, MessageRole.USER, "Hm.", utcnow(), 1.0, kind="idle")
    assert len(await database.list_messages(interview.id)) == 3

"""Interviews: credits, ownership, history, completion and the abandon sweep."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from db import (
    Database,
    ExperienceLevel,
    FeedbackStatus,
    InterviewStatus,
    InterviewType,
    utcnow,
)


async def start(database: Database, user_id: uuid.UUID, role: str = "Backend engineer"):
    return await database.create_interview(user_id, role, InterviewType.TECHNICAL, 30)


async def test_twenty_simultaneous_creates_spend_exactly_the_credits(database: Database, make_user) -> None:
    user = await make_user(credits=3)

    results = await asyncio.gather(*(start(database, user.id) for _ in range(20)))

    created = [interview for interview in results if interview is not None]
    assert len(created) == 3
    assert len({interview.id for interview in created}) == 3
    assert (await database.get_user(user.id)).interviews_remaining == 0
    assert (await database.list_interviews(user.id, limit=50, offset=0))[1] == 3


async def test_no_credit_no_interview(database: Database, make_user) -> None:
    user = await make_user(credits=0)

    assert await start(database, user.id) is None
    assert await start(database, uuid.uuid4()) is None
    assert (await database.get_user(user.id)).interviews_remaining == 0


async def test_duration_is_one_to_sixty_minutes(database: Database, make_user) -> None:
    user = await make_user()

    for minutes in (0, 61):
        with pytest.raises(ValueError):
            await database.create_interview(user.id, "Backend engineer", InterviewType.MIXED, minutes)

    assert (await database.get_user(user.id)).interviews_remaining == 3


async def test_new_interview_snapshots_the_level_and_starts_in_progress(database: Database, make_user) -> None:
    user = await make_user(level=ExperienceLevel.ENTRY)

    interview = await database.create_interview(user.id, "Data analyst", "behavioral", 15)
    await database.update_user(user.id, experience_level=ExperienceLevel.SENIOR)

    stored = await database.get_interview(interview.id)
    assert stored.experience_level is ExperienceLevel.ENTRY
    assert stored.interview_type is InterviewType.BEHAVIORAL
    assert (stored.role, stored.duration_minutes, stored.active_seconds) == ("Data analyst", 15, 0.0)
    assert stored.status is InterviewStatus.IN_PROGRESS
    assert stored.completed_at is None
    assert stored.started_at == stored.last_activity_at == interview.started_at


async def test_another_users_interview_is_not_found(database: Database, make_user) -> None:
    owner, other = await make_user(), await make_user()
    interview = await start(database, owner.id)

    assert await database.get_interview(interview.id, other.id) is None
    assert await database.list_interviews(other.id, limit=10, offset=0) == ([], 0)
    assert await database.complete_interview(interview.id, other.id) is None
    assert (await database.get_interview(interview.id, owner.id)).status is InterviewStatus.IN_PROGRESS
    assert await database.get_feedback(interview.id) is None


async def test_history_is_newest_first_paginated_with_total_and_score(database: Database, make_user) -> None:
    user = await make_user(credits=5)
    interviews = []
    for number in range(5):
        interviews.append(await start(database, user.id, role=f"Role {number}"))
        await asyncio.sleep(0.002)  # distinct start times
    await database.complete_interview(interviews[1].id, user.id)
    await database.save_feedback(interviews[1].id, status=FeedbackStatus.READY, scores={"overall_score": 77})
    await database.complete_interview(interviews[3].id, user.id)

    first_page, total = await database.list_interviews(user.id, limit=2, offset=0)
    last_page, _ = await database.list_interviews(user.id, limit=2, offset=4)
    everything, _ = await database.list_interviews(user.id, limit=10, offset=0)

    assert total == 5
    assert [item.role for item in first_page] == ["Role 4", "Role 3"]
    assert [item.role for item in last_page] == ["Role 0"]
    assert [item.id for item in everything] == [interview.id for interview in reversed(interviews)]
    by_role = {item.role: item for item in everything}
    assert (by_role["Role 1"].overall_score, by_role["Role 1"].feedback_status) == (77, FeedbackStatus.READY)
    assert (by_role["Role 3"].overall_score, by_role["Role 3"].feedback_status) == (None, FeedbackStatus.PENDING)
    assert (by_role["Role 0"].overall_score, by_role["Role 0"].feedback_status) == (None, None)
    assert by_role["Role 3"].status is InterviewStatus.COMPLETED


async def test_complete_is_idempotent_and_makes_one_pending_feedback(database: Database, make_user) -> None:
    user = await make_user()
    interview = await start(database, user.id)

    first = await database.complete_interview(interview.id, user.id)
    again = await asyncio.gather(*(database.complete_interview(interview.id, user.id) for _ in range(5)))

    assert first.status is InterviewStatus.COMPLETED
    assert first.completed_at is not None
    assert all(result == first for result in again)
    feedback = await database.get_feedback(interview.id)
    assert feedback.status is FeedbackStatus.PENDING
    assert feedback.attempts == 0
    assert feedback.overall_score is None


async def test_simultaneous_first_completes_agree(database: Database, make_user) -> None:
    user = await make_user()
    interview = await start(database, user.id)

    results = await asyncio.gather(*(database.complete_interview(interview.id, user.id) for _ in range(6)))

    assert len({result.completed_at for result in results}) == 1
    assert (await database.get_feedback(interview.id)).status is FeedbackStatus.PENDING


async def test_an_abandoned_interview_can_still_be_completed(database: Database, make_user) -> None:
    user = await make_user()
    interview = await start(database, user.id)
    assert await database.abandon_stale_interviews(utcnow()) == [interview.id]

    completed = await database.complete_interview(interview.id, user.id)

    assert completed.status is InterviewStatus.COMPLETED
    assert (await database.get_feedback(interview.id)).status is FeedbackStatus.PENDING


async def test_record_activity_moves_the_clock(database: Database, make_user) -> None:
    user = await make_user()
    interview = await start(database, user.id)

    await database.record_activity(interview.id, 12.5)
    await database.record_activity(interview.id, 2.5)
    await database.record_activity(interview.id)

    stored = await database.get_interview(interview.id)
    assert stored.active_seconds == 15.0
    assert stored.last_activity_at > interview.last_activity_at


async def test_sweep_abandons_only_idle_interviews_in_progress(database: Database, make_user) -> None:
    user = await make_user(credits=10)
    idle = [await start(database, user.id) for _ in range(3)]
    finished = await start(database, user.id)
    await database.complete_interview(finished.id, user.id)
    await asyncio.sleep(0.002)
    cutoff = utcnow()
    await asyncio.sleep(0.002)
    busy = await start(database, user.id)
    revived = idle.pop()
    await database.record_activity(revived.id, 1.0)

    swept = await asyncio.gather(*(database.abandon_stale_interviews(cutoff) for _ in range(4)))

    reported = [interview_id for ids in swept for interview_id in ids]
    assert sorted(reported) == sorted(interview.id for interview in idle)  # each reported once
    statuses = {
        interview.id: (await database.get_interview(interview.id)).status
        for interview in [*idle, finished, busy, revived]
    }
    assert statuses == {
        idle[0].id: InterviewStatus.ABANDONED,
        idle[1].id: InterviewStatus.ABANDONED,
        finished.id: InterviewStatus.COMPLETED,
        busy.id: InterviewStatus.IN_PROGRESS,
        revived.id: InterviewStatus.IN_PROGRESS,
    }
    assert await database.abandon_stale_interviews(cutoff) == []

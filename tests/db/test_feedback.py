"""Saving feedback attempts."""

from __future__ import annotations

import uuid

import pytest

from db import SCORE_FIELDS, Database, FeedbackStatus, InterviewNotFound


@pytest.fixture
async def completed_interview(database: Database, make_user):
    user = await make_user()
    interview = await database.create_interview(user.id, "Backend engineer", "mixed", 20)
    return await database.complete_interview(interview.id, user.id)


async def test_a_failure_then_a_success(database: Database, completed_interview) -> None:
    interview_id = completed_interview.id

    failed = await database.save_feedback(interview_id, status=FeedbackStatus.FAILED, error="LLM timed out")
    assert (failed.status, failed.error, failed.attempts) == (FeedbackStatus.FAILED, "LLM timed out", 1)

    scores = dict(zip(SCORE_FIELDS, (80, 70, 90, 60, 75), strict=True))
    ready = await database.save_feedback(
        interview_id,
        status=FeedbackStatus.READY,
        scores=scores,
        strengths="Clear examples.",
        improvements="Quantify impact.",
        detailed_feedback={"questions": [{"q": "Tell me about yourself", "score": 80}]},
    )

    stored = await database.get_feedback(interview_id)
    assert stored == ready
    assert stored.status is FeedbackStatus.READY
    assert stored.error is None
    assert stored.attempts == 2
    assert {name: getattr(stored, name) for name in SCORE_FIELDS} == scores
    assert stored.detailed_feedback == {"questions": [{"q": "Tell me about yourself", "score": 80}]}
    assert (stored.strengths, stored.improvements) == ("Clear examples.", "Quantify impact.")
    assert stored.updated_at > stored.created_at


async def test_scores_are_checked(database: Database, completed_interview) -> None:
    with pytest.raises(ValueError):
        await database.save_feedback(completed_interview.id, status="ready", scores={"overall_score": 101})
    with pytest.raises(ValueError):
        await database.save_feedback(completed_interview.id, status="ready", scores={"overall_score": 0})
    with pytest.raises(ValueError):
        await database.save_feedback(completed_interview.id, status="ready", scores={"charisma": 50})
    assert (await database.get_feedback(completed_interview.id)).attempts == 0


async def test_feedback_for_an_unknown_interview_is_refused(database: Database) -> None:
    with pytest.raises(InterviewNotFound):
        await database.save_feedback(uuid.uuid4(), status=FeedbackStatus.FAILED, error="no interview")
    assert await database.get_feedback(uuid.uuid4()) is None

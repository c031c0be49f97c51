"""Feedback end to end: a call, completed, polled until the report is ready; a failed report retried."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from db.engine import create_engine
from db.models import Feedback
from signaling.client.api import new_http_session
from signaling.client.base import Answer
from signaling.client.interview import run_interview
from tests.conftest import start_server, test_settings
from tests.providers.test_llm_feedback import VALID
from web import appkeys

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SCORES = ("overall_score", "technical_depth_score", "communication_score", "structure_score", "confidence_score")


async def poll_feedback(http, url: str, interview_id: str, timeout: float = 60.0) -> tuple[int, dict]:
    """GET the report until it is no longer pending."""
    deadline = time.monotonic() + timeout
    while True:
        async with http.get(f"{url}/api/feedback/{interview_id}") as response:
            status, body = response.status, await response.json()
        if status != 202:
            return status, body
        assert time.monotonic() < deadline, "the report stayed pending"
        await asyncio.sleep(0.2)


async def test_a_call_ends_and_its_report_arrives_with_every_seed_field_in_range(server):
    answers = [
        Answer.spoken("My favourite project was a weather station built with a Raspberry Pi"),
        Answer.spoken("I mentor three junior developers every week, and um, we cut review time by half"),
    ]
    async with new_http_session() as http:
        report = await run_interview(
            server.url,
            answers,
            interview={"role": "Software Engineer", "interview_type": "mixed", "duration_minutes": 15},
            http=http,
        )
        await server.lines_after_call(report.interview_id)  # the call ended with "end": the interview completed
        status, feedback = await poll_feedback(http, server.url, report.interview_id)
    assert status == 200 and feedback["status"] == "ready"
    for name in SCORES:
        assert isinstance(feedback[name], int) and 1 <= feedback[name] <= 100, name
    assert feedback["strengths"].strip() and feedback["improvements"].strip()
    detailed = feedback["detailed_feedback"]
    assert detailed["scored_by"] == "offline rules" and "not by an AI model" in detailed["scoring_note"]
    notes = detailed["questions"]  # the second answer may have answered a follow-up: one note per question
    assert len(notes) >= 1
    for note in notes:
        assert note["question"] and note["answer_summary"] and note["stronger_answer"]
        assert isinstance(note["good"], list) and isinstance(note["missing"], list)
    speech = detailed["speech"]
    assert speech["answer_count"] >= 2 and speech["words_per_minute"] > 0 and speech["total_words"] > 15
    assert 0 < speech["talk_share"] < 1 and speech["mean_start_delay_seconds"] is not None
    assert detailed["filler_reliability"]["stt"] == "whisper"
    json.dumps(feedback)


async def test_a_failed_report_says_so_and_a_retry_writes_it(tmp_path, anthropic_api):
    anthropic_api.fail_next(500, times=None)
    settings = test_settings(
        tmp_path,
        anthropic_api_key=anthropic_api.api_key,
        anthropic_base_url=anthropic_api.url,
        feedback_retry_delay_s=0.1,
    )
    runner, running = await start_server(settings)
    try:
        async with new_http_session() as http:
            body = {
                "email": "ada@example.org",
                "password": "correct horse",
                "full_name": "Ada",
                "target_role": "SRE",
                "experience_level": "mid",
            }
            async with http.post(f"{running.url}/api/auth/signup", json=body) as response:
                assert response.status == 201
            body = {"role": "SRE", "interview_type": "technical", "duration_minutes": 10}
            async with http.post(f"{running.url}/api/interviews/create", json=body) as response:
                interview_id = (await response.json())["interview"]["id"]
            async with http.post(f"{running.url}/api/feedback/{interview_id}/retry") as response:
                assert response.status == 409  # nothing has failed yet
            async with http.post(f"{running.url}/api/interviews/{interview_id}/complete") as response:
                assert response.status == 200
            status, failed = await poll_feedback(http, running.url, interview_id)
            assert status == 200 and failed["status"] == "failed" and "Try again" in failed["error"]
            assert failed["overall_score"] is None

            anthropic_api.reset_faults()
            anthropic_api.replies.append(json.dumps(VALID))
            async with http.post(f"{running.url}/api/feedback/{interview_id}/retry") as response:
                assert response.status == 202
            status, ready = await poll_feedback(http, running.url, interview_id)
        assert status == 200 and ready["status"] == "ready" and ready["overall_score"] == 71
        assert ready["error"] is None and ready["detailed_feedback"]["scored_by"] == "claude-sonnet-5-5"
    finally:
        await runner.cleanup()


async def test_a_report_a_stopped_server_left_pending_is_written_later(server):
    async with new_http_session() as http:
        body = {
            "email": f"{uuid.uuid4().hex[:8]}@example.org",
            "password": "correct horse",
            "full_name": "Bo",
            "target_role": "SRE",
            "experience_level": "mid",
        }
        async with http.post(f"{server.url}/api/auth/signup", json=body) as response:
            assert response.status == 201
        body = {"role": "SRE", "interview_type": "technical", "duration_minutes": 10}
        async with http.post(f"{server.url}/api/interviews/create", json=body) as response:
            interview_id = uuid.UUID((await response.json())["interview"]["id"])
    user_id = (await server.db.get_interview(interview_id)).user_id
    # The interview completes but its report is never written (the server "stopped" before it could).
    await server.db.complete_interview(interview_id, user_id)
    engine = create_engine(server.settings.resolved_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(Feedback)
                .where(Feedback.session_id == interview_id)
                .values(updated_at=datetime.now(UTC) - timedelta(minutes=10))
            )
    finally:
        await engine.dispose()
    service = server.app[appkeys.FEEDBACK]
    assert await service.resume_stale() >= 1
    await service.wait(interview_id)
    feedback = await server.db.get_feedback(interview_id)
    assert getattr(feedback.status, "value", feedback.status) == "ready"

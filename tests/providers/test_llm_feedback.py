"""Feedback written by a chat model (Claude and an OpenAI-compatible server, through their fakes): valid,
invalid and failing output."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import anthropic
import pytest
from pydantic import SecretStr

from voice_agent.feedback.llm_scorer import llm_report
from voice_agent.feedback.report import LLM_FEEDBACK_SCHEMA
from voice_agent.feedback.speech_metrics import Line
from voice_agent.providers.anthropic_llm import AnthropicLanguageModel
from voice_agent.providers.base import InterviewContext, ProviderError
from voice_agent.providers.chat import ChatOptions
from voice_agent.providers.openai_llm import OpenAIChatLanguageModel

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LINES = [
    Line("assistant", "How would you design a rate limiter?", T0, 4.0),
    Line(
        "user",
        "Um, I would use a token bucket per client in Redis, refilled every second.",
        T0 + timedelta(seconds=5),
        6.0,
    ),
]
CONTEXT = InterviewContext("Backend Engineer", "technical", "senior", 10, "Sam", seed="llm-feedback")
VALID = {
    "overall_score": 71,
    "technical_depth_score": 68,
    "communication_score": 80,
    "structure_score": 65,
    "confidence_score": 74,
    "strengths": ["You named a concrete algorithm and where the state lives."],
    "improvements": ["Discuss what happens when Redis is unavailable."],
    "questions": [
        {
            "question": "How would you design a rate limiter?",
            "answer_summary": "A token bucket per client in Redis.",
            "good": ["Concrete algorithm"],
            "missing": ["Failure modes", "Distributed consistency"],
            "stronger_answer": "I'd use a token bucket in Redis with a Lua script for atomicity, and fail open.",
        }
    ],
}


def claude(fake) -> AnthropicLanguageModel:
    return AnthropicLanguageModel(ChatOptions(api_key=SecretStr(fake.api_key), base_url=fake.url, model="claude-x"))


async def test_claude_scores_against_the_rubric_and_the_speech_metrics_are_measured(anthropic_api):
    anthropic_api.replies.append(json.dumps(VALID))
    report = await llm_report(LINES, CONTEXT, claude(anthropic_api), "deepgram")
    assert report.scores() == {k: VALID[k] for k in report.scores()}
    assert report.questions[0].missing == ["Failure modes", "Distributed consistency"]
    assert report.scored_by == "claude-x" and report.filler_reliability["level"] == "high"
    assert report.speech["filler_count"] == 1 and report.speech["answer_count"] == 1
    body = anthropic_api.messages_requests[0].json
    assert "hiring manager" in body["system"] and "Backend Engineer" in body["system"]
    assert json.dumps(LLM_FEEDBACK_SCHEMA) in body["system"]  # the schema travels with the request
    assert "Candidate: Um, I would use a token bucket" in body["messages"][0]["content"]


async def test_invalid_output_is_retried_once_with_the_reason(anthropic_api):
    broken = {**VALID, "overall_score": 140}
    anthropic_api.replies.extend([json.dumps(broken), json.dumps(VALID)])
    report = await llm_report(LINES, CONTEXT, claude(anthropic_api), "whisper")
    assert report.overall_score == 71
    retry = anthropic_api.messages_requests[1].json["messages"]
    assert "did not validate" in retry[-1]["content"] and "overall_score" in retry[-1]["content"]


async def test_invalid_output_twice_fails(anthropic_api):
    anthropic_api.replies.extend(["I'd rather not.", json.dumps({"overall_score": 50})])
    with pytest.raises(ProviderError):
        await llm_report(LINES, CONTEXT, claude(anthropic_api), "whisper")


async def test_a_failing_model_raises_for_the_caller_to_retry(anthropic_api):
    anthropic_api.fail_next(500, times=None)
    with pytest.raises(anthropic.InternalServerError):
        await llm_report(LINES, CONTEXT, claude(anthropic_api), "whisper")


async def test_an_openai_compatible_server_writes_the_same_report(openai_api):
    openai_api.replies.append(json.dumps(VALID))
    llm = OpenAIChatLanguageModel(
        ChatOptions(api_key=SecretStr(openai_api.api_key), base_url=openai_api.url + "/v1", model="qwen2.5:14b")
    )
    report = await llm_report(LINES, CONTEXT, llm, "openai-stt")
    assert report.overall_score == 71 and report.scored_by == "qwen2.5:14b"
    assert report.filler_reliability["level"] == "low"

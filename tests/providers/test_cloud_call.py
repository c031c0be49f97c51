"""A whole call with the three cloud providers at once (Deepgram, Claude, OpenAI speech), each through its SDK
against its local fake, driven by the loopback client over WebRTC."""

from __future__ import annotations

import pytest

from signaling.client.base import Answer
from signaling.client.interview import run_interview
from tests.conftest import start_server, test_settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_a_call_with_deepgram_claude_and_openai_speech(tmp_path, deepgram, anthropic_api, openai_api):
    settings = test_settings(
        tmp_path,
        deepgram_api_key=deepgram.api_key,
        deepgram_base_url=deepgram.url,
        anthropic_api_key=anthropic_api.api_key,
        anthropic_base_url=anthropic_api.url,
        openai_api_key=openai_api.api_key,
        openai_base_url=openai_api.url + "/v1",
    )
    greeting = "Hello and welcome. Tell me about a project you are proud of."
    reply = "A weather station is a great project. What was the hardest part of building it?"
    anthropic_api.replies.extend([greeting, reply])
    deepgram.transcripts.append("My favourite project was a weather station built with a Raspberry Pi.")
    runner, running = await start_server(settings)
    try:
        report = await run_interview(
            running.url, [Answer.spoken("My favourite project was a weather station built with a Raspberry Pi")]
        )
    finally:
        await runner.cleanup()
    assert report.greeting == greeting
    turn = report.turns[0]
    assert turn.heard == "My favourite project was a weather station built with a Raspberry Pi."
    assert turn.reply == reply
    assert turn.client_response_ms is not None  # the candidate heard the OpenAI voice answer
    assert report.agent_audio_seconds > 5
    # Each provider saw the call: the socket with the answer's audio, both turns, every sentence spoken.
    assert deepgram.connection_count == 1 and deepgram.connections[0].audio_seconds > 2
    # The greeting, then the reply to the whole answer (an early reply started during a pause in the answer and
    # dropped when the candidate went on is an extra request before it).
    # (Feedback requests, not streamed, may follow once the interview is over.)
    requests = [r for r in anthropic_api.messages_requests if r.json.get("stream")]
    assert len(requests) >= 2
    assert requests[0].json["messages"] == [{"role": "user", "content": "(The candidate has joined the call.)"}]
    assert "Raspberry Pi" in str(requests[-1].json["messages"][-1]["content"])
    spoken = " ".join(r.info["input"] for r in openai_api.speech_requests)
    assert greeting in spoken and reply in spoken

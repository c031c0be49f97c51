"""Each cloud provider, through its official SDK against its local fake, driving a real ``CallSession`` turn:
what the SDK sent (path, auth, model, audio format, prompt and messages), and what the candidate hears."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from pydantic import SecretStr

from tests.voice_agent.session_harness import BrokenTts, Harness, ScriptedStt
from tests.voice_agent.signals import speech_like
from voice_agent.events import ErrorRaised
from voice_agent.providers.anthropic_llm import AnthropicLanguageModel
from voice_agent.providers.base import InterviewContext, Providers
from voice_agent.providers.chat import CALL_STARTED, ChatOptions
from voice_agent.providers.deepgram_stt import DeepgramOptions, DeepgramSpeechToText
from voice_agent.providers.espeak import EspeakTextToSpeech
from voice_agent.providers.openai_llm import OpenAIChatLanguageModel
from voice_agent.providers.openai_stt import OpenAISpeechToText, OpenAITranscriptionOptions
from voice_agent.providers.openai_tts import OpenAISpeechOptions, OpenAITextToSpeech
from voice_agent.providers.scripted import ScriptedInterviewer
from voice_agent.session import CallSession

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CONTEXT = InterviewContext(
    role="Backend Engineer", interview_type="technical", experience_level="senior", candidate_name="Sam", seed="cloud"
)
GREETING = "Hello Sam, welcome to your mock interview. How would you design a rate limiter?"
ANSWER_TEXT = "I would use a token bucket per client stored in Redis."


@pytest.fixture(scope="module")
async def voice() -> EspeakTextToSpeech:
    tts = EspeakTextToSpeech()
    await tts.start()
    return tts


def session(providers: Providers) -> Harness:
    return Harness(lambda sink: CallSession(providers=providers, context=CONTEXT, on_event=sink))


def claude(fake, **options) -> AnthropicLanguageModel:
    return AnthropicLanguageModel(ChatOptions(api_key=SecretStr(fake.api_key), base_url=fake.url, **options))


def openai_chat(fake, **options) -> OpenAIChatLanguageModel:
    return OpenAIChatLanguageModel(ChatOptions(api_key=SecretStr(fake.api_key), base_url=fake.url + "/v1", **options))


def errors(h: Harness) -> list[str]:
    return [e.code for e in h.events if isinstance(e, ErrorRaised)]


async def test_claude_greets_then_answers_with_the_interviewer_prompt_and_the_conversation(anthropic_api, voice):
    follow_up = "A token bucket is a good start. How would you share it across nodes?"
    anthropic_api.replies.extend([GREETING, follow_up])
    h = session(
        Providers(stt=ScriptedStt([(None, ANSWER_TEXT)]), llm=claude(anthropic_api, model="claude-test"), tts=voice)
    )
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.wait_for(lambda: len(h.lines()) == 2)
    await h.play()
    assert [line[1] for line in h.lines()] == [GREETING, ANSWER_TEXT, follow_up]

    first, second = anthropic_api.messages_requests
    assert first.path == "/v1/messages" and first.header("Authorization") == "Bearer sk-ant-test"
    assert first.header("anthropic-version")
    body = first.json
    assert body["model"] == "claude-test" and body["stream"] is True and body["max_tokens"] == 400
    assert "Backend Engineer" in body["system"] and "senior" in body["system"]
    assert body["messages"] == [{"role": "user", "content": CALL_STARTED}]
    assert second.json["messages"] == [
        {"role": "user", "content": CALL_STARTED},
        {"role": "assistant", "content": GREETING},
        {"role": "user", "content": ANSWER_TEXT},
    ]
    usage = h.session.usage
    assert usage.llm_input_tokens > 0 and usage.llm_output_tokens > 0
    await h.session.close("test")


async def test_an_openai_compatible_server_plays_the_interviewer(openai_api, voice):
    openai_api.replies.append(GREETING)
    h = session(Providers(stt=ScriptedStt([]), llm=openai_chat(openai_api, model="llama3.1:8b"), tts=voice))
    await h.session.start()
    await h.play()
    assert h.lines()[0][1] == GREETING
    request = openai_api.chat_requests[0]
    assert request.path == "/v1/chat/completions" and request.header("Authorization") == "Bearer sk-openai-test"
    body = request.json
    assert body["model"] == "llama3.1:8b" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True} and body["max_tokens"] == 400
    assert body["messages"][0]["role"] == "system" and "Backend Engineer" in body["messages"][0]["content"]
    assert body["messages"][1] == {"role": "user", "content": CALL_STARTED}
    assert h.session.usage.llm_output_tokens > 0
    await h.session.close("test")


async def test_openai_speech_is_the_voice_sentence_by_sentence(openai_api):
    tts = OpenAITextToSpeech(
        OpenAISpeechOptions(api_key=SecretStr(openai_api.api_key), base_url=openai_api.url + "/v1", voice="nova")
    )
    h = session(Providers(stt=ScriptedStt([]), llm=ScriptedInterviewer(), tts=tts))
    await h.session.start()
    await h.play()
    greeting = h.lines()[0][1]
    requests = openai_api.speech_requests
    assert len(requests) >= 3  # one request per sentence, the first while the rest was still being written
    assert all(r.info["voice"] == "nova" and r.info["response_format"] == "pcm" for r in requests)
    assert all(r.info["model"] == "gpt-4o-mini-tts" for r in requests)
    assert " ".join(r.info["input"] for r in requests) == greeting
    assert h.agent_frames > 100  # seconds of real (eSpeak-made) speech at 48 kHz reached the transport
    assert h.session.usage.tts_characters == len("".join(r.info["input"] for r in requests))
    await h.session.close("test")


async def test_deepgram_ends_the_turn_on_its_own_endpointing_before_the_vad_would(deepgram, voice):
    stt = DeepgramSpeechToText(DeepgramOptions(api_key=SecretStr(deepgram.api_key), base_url=deepgram.url))
    h = session(Providers(stt=stt, llm=ScriptedInterviewer(), tts=voice))
    await h.session.start()
    assert deepgram.connection_count == 1  # opened with the call, before the first answer
    await h.play()
    deepgram.transcripts.append(ANSWER_TEXT)
    # Spoken in real time (20 ms a frame): the behaviour under test is which end of turn comes first.
    pcm = (np.concatenate([speech_like(1.2), np.zeros(int(0.8 * 16000))]) * 32767).astype(np.int16)
    for i in range(0, len(pcm) - 319, 320):
        h.session.push_pcm(pcm[i : i + 320], 16000)
        await asyncio.sleep(0.02)
    await h.wait_for(lambda: len(h.lines()) == 2)
    await h.play()
    assert h.lines()[1][1] == ANSWER_TEXT
    assert h.metrics()[-1].ended_by == "stt"
    await h.session.close("test")
    assert deepgram.connection_count == 1  # one socket for the whole call


async def test_openai_transcription_decodes_segments_as_wav_with_the_text_before_as_prompt(openai_api):
    openai_api.transcripts.extend(["My favourite project was a weather station.", "I built it with a Raspberry Pi."])
    stt = OpenAISpeechToText(
        OpenAITranscriptionOptions(
            api_key=SecretStr(openai_api.api_key), base_url=openai_api.url + "/v1", model="whisper-1"
        )
    )
    stream = await stt.open_stream()
    pcm = (speech_like(2.0) * 32767).astype(np.int16)
    for i in range(0, len(pcm) - 319, 320):
        stream.push(pcm[i : i + 320].tobytes())
    stream.pause()
    for i in range(0, len(pcm) - 319, 320):
        stream.push(pcm[i : i + 320].tobytes())
    await stream.finalize()
    results = []
    async for transcript in stream:
        results.append(transcript)
        if transcript.is_final:
            break
    assert results[-1].text == "My favourite project was a weather station. I built it with a Raspberry Pi."
    first, second = openai_api.transcription_requests
    assert first.path == "/v1/audio/transcriptions" and first.form["model"] == "whisper-1"
    assert (first.info["sample_rate"], first.info["channels"]) == (16000, 1)
    assert first.info["duration"] == pytest.approx(2.0, abs=0.05) and first.form["language"] == "en"
    assert second.form["prompt"] == "My favourite project was a weather station."


# ------------------------------------------------------------------------------------------------ faults


async def test_claude_retries_overload_and_the_reply_still_comes(anthropic_api, voice):
    anthropic_api.fail_next(529, times=2)
    anthropic_api.replies.append(GREETING)
    h = session(Providers(stt=ScriptedStt([]), llm=claude(anthropic_api), tts=voice))
    await h.session.start()
    await h.play()
    assert h.lines()[0][1] == GREETING and errors(h) == []
    assert len(anthropic_api.requests) == 3
    await h.session.close("test")


async def test_claude_down_gets_an_apology_and_the_offline_interviewer_moves_on(anthropic_api, voice):
    anthropic_api.fail_next(529, times=None)
    llm = claude(anthropic_api)
    h = session(Providers(stt=ScriptedStt([]), llm=llm, tts=voice, fallback_llm=ScriptedInterviewer()))
    await h.session.start()
    await h.play()
    line = h.lines()[0][1]
    # The offline interviewer took over: it greeted the candidate and asked the first question.
    assert line.startswith("Sorry, I lost my train of thought for a moment. Hi Sam")
    assert errors(h) == ["llm_failed"]
    assert llm.health.errors == 1 and llm.health.error_counts == {"server_error": 1}
    await h.session.close("test")


async def test_a_stalled_stream_times_out_and_what_was_said_is_kept(openai_api, voice):
    openai_api.replies.append("Thanks for joining. Let us begin with your background. What do you do today?")
    openai_api.stall_after(3)
    h = session(
        Providers(
            stt=ScriptedStt([]),
            llm=openai_chat(openai_api, timeout_s=1.0, retries=0),
            tts=voice,
            fallback_llm=ScriptedInterviewer(),
        )
    )
    await h.session.start()
    await h.play()
    # The first sentence arrived before the stall and was spoken; the interviewer's line keeps exactly that.
    assert h.lines()[0][1] == "Thanks for joining."
    assert errors(h) == ["llm_failed"]
    await h.session.close("test")


async def test_a_failing_voice_falls_back_to_espeak_and_the_text_still_arrives(openai_api, voice):
    openai_api.fail_next(500, times=None, path="/v1/audio/speech")
    tts = OpenAITextToSpeech(
        OpenAISpeechOptions(api_key=SecretStr(openai_api.api_key), base_url=openai_api.url + "/v1", retries=1)
    )
    h = session(Providers(stt=ScriptedStt([]), llm=ScriptedInterviewer(), tts=tts, fallback_tts=voice))
    await h.session.start()
    await h.play()
    assert h.lines()[0][1].startswith("Hi Sam")
    assert h.agent_frames > 100 and "tts_failed" in errors(h)
    assert tts.health.errors >= 1
    await h.session.close("test")


async def test_without_any_voice_the_text_still_reaches_the_client(voice):
    h = session(Providers(stt=ScriptedStt([]), llm=ScriptedInterviewer(), tts=BrokenTts(), fallback_tts=BrokenTts()))
    await h.session.start()
    await h.wait_for(lambda: bool(h.lines()))
    finals = [e for e in h.events if getattr(e, "final", False) and getattr(e, "role", "") == "assistant"]
    assert finals and finals[0].text.startswith("Hi Sam")
    await h.session.close("test")


async def test_deepgram_unreachable_at_call_start_is_reported_and_the_call_goes_on(deepgram, voice):
    deepgram.reject_next_connections(1)
    stt = DeepgramSpeechToText(DeepgramOptions(api_key=SecretStr(deepgram.api_key), base_url=deepgram.url))
    h = session(Providers(stt=stt, llm=ScriptedInterviewer(), tts=voice))
    await h.session.start()
    await h.play()
    assert "stt_unavailable" in errors(h) and h.lines()[0][0] == "assistant"
    deepgram.transcripts.append(ANSWER_TEXT)
    await h.say(1.0)  # the answer opens its own connection
    await h.wait_for(lambda: len(h.lines()) >= 2)
    assert h.lines()[1][1] == ANSWER_TEXT
    await h.session.close("test")


async def test_a_deepgram_drop_mid_answer_is_reported_and_the_answer_is_kept_whole(deepgram, voice):
    stt = DeepgramSpeechToText(DeepgramOptions(api_key=SecretStr(deepgram.api_key), base_url=deepgram.url))
    h = session(Providers(stt=stt, llm=ScriptedInterviewer(), tts=voice))
    await h.session.start()
    await h.play()
    # The fake hears the audio resent on the new socket as a new utterance: it gets the transcript again.
    deepgram.transcripts.extend([ANSWER_TEXT] * 2)
    deepgram.drop_connection_after(0.8)
    await h.say(2.0)
    await h.wait_for(lambda: len(h.lines()) >= 2)
    assert h.lines()[1] == ("user", ANSWER_TEXT, False)
    assert "stt_reconnecting" in errors(h) and deepgram.connection_count == 2
    await h.play()  # and the interviewer answers it
    assert h.lines()[2][0] == "assistant"
    await h.session.close("test")

"""The provider fakes against the real SDKs: the wire format is right when the official clients accept it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
import wave
from typing import Any

import aiohttp
import anthropic
import httpx2
import numpy as np
import openai
import pytest
import websockets
from anthropic import AsyncAnthropic
from deepgram import AsyncDeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.environment import DeepgramClientEnvironment
from deepgram.listen.v1.types import (
    ListenV1Metadata,
    ListenV1Results,
    ListenV1SpeechStarted,
    ListenV1UtteranceEnd,
)
from openai import AsyncOpenAI

from tests.fakes import FakeAnthropic, FakeDeepgram, FakeOpenAI
from tests.fakes.openai import SPEECH_PATH, pcm_level_dbfs, wav_bytes

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KEY = "sk-test-1234567890"
RATE = 16_000
FRAME = RATE // 50  # 20 ms


# --- audio ---------------------------------------------------------------------------------------------------


def tone(seconds: float, freq: float = 220.0, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * freq * t) * amplitude).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


def spoken_16k(text: str) -> np.ndarray:
    """eSpeak NG speech of ``text`` at 16 kHz (the loopback client's candidate voice)."""
    from signaling.client.audio import speak
    from voice_agent.audio import PcmResampler

    resampler = PcmResampler(RATE)
    samples = speak(text)
    return np.concatenate([resampler.resample(samples, 48_000), resampler.flush()])


def frames(samples: np.ndarray) -> list[bytes]:
    data = samples.astype("<i2").tobytes()
    return [data[i : i + FRAME * 2] for i in range(0, len(data), FRAME * 2)]


# --- Deepgram ------------------------------------------------------------------------------------------------


def deepgram_client(fake: FakeDeepgram, key: str = KEY) -> AsyncDeepgramClient:
    environment = DeepgramClientEnvironment(
        base=fake.url, production=fake.ws_url, agent=fake.ws_url, agent_rest=fake.url
    )
    return AsyncDeepgramClient(api_key=key, environment=environment)


def listen(client: AsyncDeepgramClient, **overrides: Any) -> Any:
    options: dict[str, Any] = {
        "model": "nova-3",
        "encoding": "linear16",
        "sample_rate": RATE,
        "channels": 1,
        "interim_results": True,
        "endpointing": 300,
        "utterance_end_ms": 1000,
        "vad_events": True,
        "smart_format": True,
        "request_options": {"additional_query_parameters": {"filler_words": "true"}},
    }
    options.update(overrides)
    return client.listen.v1.connect(**options)


async def send_audio(conn: Any, samples: np.ndarray) -> None:
    for frame in frames(samples):
        await conn.send_media(frame)


async def read_until(conn: Any, done: Any, timeout: float = 5.0) -> list[Any]:
    """Messages until ``done(message)`` is true (inclusive)."""
    messages: list[Any] = []
    async with asyncio.timeout(timeout):
        async for message in conn:
            messages.append(message)
            if done(message):
                break
    return messages


def transcript(message: ListenV1Results) -> str:
    return message.channel.alternatives[0].transcript


async def test_deepgram_interim_final_utterance_end_on_speech_then_silence():
    async with FakeDeepgram(api_key=KEY) as fake:
        fake.transcripts.append("Um, I led the billing migration.")
        speech = spoken_16k("I led the billing migration last year")
        async with listen(deepgram_client(fake)) as conn:
            sender = asyncio.create_task(send_audio(conn, np.concatenate([silence(0.2), speech, silence(1.5)])))
            messages = await read_until(conn, lambda m: isinstance(m, ListenV1UtteranceEnd))
            await sender
            await conn.send_close_stream()
            tail = await read_until(conn, lambda m: isinstance(m, ListenV1Metadata))

        assert isinstance(messages[0], ListenV1SpeechStarted)
        assert messages[0].timestamp == pytest.approx(0.2, abs=0.05)
        results = [m for m in messages if isinstance(m, ListenV1Results)]
        interims, finals = [r for r in results if not r.is_final], [r for r in results if r.is_final]
        assert len(interims) >= 5 and len(finals) == 1
        sizes = [len(transcript(r).split()) for r in interims]
        assert sizes == sorted(sizes) and sizes[0] == 1 and sizes[-1] <= 6
        assert transcript(interims[0]) == "Um,"
        final = finals[0]
        assert final.speech_final is True and final.from_finalize is False
        assert transcript(final) == "Um, I led the billing migration."
        assert [w.word for w in final.channel.alternatives[0].words][:3] == ["um", "i", "led"]
        assert final.start == 0.0 and final.duration > len(speech) / RATE
        assert final.metadata.model_info.arch == "nova-3"
        assert results.index(final) == len(results) - 1  # interims, then the final
        end = messages[-1]
        assert end.last_word_end == pytest.approx(final.channel.alternatives[0].words[-1].end, abs=0.01)
        assert isinstance(tail[-1], ListenV1Metadata) and tail[-1].duration == pytest.approx(
            0.2 + len(speech) / RATE + 1.5, abs=0.03
        )

        connection = fake.connections[0]
        request = connection.request
        assert request.path == "/v1/listen" and request.header("Authorization") == f"Token {KEY}"
        assert request.query["encoding"] == "linear16" and request.query["sample_rate"] == "16000"
        assert request.query["filler_words"] == "true" and request.query["endpointing"] == "300"
        assert request.query["interim_results"] == "true" and request.query["smart_format"] == "true"
        assert connection.params.utterance_end_ms == 1000 and connection.params.vad_events
        assert connection.audio_bytes == 2 * (len(speech) + int(1.7 * RATE))
        assert connection.control_types() == ["CloseStream"]
        assert connection.close_code == 1000 and connection.closed_by == "server"


async def test_deepgram_drops_fillers_without_filler_words_and_formats_only_when_asked():
    async with FakeDeepgram(api_key=KEY) as fake:
        fake.transcripts.append("Um, I led it.")
        async with listen(deepgram_client(fake), smart_format=None, request_options=None, vad_events=None) as conn:
            await send_audio(conn, np.concatenate([tone(1.0), silence(0.4)]))
            messages = await read_until(conn, lambda m: isinstance(m, ListenV1Results) and m.is_final)
        assert transcript(messages[-1]) == "i led it"
        assert "filler_words" not in fake.connections[0].request.query


async def test_deepgram_finalize_gives_from_finalize():
    async with FakeDeepgram(api_key=KEY) as fake:
        fake.transcripts += ["First answer.", "Second answer."]
        async with listen(deepgram_client(fake)) as conn:
            await send_audio(conn, tone(0.6))
            await conn.send_finalize()
            messages = await read_until(conn, lambda m: isinstance(m, ListenV1Results) and m.is_final)
            final = messages[-1]
            assert final.from_finalize is True and final.speech_final is False
            assert transcript(final) == "First answer."
            await conn.send_keep_alive()
            await send_audio(conn, np.concatenate([tone(0.4), silence(0.4)]))
            messages = await read_until(conn, lambda m: isinstance(m, ListenV1Results) and m.is_final)
            assert transcript(messages[-1]) == "Second answer." and messages[-1].speech_final is True
            assert messages[-1].start == pytest.approx(final.start + final.duration)
        assert fake.connections[0].control_types()[:2] == ["Finalize", "KeepAlive"]


async def test_deepgram_endpointing_defaults_to_10_ms():
    async with FakeDeepgram(api_key=KEY) as fake:
        fake.transcripts.append("Yes.")
        async with listen(deepgram_client(fake), endpointing=None, utterance_end_ms=None) as conn:
            await send_audio(conn, np.concatenate([tone(0.3), silence(0.04)]))
            messages = await read_until(conn, lambda m: isinstance(m, ListenV1Results) and m.is_final)
        assert messages[-1].speech_final is True and transcript(messages[-1]) == "Yes."


async def test_deepgram_refuses_a_wrong_key_and_rejected_connections():
    async with FakeDeepgram(api_key=KEY) as fake:
        with pytest.raises(ApiError) as refused:
            async with listen(deepgram_client(fake, key="wrong")):
                pass
        assert refused.value.status_code == 401
        fake.reject_next_connections(1)
        with pytest.raises(ApiError) as rejected:
            async with listen(deepgram_client(fake)):
                pass
        assert rejected.value.status_code == 503
        with pytest.raises(ApiError) as bad:
            async with listen(deepgram_client(fake), encoding="opus"):
                pass
        assert bad.value.status_code == 400
        async with listen(deepgram_client(fake)) as conn:
            await conn.send_close_stream()
            await read_until(conn, lambda m: isinstance(m, ListenV1Metadata))
        assert [r.status for r in fake.requests] == [401, 503, 400, 101]
        assert fake.connection_count == 1


async def test_deepgram_drop_raises_connection_closed_error():
    async with FakeDeepgram(api_key=KEY) as fake:
        fake.drop_connection_after(0.5)
        async with listen(deepgram_client(fake)) as conn:

            async def sender() -> None:
                with contextlib.suppress(websockets.ConnectionClosed):
                    await send_audio(conn, tone(1.0))

            task = asyncio.create_task(sender())
            with pytest.raises(websockets.ConnectionClosedError) as closed:
                await read_until(conn, lambda m: False)
            await task
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        assert fake.connections[0].audio_seconds == pytest.approx(0.5, abs=0.02)
        async with listen(deepgram_client(fake)) as conn:  # once only
            await send_audio(conn, tone(1.0))
            await conn.send_close_stream()
            await read_until(conn, lambda m: isinstance(m, ListenV1Metadata))
        assert fake.connections[1].close_code == 1000


async def test_deepgram_idle_timeout_closes_with_net_0001():
    async with FakeDeepgram(api_key=KEY, idle_timeout_s=0.6) as fake:
        async with listen(deepgram_client(fake)) as conn:
            await asyncio.sleep(0.3)
            await conn.send_keep_alive()  # resets the timer
            started = time.monotonic()
            with pytest.raises(websockets.ConnectionClosedError) as closed:
                await read_until(conn, lambda m: False)
            assert 0.5 < time.monotonic() - started < 2.0
        assert closed.value.rcvd.code == 1011 and "NET-0001" in closed.value.rcvd.reason
        assert fake.connections[0].close_code == 1011


# --- Anthropic -----------------------------------------------------------------------------------------------

CHAT = [{"role": "user", "content": "Tell me about a project you led."}]
SYSTEM = "You are a friendly interviewer."


def claude(fake: FakeAnthropic, key: str = KEY, **options: Any) -> AsyncAnthropic:
    options.setdefault("max_retries", 2)
    return AsyncAnthropic(api_key=key, base_url=fake.url, **options)


async def claude_stream(client: AsyncAnthropic, **overrides: Any) -> tuple[list[str], Any]:
    params: dict[str, Any] = {"model": "claude-test", "max_tokens": 200, "system": SYSTEM, "messages": CHAT}
    params.update(overrides)
    pieces: list[str] = []
    async with client.messages.stream(**params) as stream:
        async for text in stream.text_stream:
            pieces.append(text)
        return pieces, await stream.get_final_message()


async def test_anthropic_streams_a_scripted_reply_and_records_the_request():
    async with FakeAnthropic(api_key=KEY) as fake:
        reply = "That sounds like a big migration. What was the hardest part of it for you?"
        fake.replies.append(reply)
        pieces, message = await claude_stream(claude(fake), extra_body={"temperature": 0.7})
        assert "".join(pieces) == reply and len(pieces) >= 4
        assert message.content[0].text == reply and message.stop_reason == "end_turn"
        assert message.usage.input_tokens == (len(SYSTEM) + len(CHAT[0]["content"])) // 4
        assert message.usage.output_tokens == round(len(reply.split()) * 4 / 3)

        request = fake.messages_requests[0]
        assert request.path == "/v1/messages" and request.info["auth"] == "bearer"
        assert request.header("anthropic-version")
        assert request.json["stream"] is True and request.json["model"] == "claude-test"
        assert request.json["system"] == SYSTEM and request.json["messages"] == CHAT
        assert request.json["temperature"] == 0.7

        response = await claude(fake).messages.create(model="claude-test", max_tokens=200, messages=CHAT)
        assert response.content[0].text == fake.default_reply
        cut = await claude(fake).messages.create(model="claude-test", max_tokens=3, messages=CHAT)
        assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens <= 3


async def test_anthropic_refuses_a_wrong_key_and_malformed_bodies():
    async with FakeAnthropic(api_key=KEY) as fake:
        with pytest.raises(anthropic.AuthenticationError):
            await claude_stream(claude(fake, key="wrong"))
        with pytest.raises(anthropic.BadRequestError) as bad:
            await claude_stream(claude(fake), messages=[{"role": "assistant", "content": "Hi"}])
        assert bad.value.body["error"]["type"] == "invalid_request_error"
        with pytest.raises(anthropic.BadRequestError):
            await claude_stream(claude(fake), messages=[*CHAT, {"role": "user", "content": "Again"}])
        async with aiohttp.ClientSession() as http:
            async with http.post(fake.url + "/v1/complete", json={}) as response:
                assert response.status == 404
                assert (await response.json())["error"]["type"] == "not_found_error"
        assert [r.status for r in fake.requests] == [401, 400, 400, 404]


async def test_anthropic_retries_429_and_529_then_succeeds():
    async with FakeAnthropic(api_key=KEY) as fake:
        fake.fail_next(status=529, times=1, retry_after=0.01)
        fake.fail_next(status=429, times=1, retry_after=0.01)
        fake.replies.append("Fine.")
        pieces, _ = await claude_stream(claude(fake))
        assert "".join(pieces) == "Fine."
        assert [r.status for r in fake.requests] == [529, 429, 200]
        assert fake.requests[1].header("x-stainless-retry-count") == "1"


async def test_anthropic_overloaded_every_time_ends_in_overloaded_error():
    async with FakeAnthropic(api_key=KEY) as fake:
        fake.fail_next(status=529, times=None, retry_after=0.01)
        with pytest.raises(anthropic.OverloadedError):
            await claude_stream(claude(fake))
        assert [r.status for r in fake.requests] == [529, 529, 529]


async def test_anthropic_stall_fires_the_client_timeout():
    async with FakeAnthropic(api_key=KEY) as fake:
        fake.stall_after(2)
        fake.replies.append("one two three four five six seven eight nine ten")
        pieces: list[str] = []
        client = claude(fake, max_retries=0, timeout=0.5)
        with pytest.raises((anthropic.APITimeoutError, httpx2.TimeoutException)):
            params = {"model": "claude-test", "max_tokens": 100, "messages": CHAT}
            async with client.messages.stream(**params) as stream:
                async for text in stream.text_stream:
                    pieces.append(text)
        assert "".join(pieces) == "one two three four five six"


async def test_anthropic_error_event_raises_mid_stream():
    async with FakeAnthropic(api_key=KEY) as fake:
        fake.error_event_after(1)
        pieces: list[str] = []
        with pytest.raises(anthropic.APIStatusError) as error:
            async with claude(fake).messages.stream(model="claude-test", max_tokens=100, messages=CHAT) as stream:
                async for text in stream.text_stream:
                    pieces.append(text)
        assert len(pieces) == 1 and "overloaded_error" in str(error.value)
        assert len(fake.requests) == 1  # no retry inside a 200 stream


async def test_anthropic_delays_the_first_token():
    async with FakeAnthropic(api_key=KEY) as fake:
        fake.delay_first_token(0.3)
        started = time.monotonic()
        async with claude(fake).messages.stream(model="claude-test", max_tokens=100, messages=CHAT) as stream:
            async for _ in stream.text_stream:
                break
        assert time.monotonic() - started >= 0.3


# --- OpenAI --------------------------------------------------------------------------------------------------


def gpt(fake: FakeOpenAI, key: str = KEY, **options: Any) -> AsyncOpenAI:
    options.setdefault("max_retries", 2)
    return AsyncOpenAI(api_key=key, base_url=fake.url + "/v1", **options)


async def chat_stream(client: AsyncOpenAI, **overrides: Any) -> tuple[list[str], list[Any]]:
    params: dict[str, Any] = {
        "model": "gpt-test",
        "messages": [{"role": "system", "content": SYSTEM}, *CHAT],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    params.update(overrides)
    pieces: list[str] = []
    chunks: list[Any] = []
    async for chunk in await client.chat.completions.create(**params):
        chunks.append(chunk)
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    return pieces, chunks


async def test_openai_chat_streams_with_usage_and_records_the_request():
    async with FakeOpenAI(api_key=KEY) as fake:
        reply = "Great. Walk me through how you planned the cut-over, step by step."
        fake.replies.append(reply)
        pieces, chunks = await chat_stream(gpt(fake), temperature=0.5, max_completion_tokens=100)
        assert "".join(pieces) == reply and len(pieces) >= 4
        assert chunks[0].choices[0].delta.role == "assistant"
        assert chunks[-2].choices[0].finish_reason == "stop"
        assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == round(len(reply.split()) * 4 / 3)
        request = fake.chat_requests[0]
        assert request.header("Authorization") == f"Bearer {KEY}"
        assert request.json["model"] == "gpt-test" and request.json["messages"][0]["content"] == SYSTEM
        assert request.json["stream_options"] == {"include_usage": True} and request.json["temperature"] == 0.5

        fake.replies.append('{"score": 4}')
        completion = await gpt(fake).chat.completions.create(
            model="gpt-test",
            messages=[{"role": "user", "content": "Score it as JSON."}],
            response_format={"type": "json_object"},
        )
        assert completion.choices[0].message.content == '{"score": 4}' and completion.usage.total_tokens > 0
        with pytest.raises(openai.BadRequestError):  # json_object without the word "json"
            await gpt(fake).chat.completions.create(
                model="gpt-test", messages=CHAT, response_format={"type": "json_object"}
            )


async def test_openai_refuses_a_wrong_key_and_unknown_paths():
    async with FakeOpenAI(api_key=KEY) as fake:
        with pytest.raises(openai.AuthenticationError) as refused:
            await chat_stream(gpt(fake, key="wrong-key-123456"))
        assert refused.value.code == "invalid_api_key"
        async with aiohttp.ClientSession() as http:
            async with http.post(fake.url + "/v1/embeddings", json={}) as response:
                assert response.status == 404 and "error" in await response.json()


async def test_openai_retries_then_succeeds_and_can_fail_for_good():
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.fail_next(status=429, times=1, retry_after=0.01)
        fake.fail_next(status=500, times=1, retry_after=0.01)
        pieces, _ = await chat_stream(gpt(fake))
        assert "".join(pieces) == fake.default_reply
        assert [r.status for r in fake.requests] == [429, 500, 200]
        fake.fail_next(status=503, times=None, retry_after=0.01)
        with pytest.raises(openai.InternalServerError):
            await chat_stream(gpt(fake))
        assert len(fake.requests) == 6


async def test_openai_chat_stall_times_out_and_error_line_raises():
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.stall_after(1)
        with pytest.raises(openai.APITimeoutError):
            await chat_stream(gpt(fake, max_retries=0, timeout=0.5))
        fake.error_event_after(2)
        pieces: list[str] = []
        with pytest.raises(openai.APIError) as error:
            async for chunk in await gpt(fake).chat.completions.create(model="gpt-test", messages=CHAT, stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces.append(chunk.choices[0].delta.content)
        assert len(pieces) == 2 and "server" in str(error.value)
        fake.delay_first_token(0.3)
        started = time.monotonic()
        await chat_stream(gpt(fake))
        assert time.monotonic() - started >= 0.3


async def test_openai_speech_streams_24k_pcm_speech():
    async with FakeOpenAI(api_key=KEY) as fake:
        text = "Hello, and welcome. Let's begin with your background."
        chunks: list[bytes] = []
        async with gpt(fake).audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="alloy", input=text, response_format="pcm"
        ) as response:
            assert response.headers["content-type"] == "audio/pcm"
            async for chunk in response.iter_bytes(chunk_size=4800):
                chunks.append(chunk)
        pcm = b"".join(chunks)
        seconds = len(pcm) / 2 / 24_000
        assert len(chunks) > 5 and 1.5 < seconds < 8
        assert pcm_level_dbfs(pcm) > -35
        request = fake.speech_requests[0]
        assert request.info["input"] == text and request.info["voice"] == "alloy"
        assert request.info["model"] == "gpt-4o-mini-tts" and request.info["response_format"] == "pcm"
        assert request.info["audio_bytes"] == len(pcm)

        wav = await gpt(fake).audio.speech.create(
            model="tts-1", voice="nova", input="Thank you.", response_format="wav"
        )
        with wave.open(io.BytesIO(wav.content)) as reader:
            assert reader.getframerate() == 24_000 and reader.getnframes() > 2400
        with pytest.raises(openai.BadRequestError):
            await gpt(fake).audio.speech.create(model="tts-1", voice="nobody", input="Hi", response_format="pcm")


async def test_openai_speech_stall_and_first_byte_delay():
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.stall_after(2, path=SPEECH_PATH)
        received = 0
        # a stalled binary body raises httpx2's own ReadTimeout from iter_bytes (not openai.APITimeoutError)
        with pytest.raises((openai.APITimeoutError, httpx2.TimeoutException)):
            async with gpt(fake, max_retries=0, timeout=0.5).audio.speech.with_streaming_response.create(
                model="tts-1", voice="alloy", input="One two three four five six seven.", response_format="pcm"
            ) as response:
                async for chunk in response.iter_bytes():
                    received += len(chunk)
        assert received == 2 * fake.speech_chunk_bytes
        fake.delay_first_byte(1.0)
        with pytest.raises(openai.APITimeoutError):
            await gpt(fake, max_retries=0, timeout=0.3).audio.speech.create(
                model="tts-1", voice="alloy", input="Hello.", response_format="pcm"
            )


async def test_openai_transcribes_a_wav_upload():
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.transcripts += ["I led the billing migration.", "Second."]
        upload = wav_bytes(tone(1.5).astype("<i2").tobytes(), RATE)
        result = await gpt(fake).audio.transcriptions.create(
            model="whisper-1", file=("u.wav", upload, "audio/wav"), language="en"
        )
        assert result.text == "I led the billing migration."
        request = fake.transcription_requests[0]
        assert request.form["model"] == "whisper-1" and request.form["language"] == "en"
        assert request.files["file"].filename == "u.wav" and request.files["file"].data == upload
        assert request.info["sample_rate"] == RATE and request.info["channels"] == 1
        assert request.info["duration"] == pytest.approx(1.5)
        verbose = await gpt(fake).audio.transcriptions.create(
            model="whisper-1", file=("u.wav", upload, "audio/wav"), response_format="verbose_json"
        )
        assert verbose.text == "Second." and verbose.duration == pytest.approx(1.5)
        with pytest.raises(openai.BadRequestError):
            await gpt(fake).audio.transcriptions.create(
                model="whisper-1", file=("u.mp3", b"ID3 not a wav", "audio/mpeg")
            )
        fake.fail_next(500, retry_after=0.01, path="/v1/audio/transcriptions")
        text = await gpt(fake).audio.transcriptions.create(
            model="whisper-1", file=("again.wav", upload), response_format="text"
        )
        assert text.strip() == fake.default_transcript

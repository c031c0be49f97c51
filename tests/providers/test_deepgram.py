"""Deepgram live STT through deepgram-sdk against a local fake of its WebSocket API."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from pydantic import SecretStr

from tests.providers.conftest import frames, speech16k
from voice_agent.providers.deepgram_stt import DeepgramOptions, DeepgramSpeechToText

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ANSWER = "I led the migration of our billing system to Kubernetes"
SILENCE = np.zeros(16000, np.int16)


def provider(fake, **options) -> DeepgramSpeechToText:
    return DeepgramSpeechToText(DeepgramOptions(api_key=SecretStr(fake.api_key), base_url=fake.url, **options))


async def results_until_final(stream, timeout: float = 10.0) -> list:
    out = []

    async def collect():
        async for transcript in stream:
            out.append(transcript)
            if transcript.is_final:
                return

    await asyncio.wait_for(collect(), timeout)
    return out


async def test_the_socket_opens_with_the_call_and_speaks_linear16_at_16k_with_fillers(deepgram):
    faults = []
    call = await provider(deepgram).open_call(lambda code, message: faults.append(code))
    try:
        # Connected when the call starts, before the candidate says anything.
        assert deepgram.connection_count == 1
        connection = deepgram.connections[0]
        request = connection.request
        assert request.header("Authorization") == "Token dg-test-key"
        params = connection.params
        assert (params.encoding, params.sample_rate, params.channels) == ("linear16", 16000, 1)
        assert params.interim_results and params.filler_words and params.vad_events and params.smart_format
        assert (params.model, params.endpointing_ms, params.utterance_end_ms) == ("nova-3", 300, 1000)

        deepgram.transcripts.append("Um, I led the migration of our billing system to Kubernetes.")
        stream = await call.open_stream()
        for frame in frames(np.concatenate([speech16k(ANSWER), SILENCE])):
            stream.push(frame)
        results = await results_until_final(stream)
        interims, final = results[:-1], results[-1]
        assert interims and all(not r.is_final for r in interims)
        assert interims[0].text.lower().startswith("um")
        assert final.is_final and final.speech_final  # Deepgram's endpointing ended the utterance
        assert final.text == "Um, I led the migration of our billing system to Kubernetes."
        assert connection.audio_seconds == pytest.approx(len(speech16k(ANSWER)) / 16000 + 1.0, abs=0.05)
        assert faults == []
    finally:
        await call.aclose()
    assert "CloseStream" in deepgram.connections[0].control_types()


async def test_silence_is_bridged_with_keepalives(deepgram):
    deepgram.idle_timeout_s = 1.0
    call = await provider(deepgram, keepalive_s=0.3).open_call()
    try:
        await asyncio.sleep(1.6)  # longer than Deepgram's idle timeout: the behaviour under test
        connection = deepgram.connections[0]
        assert connection.close_code is None
        assert connection.control_types().count("KeepAlive") >= 3
    finally:
        await call.aclose()


async def test_finalize_ends_an_utterance_the_vad_ended_first(deepgram):
    deepgram.transcripts.append("Yes.")
    call = await provider(deepgram, endpointing_ms=2000).open_call()
    try:
        stream = await call.open_stream()
        for frame in frames(np.concatenate([speech16k("Yes"), np.zeros(3200, np.int16)])):
            stream.push(frame)
        await stream.finalize()
        results = await results_until_final(stream)
        assert results[-1].text == "Yes." and not results[-1].speech_final
        assert "Finalize" in deepgram.connections[0].control_types()
        # Finalize with nothing pending gets no answer from Deepgram: the stream still ends.
        empty = await call.open_stream()
        await empty.finalize()
        assert (await results_until_final(empty, timeout=5))[-1].text == ""
    finally:
        await call.aclose()


async def test_a_dropped_socket_reconnects_and_loses_nothing_of_the_answer(deepgram):
    # The fake hears the audio resent on the new socket as a new utterance: it gets the transcript again.
    deepgram.transcripts.extend(["We cut deploy time from an hour to five minutes."] * 2)
    deepgram.drop_connection_after(1.0)
    faults = []
    call = await provider(deepgram).open_call(lambda code, message: faults.append(code))
    try:
        stream = await call.open_stream()
        answer = speech16k("We cut deploy time from an hour to five minutes")
        for frame in frames(np.concatenate([answer, SILENCE])):
            stream.push(frame)
            await asyncio.sleep(0)
        results = await results_until_final(stream, timeout=15)
        assert results[-1].text == "We cut deploy time from an hour to five minutes."
        assert deepgram.connection_count == 2 and faults == ["stt_reconnecting"]
        # Everything Deepgram had not confirmed went again on the new socket: the answer reached it whole.
        assert deepgram.connections[1].audio_seconds >= len(answer) / 16000 - 1.0
    finally:
        await call.aclose()


async def test_a_wrong_key_is_refused_at_connection(deepgram):
    bad = DeepgramSpeechToText(DeepgramOptions(api_key=SecretStr("wrong"), base_url=deepgram.url))
    with pytest.raises(Exception) as raised:
        await bad.open_call()
    assert getattr(raised.value, "status_code", None) == 401

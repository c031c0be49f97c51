"""What operators rely on: the status endpoint, Prometheus metrics, health and readiness, recordings, logs, and a
graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import av
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.common import free_port
from db.repository import Database
from signaling.client.api import create_interview, new_http_session, sign_in
from signaling.client.base import Answer
from signaling.client.interview import run_interview
from signaling.client.webrtc import LoopbackCall
from tests.conftest import start_server, test_settings
from web import appkeys

TOKEN = "operator-secret-token"
ANSWER = "My favourite project was a weather station built with a Raspberry Pi"
INTERVIEW = {"role": "Data Scientist", "interview_type": "technical", "duration_minutes": 10}


def metric_value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def get_json(http, url: str, **kwargs) -> tuple[int, dict]:
    async with http.get(url, **kwargs) as response:
        return response.status, await response.json()


async def test_status_needs_the_token_and_shows_a_live_call_then_no_ghost(tmp_path):
    runner, running = await start_server(test_settings(tmp_path, status_token=TOKEN))
    try:
        async with aiohttp.ClientSession() as plain:
            assert (await get_json(plain, f"{running.url}/api/status"))[0] == 401
            wrong = {"Authorization": "Bearer nope"}
            assert (await get_json(plain, f"{running.url}/api/status", headers=wrong))[0] == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with new_http_session() as http:
            await sign_in(http, running.url, interview=INTERVIEW)
            call = LoopbackCall(running.url)
            await call.connect(http, await create_interview(http, running.url, INTERVIEW))
            index, _ = await call.wait_agent_turn(0)
            await call.speak_answer(Answer.spoken(ANSWER), index)
            status, body = await get_json(http, f"{running.url}/api/status", headers=auth)
            assert status == 200
            (live,) = body["active_calls"]
            assert live["call_id"] == call.call_id and live["transport"] == "webrtc"
            assert live["state"] in ("listening", "thinking", "speaking") and live["duration_s"] > 1
            assert live["media"]["inbound_packets"] > 50 and live["media"]["outbound_packets"] > 50
            assert live["media"]["inbound_lost"] == 0 and live["media"]["inbound_jitter_ms"] is not None
            assert live["last_turn_ms"]["response_ms"] > 0 and live["turns"] >= 2
            latency = body["since_start"]["latency_ms"]
            assert latency["response_ms"]["n"] >= 1 and latency["response_ms"]["p50"] > 0
            assert set(latency) == {"endpointing_ms", "stt_ms", "llm_ttft_ms", "tts_first_audio_ms", "response_ms"}
            assert body["providers"]["stt"]["name"] == "whisper" and body["providers"]["llm"]["name"] == "scripted"
            assert body["database"]["ok"] and body["version"] and body["uptime_s"] > 0
            assert body["usage"]["stt_seconds"] > 1 and body["usage"]["estimated_cost_usd"]["total"] == 0.0
            await call.hang_up()
            deadline = time.monotonic() + 10
            while running.calls.all():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            status, body = await get_json(http, f"{running.url}/api/status", headers=auth)
            assert body["active_calls"] == [] and body["since_start"]["calls_ended"] == {"candidate_ended": 1}
    finally:
        await runner.cleanup()


async def test_without_a_token_the_status_answers_on_localhost(server):
    async with aiohttp.ClientSession() as http:
        status, body = await get_json(http, f"{server.url}/api/status")
    assert status == 200 and "active_calls" in body


async def test_metrics_parse_and_move_during_a_call(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/metrics") as response:
            assert response.status == 200 and response.content_type == "text/plain"
            before = await response.text()
        async with new_http_session() as candidate:
            await sign_in(candidate, server.url, interview=INTERVIEW)
            call = LoopbackCall(server.url)
            await call.connect(candidate, await create_interview(candidate, server.url, INTERVIEW))
            await call.wait_agent_turn(0)
            async with http.get(f"{server.url}/metrics") as response:
                during = await response.text()
            await call.hang_up()
    assert metric_value(during, "mock_interviewer_active_calls") >= 1
    assert metric_value(during, "mock_interviewer_turns_total") > metric_value(before, "mock_interviewer_turns_total")
    assert metric_value(during, "mock_interviewer_calls_started_total", transport="webrtc") >= 1
    count = "mock_interviewer_latency_seconds_count"
    assert metric_value(during, count, stage="tts_first_audio") > metric_value(before, count, stage="tts_first_audio")
    signups = metric_value(during, "mock_interviewer_http_requests_total", route="/api/auth/signup", status="201")
    assert signups >= 1
    families = {family.name for family in text_string_to_metric_families(during)}
    assert {"mock_interviewer_provider_errors", "mock_interviewer_late_outbound_frames"} <= families


async def test_health_and_readiness(tmp_path):
    runner, running = await start_server(test_settings(tmp_path))
    try:
        async with aiohttp.ClientSession() as http:
            assert (await get_json(http, f"{running.url}/healthz")) == (200, {"status": "ok"})
            status, body = await get_json(http, f"{running.url}/readyz")
            assert status == 200 and body["checks"] == {"database": True, "providers": True, "accepting_calls": True}
            running.app[appkeys.DRAINING].set()
            status, body = await get_json(http, f"{running.url}/readyz")
            assert status == 503 and body["checks"]["accepting_calls"] is False
            assert (await get_json(http, f"{running.url}/healthz"))[0] == 200
    finally:
        await runner.cleanup()


async def test_a_call_is_recorded_in_stereo_and_only_its_owner_may_fetch_it(server):
    async with new_http_session() as http:
        report = await run_interview(server.url, [Answer.spoken(ANSWER)], interview=INTERVIEW, http=http)
        await server.lines_after_call(report.interview_id)
        status, interview = await get_json(http, f"{server.url}/api/interviews/{report.interview_id}")
        assert status == 200
        assert interview["interview"]["recording_url"] == f"/api/interviews/{report.interview_id}/recording"
        (listed,) = interview["recordings"]
        assert listed["call_id"] == report.call_id
        async with http.get(f"{server.url}{interview['interview']['recording_url']}") as response:
            assert response.status == 200 and response.content_type == "audio/ogg"
            data = await response.read()
    async with new_http_session() as intruder:
        await sign_in(intruder, server.url)
        async with intruder.get(f"{server.url}/api/interviews/{report.interview_id}/recording") as response:
            assert response.status == 404
    path = Path(server.settings.recordings_path) / report.interview_id / "copy.ogg"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus" and stream.channels == 2 and stream.rate == 48000
        audio = np.concatenate([frame.to_ndarray() for frame in container.decode(audio=0)], axis=1)
    path.unlink()
    candidate, agent = audio[0], audio[1]
    seconds = audio.shape[1] / 48000
    assert abs(seconds - report.agent_audio_seconds) < 1.0, (seconds, report.agent_audio_seconds)

    def voiced(channel: np.ndarray) -> float:
        frames = channel[: len(channel) // 960 * 960].reshape(-1, 960)
        return float(np.sum(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) > 0.01)) * 0.02

    assert voiced(agent) > 5.0  # the greeting and the reply
    assert voiced(candidate) > 2.0  # the answer


async def test_recording_can_be_switched_off(tmp_path):
    runner, running = await start_server(test_settings(tmp_path, recordings=False))
    try:
        async with new_http_session() as http:
            report = await run_interview(running.url, [], interview=INTERVIEW, http=http)
            await running.lines_after_call(report.interview_id)
            async with http.get(f"{running.url}/api/interviews/{report.interview_id}/recording") as response:
                assert response.status == 404
        assert not Path(running.settings.recordings_path).exists()
    finally:
        await runner.cleanup()


@pytest.mark.usefixtures("loopback_client_process")
async def test_sigterm_during_a_call_ends_it_keeps_the_transcript_and_exits(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROVIDER") and not k.endswith("_API_KEY")}
    env.update({"PORT": str(port), "DATA_DIR": str(tmp_path / "data"), "DRAIN_GRACE_S": "1.5", "LOG_FORMAT": "json"})
    server = subprocess.Popen(
        [Path(sys.executable).parent / "mock-interviewer", "serve"], cwd=tmp_path, env=env, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as probe:
            deadline = time.monotonic() + 120
            while True:
                assert server.poll() is None, "the server exited during start-up"
                try:
                    async with probe.get(f"{url}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
            async with new_http_session() as http:
                await sign_in(http, url, interview=INTERVIEW)
                interview_id = await create_interview(http, url, INTERVIEW)
                call = LoopbackCall(url)
                await call.connect(http, interview_id)
                index, _ = await call.wait_agent_turn(0)
                await call.speak_answer(Answer.spoken(ANSWER), index)
                server.send_signal(signal.SIGTERM)
                # Draining: /readyz turns 503 (the balancer stops sending calls here) while the call goes on.
                deadline = time.monotonic() + 5
                while True:
                    async with probe.get(f"{url}/readyz") as response:
                        if response.status == 503:
                            break
                    assert time.monotonic() < deadline, "/readyz never turned 503"
                    await asyncio.sleep(0.05)
                assert not any(e.get("type") == "ended" for e in call.events)
                async with http.post(
                    f"{url}/api/interviews/{interview_id}/rtc", json={"sdp": "v=0", "type": "offer"}
                ) as r:
                    assert r.status == 503 and (await r.json())["error"]["code"] == "draining"
                await call.wait_event(lambda e: e.get("type") == "ended", timeout=15)
                assert call.ended_reason() == "server_shutdown"
                await call.close()
        started = time.monotonic()
        _, stderr = await asyncio.get_running_loop().run_in_executor(None, lambda: server.communicate(timeout=30))
        assert server.returncode == 0 and time.monotonic() - started < 20
    finally:
        if server.poll() is None:
            server.kill()
    # The transcript is all there, and the interview is open for a reconnect.
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'mock_interviewer.db'}")
    try:
        lines = await database.list_messages(uuid.UUID(interview_id))
        interview = await database.get_interview(uuid.UUID(interview_id))
    finally:
        await database.dispose()
    assert [getattr(m.role, "value", m.role) for m in lines][:3] == ["assistant", "user", "assistant"]
    assert getattr(interview.status, "value", interview.status) == "in_progress"
    # Logs: one JSON object per line, naming the call; no secrets and no transcript text.
    log_lines = [line for line in stderr.decode().splitlines() if line.strip()]
    records = [json.loads(line) for line in log_lines]
    assert any(call.call_id in r["message"] for r in records)
    assert not any("Raspberry" in line or "weather station" in line for line in log_lines)

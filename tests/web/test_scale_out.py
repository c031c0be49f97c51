"""Every core and several hosts: ``serve --workers N`` with state shared through files or Redis, PostgreSQL
migrated once, and the container's start command run as the image runs it."""

from __future__ import annotations

import asyncio
import re
import shlex
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from db import create_engine
from signaling.client.api import create_interview, sign_in
from signaling.client.base import Answer
from signaling.client.webrtc import LoopbackCall
from tests.web.test_operations import metric_value
from tests.web.workers import BIN, client_on_worker, random_ip, start_workers, worker_of

ROOT = Path(__file__).resolve().parents[2]
INTERVIEW = {"role": "Backend Engineer", "interview_type": "technical", "duration_minutes": 10}
SECRET = "a-shared-secret-key-for-the-scale-out-tests-0123456789"


def dockerfile() -> tuple[list[str], dict[str, str]]:
    """The image's start command and environment, as the Dockerfile declares them."""
    source = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    final_stage = source.split("\nFROM ")[-1]
    env: dict[str, str] = {}
    for line in final_stage.splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                name, _, value = pair.partition("=")
                env[name] = value
    command = re.search(r"^CMD (\[.*\])$", final_stage, re.MULTILINE)
    assert command, "the Dockerfile has no CMD in exec form"
    import json

    return json.loads(command.group(1)), env


def share_login(source, target, url: str) -> None:
    """Give ``target`` the login cookie of ``source`` (the same candidate, another connection)."""
    from yarl import URL

    target.cookie_jar.clear()
    target.cookie_jar.update_cookies(source.cookie_jar.filter_cookies(URL(url)), URL(url))


def candidate_ports(sdp: str) -> list[int]:
    return [int(line.split()[5]) for line in sdp.splitlines() if line.startswith("a=candidate:")]


async def outside_a_minute_boundary() -> None:
    """Rate-limit windows are wall-clock minutes: start a burst well inside one."""
    import time

    if time.time() % 60 > 55:
        await asyncio.sleep(61 - time.time() % 60)


async def wait_for(predicate, timeout: float = 20.0, every: float = 0.2):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(every)


@pytest.mark.usefixtures("loopback_client_process")
async def test_the_image_command_serves_calls_on_every_worker_and_the_status_counts_them_all(tmp_path):
    command, image_env = dockerfile()
    assert command[:2] == ["mock-interviewer", "serve"]
    # The container's environment, on this machine's loopback and the test's own port and folder.
    env = {k: v for k, v in image_env.items() if k not in {"HOST", "PORT", "DATA_DIR"}}
    server = await start_workers(tmp_path, workers=2, command=[str(BIN / command[0]), *command[1:]], WORKERS="2", **env)
    low, high = int(image_env["RTC_PORT_MIN"]), int(image_env["RTC_PORT_MAX"])
    clients, calls = [], []
    try:
        first, first_worker = await client_on_worker(server)
        second, second_worker = await client_on_worker(server, avoid={first_worker})
        clients = [first, second]
        for http in clients:
            await sign_in(http, server.url, interview=INTERVIEW)
            call = LoopbackCall(server.url)
            await call.connect(http, await create_interview(http, server.url, INTERVIEW))
            await call.wait_agent_turn(0)
            calls.append(call)
        assert [await worker_of(server, http) for http in clients] == [first_worker, second_worker]

        # Media sockets in the image's UDP range, on both workers.
        for call in calls:
            ports = candidate_ports(call.pc.remoteDescription.sdp)
            assert ports and all(low <= port <= high for port in ports), ports

        # The status, asked of either worker, lists both calls, each on its own worker.
        async def both_listed():
            status = await server.status()
            return status if len(status["active_calls"]) == 2 else None

        status = await wait_for(both_listed)
        assert {c["worker"] for c in status["active_calls"]} == {first_worker, second_worker}
        assert {w["worker"] for w in status["workers"]} == {first_worker, second_worker}
        assert status["shared_state"] == {"kind": "files", "ok": True}
        assert status["since_start"]["calls"] == 2

        # /metrics from one worker counts the whole server.
        metrics = await server.metrics()
        assert metric_value(metrics, "mock_interviewer_calls_started_total") == 2
        assert metric_value(metrics, "mock_interviewer_active_calls") == 2

        # Both workers sign with the one key they generated together: a login from one works on the other.
        async with first.get(f"{server.url}/api/user/profile") as response:
            email = (await response.json())["user"]["email"]
        share_login(first, second, server.url)
        async with second.get(f"{server.url}/api/user/profile") as response:
            assert response.status == 200 and (await response.json())["user"]["email"] == email
        assert len((tmp_path / "data" / "secret_key").read_text().strip()) > 40

        # SIGTERM drains every worker: each call ends with server_shutdown and the server exits cleanly.
        server.process.send_signal(15)
        for call in calls:
            await call.wait_event(lambda e: e.get("type") == "ended", timeout=30)
            assert call.ended_reason() == "server_shutdown"
        code = await asyncio.get_running_loop().run_in_executor(None, server.stop)
        assert code == 0, server.log_text()[-3000:]
    finally:
        for call in calls:
            await call.close()
        for http in clients:
            await http.close()
        server.stop()


@pytest.mark.usefixtures("loopback_client_process")
async def test_with_redis_a_newer_call_on_another_worker_replaces_the_older_and_limits_are_shared(
    tmp_path, redis_server, postgres_cluster
):
    database = f"scale_{uuid.uuid4().hex[:12]}"
    url = await postgres_cluster.create_database(database)
    limit = 30
    server = await start_workers(
        tmp_path,
        workers=2,
        DATABASE_URL=url,
        REDIS_URL=redis_server.url,
        REDIS_PREFIX=redis_server.prefix(),
        SECRET_KEY=SECRET,
        TRUSTED_PROXIES="127.0.0.1",
        RATE_LIMIT_PER_MINUTE=str(limit),
        LEASE_TTL_S="3",
    )
    clients, calls = [], []
    try:
        # Two workers migrated one fresh PostgreSQL database at once: one schema, at the newest revision.
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
        finally:
            await engine.dispose()
        assert [row[0] for row in versions] == ["0002"]
        assert "Traceback" not in server.log_text()

        candidate_ip = random_ip()
        first, first_worker = await client_on_worker(server, forwarded_for=candidate_ip)
        second, second_worker = await client_on_worker(server, avoid={first_worker}, forwarded_for=candidate_ip)
        clients = [first, second]
        await sign_in(first, server.url, interview=INTERVIEW)
        interview_id = await create_interview(first, server.url, INTERVIEW)
        older = LoopbackCall(server.url)
        await older.connect(first, interview_id)
        index, _ = await older.wait_agent_turn(0)
        await older.speak_answer(Answer.spoken("I built the billing service in Go and Postgres"), index)

        # The same candidate opens the interview again, and the connection lands on the other worker.
        share_login(first, second, server.url)
        newer = LoopbackCall(server.url)
        calls = [older, newer]
        await newer.connect(second, interview_id)
        assert await worker_of(server, second) == second_worker
        await older.wait_event(lambda e: e.get("type") == "ended", timeout=15)
        assert older.ended_reason() == "replaced"
        await newer.wait_agent_turn(0)

        async def only_the_newer():
            status = await server.status()
            live = status["active_calls"]
            return status if len(live) == 1 and live[0]["worker"] == second_worker else None

        status = await wait_for(only_the_newer)
        assert status["shared_state"] == {"kind": "redis", "ok": True}
        assert len(status["workers"]) == 2
        assert status["since_start"]["calls_ended"].get("replaced") == 1

        # Rate limits hold across workers: one client address, two workers, one budget.
        address = random_ip()
        a, a_worker = await client_on_worker(server, forwarded_for=address)
        b, _ = await client_on_worker(server, avoid={a_worker}, forwarded_for=address)
        clients += [a, b]
        await outside_a_minute_boundary()
        statuses = []
        for _ in range(limit):
            for http in (a, b):
                async with http.get(f"{server.url}/api/config") as response:
                    statuses.append(response.status)
        # One budget for both workers (finding each client's worker may have spent some of it already).
        assert statuses.count(200) <= limit and statuses.count(429) >= limit
        assert statuses[-2:] == [429, 429], "both workers refuse once the shared budget is spent"
        # Another address has its own budget: the header is believed from the trusted proxy (127.0.0.1).
        other, _ = await client_on_worker(server, forwarded_for=random_ip())
        clients.append(other)
        async with other.get(f"{server.url}/api/config") as response:
            assert response.status == 200
    finally:
        for call in calls:
            await call.close()
        for http in clients:
            await http.close()
        code = await asyncio.get_running_loop().run_in_executor(None, server.stop)
        await postgres_cluster.drop_database(database)
    assert code == 0, server.log_text()[-3000:]
    assert SECRET not in server.log_text()


@pytest.mark.parametrize(
    "shared",
    [
        {"REDIS_URL": "redis://127.0.0.1:1/0"},
        {"DATABASE_URL": "postgresql://interviewer:pw@127.0.0.1:1/interviewer"},
    ],
    ids=["redis", "postgresql"],
)
async def test_startup_refuses_a_shared_deployment_without_a_secret_key(tmp_path, shared):
    from tests.web.workers import server_env

    process = await asyncio.create_subprocess_exec(
        str(BIN / "mock-interviewer"),
        "serve",
        "--workers",
        "2",
        cwd=tmp_path,
        env=server_env(tmp_path / "data", 1, **shared),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "SECRET_KEY must be set" in stderr.decode()
    assert not (tmp_path / "data" / "secret_key").exists()


def test_the_compose_file_configures_the_app_with_settings_it_has():
    import yaml

    from web.settings import Settings

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app, caddy = compose["services"]["app"], compose["services"]["caddy"]
    known = {name.upper() for name in Settings.model_fields}
    assert set(app["environment"]) <= known, set(app["environment"]) - known
    _, image_env = dockerfile()
    assert set(image_env) - {"PYTHONUNBUFFERED"} <= known
    # The app believes forwarded headers from the TLS proxy, and only from it.
    assert app["environment"]["TRUSTED_PROXIES"] == caddy["networks"]["internal"]["ipv4_address"]
    assert {"postgres", "redis"} <= set(compose["services"]) and "REDIS_URL" in app["environment"]
    low, high = image_env["RTC_PORT_MIN"], image_env["RTC_PORT_MAX"]
    assert f"{low}-{high}:{low}-{high}/udp" in app["ports"]
    assert f"EXPOSE 8080/tcp {low}-{high}/udp" in (ROOT / "Dockerfile").read_text()

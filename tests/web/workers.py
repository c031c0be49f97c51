"""Helpers for the scale-out tests: a real ``mock-interviewer serve --workers N`` process, and HTTP clients held
on one worker.

With ``SO_REUSEPORT`` the kernel hands each new connection to one worker and keeps it there; a client whose
connection pool holds a single kept-alive connection talks to one worker for as long as it lives. ``/api/status``
names the worker that answered, so a test can open clients until it holds one on each worker.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import free_port

BIN = Path(sys.executable).parent
TOKEN = "scale-out-status-token"


def server_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a test server: this one without provider choices or keys, on 127.0.0.1."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_PROVIDER", "_API_KEY")) and k not in {"REDIS_URL", "DATABASE_URL", "SECRET_KEY"}
    }
    env.update(
        {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DATA_DIR": str(data_dir),
            "STATUS_TOKEN": TOKEN,
            "RATE_LIMIT_PER_MINUTE": "100000",
            "AUTH_RATE_LIMIT_PER_MINUTE": "100000",
            "RECORDINGS": "false",
            "STATUS_PUBLISH_INTERVAL_S": "0.5",
            # A client is pinned to a worker by its one kept-alive connection (``new_client``), idle while a call
            # runs: the server must not close it after the production idle timeout.
            "HTTP_IDLE_TIMEOUT_S": "300",
            **extra,
        }
    )
    return env


@dataclass
class WorkersServer:
    """A running multi-worker server."""

    process: subprocess.Popen[bytes]
    url: str
    workers: int
    log: Path
    headers: dict[str, str] = field(default_factory=lambda: {"Authorization": f"Bearer {TOKEN}"})

    async def status(self, http: aiohttp.ClientSession | None = None) -> dict[str, Any]:
        """``/api/status`` (from whichever worker answers; a fresh client comes from a fresh address, so the
        polling never spends a rate limit the test measures)."""
        headers = dict(self.headers)
        if http is None:
            headers["X-Forwarded-For"] = random_ip()
        async with aiohttp.ClientSession() if http is None else _borrowed(http) as client:
            async with client.get(f"{self.url}/api/status", headers=headers) as response:
                assert response.status == 200, await response.text()
                return await response.json()

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as client, client.get(f"{self.url}/metrics") as response:
            return await response.text()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, and the exit status once every worker has drained."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


class _borrowed:
    """An ``async with`` that does not close a session it did not open."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.http

    async def __aexit__(self, *exc: object) -> None:
        return None


async def start_workers(
    tmp_path: Path, workers: int = 2, command: list[str] | None = None, **env: str
) -> WorkersServer:
    """Start ``mock-interviewer serve --workers N`` and wait until every worker shows in the status."""
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    argv = command or [str(BIN / "mock-interviewer"), "serve", "--workers", str(workers)]
    process = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=server_env(tmp_path / "data", port, **env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = WorkersServer(process, f"http://127.0.0.1:{port}", workers, log)
    deadline = time.monotonic() + 180
    async with aiohttp.ClientSession() as probe:
        while True:
            assert process.poll() is None, f"the server exited during start-up:\n{server.log_text()[-3000:]}"
            try:
                headers = {**server.headers, "X-Forwarded-For": random_ip()}
                async with probe.get(f"{server.url}/api/status", headers=headers) as response:
                    if response.status == 200 and len((await response.json())["workers"]) == workers:
                        return server
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, f"the workers did not come up:\n{server.log_text()[-3000:]}"
            await asyncio.sleep(0.3)


def new_client(forwarded_for: str | None = None) -> aiohttp.ClientSession:
    """A client with one kept-alive connection (so one worker), keeping its login cookie."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=1, force_close=False, keepalive_timeout=300),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers=headers,
    )


async def client_on_worker(
    server: WorkersServer, avoid: set[str] = frozenset(), forwarded_for: str | None = None, attempts: int = 60
) -> tuple[aiohttp.ClientSession, str]:
    """A client whose connection is held by a worker not in ``avoid``, and that worker's name."""
    for _ in range(attempts):
        http = new_client(forwarded_for)
        worker = (await server.status(http))["worker"]
        if worker not in avoid:
            return http, worker
        await http.close()
    raise AssertionError(f"no connection reached a worker other than {avoid}")


async def worker_of(server: WorkersServer, http: aiohttp.ClientSession) -> str:
    """The worker holding this client's connection (to check it is still the same one)."""
    return (await server.status(http))["worker"]


def random_ip() -> str:
    """A documentation address (TEST-NET-3) for X-Forwarded-For."""
    return f"203.0.113.{secrets.randbelow(250) + 1}"

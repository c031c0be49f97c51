"""A throwaway ``redis-server`` for the tests: started once per run, on 127.0.0.1 and a free port, nothing saved.

    from tests.redis_server import redis_server  # noqa: F401  (a session fixture)

    async def test_something(redis_server):
        url = redis_server.url          # redis://127.0.0.1:<port>/0
        prefix = redis_server.prefix()  # a fresh key prefix, so tests never see each other's keys

Debian's ``redis-server`` package provides the server; ``make test`` installs it when it is missing.
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


class RedisNotInstalled(RuntimeError):
    """``redis-server`` is not on this machine."""


@dataclass
class RedisServer:
    """A running server reachable on 127.0.0.1:``port`` only."""

    process: subprocess.Popen[bytes]
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def prefix() -> str:
        """A key prefix no other test uses."""
        return f"test-{secrets.token_hex(4)}"

    def stop(self) -> None:
        """Stop the server and remove its folder; calling it again does nothing."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_redis() -> RedisServer:
    """Start ``redis-server`` in a new temporary folder; the caller stops it."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RedisNotInstalled(
            "redis-server was not found: the scale-out tests share state through a real Redis. `make test` "
            "installs Debian's redis-server package when it is missing (or: apt-get install redis-server)."
        )
    root = Path(tempfile.mkdtemp(prefix="mock-interviewer-redis-"))
    for _ in range(5):
        port = _free_port()
        command = [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
            "--protected-mode",
            "yes",
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)
        if _wait_for(port, process):
            return RedisServer(process, root, port)
        process.kill()
        process.wait()
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError("redis-server did not start")


def _wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_shared: RedisServer | None = None
_shared_lock = threading.Lock()


def shared_redis() -> RedisServer:
    """The test run's Redis, started on first use and stopped when the process exits."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = start_redis()
            atexit.register(_shared.stop)
        return _shared


@pytest.fixture(scope="session")
def redis_server() -> RedisServer:
    """The Redis server shared by every test of the run."""
    return shared_redis()

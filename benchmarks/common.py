"""Helpers shared by the benchmarks: a server in a subprocess, percentiles, result files."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_process(
    command: list[str], health_url: str, name: str, timeout: float = 120.0, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command``, wait until ``health_url`` answers (or fail if the process exits or ``timeout`` passes),
    yield the process, and stop it at the end (SIGTERM, then SIGKILL after 15 s)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, **popen)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited during start-up")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(health_url, timeout=1).close()
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start in time")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def server_process(env: dict[str, str] | None = None, data_dir: Path | None = None) -> Iterator[str]:
    """`mock-interviewer serve` on 127.0.0.1 and a free port, in its own process; yields its URL."""
    port = free_port()
    # One worker unless the caller asks for more: the figures are per process.
    environment = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "WORKERS": "1",
        # Every simulated candidate calls from 127.0.0.1 and many start at once: lift the per-address cap on
        # calls still connecting (an abuse guard, not a capacity limit).
        "MAX_PENDING_CALLS_PER_ADDRESS": "10000",
        **(env or {}),
    }
    if data_dir is not None:
        environment["DATA_DIR"] = str(data_dir)
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "web.cli", "serve"]
    with running_process(command, url + "/", "the server", cwd=ROOT, env=environment):
        yield url


def percentiles(values: list[float | None]) -> dict[str, float | None]:
    """p50 and p95 of the values that exist (None when there are none)."""
    data = np.asarray([v for v in values if v is not None], dtype=float)
    if data.size == 0:
        return {"p50": None, "p95": None, "n": 0}
    return {
        "p50": round(float(np.percentile(data, 50)), 1),
        "p95": round(float(np.percentile(data, 95)), 1),
        "n": int(data.size),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    """benchmarks/results/NAME.json (benchmarks/results/quick/NAME.json in a quick run)."""
    # A quick run (`make bench-quick`) writes beside the full figures, never over them.
    folder = RESULTS / "quick" if os.environ.get("MOCK_INTERVIEWER_BENCH_QUICK") == "1" else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(
        json.dumps({"benchmark": name, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), **data}, indent=2)
    )
    return path

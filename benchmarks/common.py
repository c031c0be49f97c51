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
        **(env or {}),
    }
    if data_dir is not None:
        environment["DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve"], cwd=ROOT, env=environment, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url + "/", timeout=1).close()
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in time")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


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

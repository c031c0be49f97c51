"""``mock-interviewer serve --workers N``: N worker processes answering on one port.

Each worker is a fresh interpreter running ``mock-interviewer serve --worker``: the very same server as with one
worker (its own event loop, its own calls, the graceful drain on SIGTERM), bound with ``SO_REUSEPORT`` so the
kernel spreads new connections across the workers. A call lives wholly in the worker that answered its offer
(signaling is one HTTP request), so nothing needs sticky routing.

The supervisor makes a private folder for what the workers share on this host: Prometheus's multiprocess files
(``PROMETHEUS_MULTIPROC_DIR``, so ``/metrics`` from any worker counts the whole server) and, without Redis, each
worker's snapshot of its live calls (``WORKER_STATE_DIR``, so ``/api/status`` lists every worker's calls). It
forwards SIGTERM and SIGINT to every worker, waits for their drains, restarts a worker that dies, and removes
the folder when it exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from web.settings import Settings

log = logging.getLogger("mock_interviewer.supervisor")

#: A worker that dies within this long of starting counts as a failed start.
FAST_FAILURE_S = 10.0
#: After this many failed starts in a row the supervisor gives up (a port taken, a broken configuration).
MAX_FAST_FAILURES = 5
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the worker gets SIGTERM if the supervisor itself is killed, so no worker is orphaned."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Worker:
    """One worker process and when it started."""

    slot: int
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)


class Supervisor:
    """Starts ``count`` workers, keeps them running, and stops them together."""

    def __init__(self, settings: Settings, count: int, worker_command: list[str] | None = None) -> None:
        if count < 1:
            raise ValueError("at least one worker")
        if settings.port == 0:
            raise ValueError("several workers share one port: give a fixed PORT (not 0)")
        self.settings = settings
        self.count = count
        self.worker_command = worker_command or [sys.executable, "-m", "web.cli", "serve", "--worker"]
        self.workers: dict[int, Worker] = {}
        self._stopping = False
        self._fast_failures = 0
        self._root: Path | None = None

    # ------------------------------------------------------------------ environment of the workers

    def _worker_env(self, root: Path) -> dict[str, str]:
        metrics, calls = root / "metrics", root / "calls"
        metrics.mkdir()
        calls.mkdir()
        env = dict(os.environ)
        env.update(
            {
                "HOST": self.settings.host,
                "PORT": str(self.settings.port),
                "WORKERS": "1",
                # prometheus_client reads this variable itself, at import: it must be set before the worker starts.
                "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                "WORKER_STATE_DIR": str(calls),
            }
        )
        return env

    def _spawn(self, slot: int, env: dict[str, str]) -> None:
        process = subprocess.Popen(self.worker_command, env=env, preexec_fn=_die_with_parent)
        self.workers[slot] = Worker(slot, process)
        log.info("worker %d started (pid %d)", slot, process.pid)

    # ------------------------------------------------------------------ running

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self._stopping:
            log.info("%s: stopping %d worker(s)", signal.Signals(signum).name, len(self.workers))
        self._stopping = True

    def run(self) -> int:
        """Run until SIGTERM or SIGINT (or repeated failed starts); returns the exit status."""
        self._root = Path(tempfile.mkdtemp(prefix="mock-interviewer-"))
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            env = self._worker_env(self._root)
            for slot in range(self.count):
                self._spawn(slot, env)
            log.info(
                "serving http://%s:%d with %d workers (pid %d supervises)",
                self.settings.host,
                self.settings.port,
                self.count,
                os.getpid(),
            )
            failed = self._watch(env)
            clean = self._stop_all()
            return 1 if failed or not clean else 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            shutil.rmtree(self._root, ignore_errors=True)

    def _watch(self, env: dict[str, str]) -> bool:
        """Restart workers that die until asked to stop; True when it gave up on failed starts."""
        while not self._stopping:
            time.sleep(0.2)
            for slot, worker in list(self.workers.items()):
                code = worker.process.poll()
                if code is None or self._stopping:
                    continue
                self._forget(worker)
                lived = time.monotonic() - worker.started
                self._fast_failures = self._fast_failures + 1 if lived < FAST_FAILURE_S else 0
                log.error("worker %d (pid %d) exited with %d after %.0f s", slot, worker.process.pid, code, lived)
                if self._fast_failures >= MAX_FAST_FAILURES:
                    log.error("workers keep failing at start; giving up")
                    return True
                self._pause(min(30.0, 0.5 * 2**self._fast_failures) if self._fast_failures else 0.0)
                if not self._stopping:
                    self._spawn(slot, env)
        return False

    def _pause(self, seconds: float) -> None:
        """Wait before a restart, but no longer than until a stop is asked for."""
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            time.sleep(0.1)

    def _forget(self, worker: Worker) -> None:
        """A worker is gone: drop its live gauges from the shared Prometheus files."""
        del self.workers[worker.slot]
        if self._root is not None:
            from prometheus_client import multiprocess

            with contextlib.suppress(Exception):
                multiprocess.mark_process_dead(worker.process.pid, str(self._root / "metrics"))

    def _stop_all(self) -> bool:
        """SIGTERM to every worker, then wait for their drains; True when every worker exited cleanly."""
        for worker in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.drain_grace_s + self.settings.shutdown_timeout_s + 5.0
        clean = True
        for worker in list(self.workers.values()):
            try:
                code = worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d (pid %d) did not stop in time; killing it", worker.slot, worker.process.pid)
                worker.process.kill()
                code = worker.process.wait()
            clean = clean and code == 0
            self._forget(worker)
        log.info("all workers stopped")
        return clean

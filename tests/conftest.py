"""Shared fixtures: a real server on 127.0.0.1 with the embedded providers, started once per test run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from signaling.planner import CallPlan, OpenCallPlanner
from voice_agent.events import LineCommitted, SessionEvent, SpokenLine
from web import appkeys
from web.app import create_app
from web.settings import Settings

RESULTS_DIR = Path(__file__).parent / "results"


class RecordingPlanner(OpenCallPlanner):
    """Opens calls like the open planner and keeps every transcript line the server commits, per interview."""

    def __init__(self) -> None:
        self.lines: dict[str, list[SpokenLine]] = {}

    async def plan(self, request: web.Request, interview_id: str, body: dict) -> CallPlan:
        plan = await super().plan(request, interview_id, body)
        plan.on_event = self._record
        return plan

    def _record(self, call, event: SessionEvent) -> None:
        if isinstance(event, LineCommitted):
            self.lines.setdefault(call.interview_id, []).append(event.line)


@dataclass
class RunningServer:
    """A server the tests can call: its base URL, its application (to look at live calls) and the lines it
    committed."""

    url: str
    app: web.Application
    settings: Settings
    planner: RecordingPlanner

    @property
    def calls(self):
        return self.app[appkeys.CALLS]

    def lines(self, interview_id: str) -> list[SpokenLine]:
        return self.planner.lines.get(interview_id, [])


async def start_server(settings: Settings) -> tuple[web.AppRunner, RunningServer]:
    """Start the whole application on 127.0.0.1 and a free port."""
    planner = RecordingPlanner()
    app = create_app(settings, planner=planner)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, RunningServer(f"http://127.0.0.1:{port}", app, settings, planner)


def test_settings(tmp_path: Path, **overrides) -> Settings:
    """Settings for a test server: loopback only, nothing read from a developer's .env."""
    values = {"host": "127.0.0.1", "port": 0, "data_dir": tmp_path, **overrides}
    return Settings(_env_file=None, **values)


test_settings.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    """The server with its embedded offline providers, as `make run` starts it."""
    runner, running = await start_server(test_settings(tmp_path_factory.mktemp("server")))
    yield running
    await runner.cleanup()


@pytest.fixture(scope="session")
def results_dir() -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    return RESULTS_DIR

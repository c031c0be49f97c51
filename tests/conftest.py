"""Shared fixtures: a real server on 127.0.0.1 with the embedded providers, started once per test run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from signaling.client.media_setup import prepare_client_process
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.openai import FakeOpenAI
from tests.postgres import postgres_cluster  # noqa: F401  (a fixture: one throwaway PostgreSQL per run)
from tests.redis_server import redis_server  # noqa: F401  (a fixture: one throwaway Redis per run)
from web import appkeys
from web.app import create_app
from web.server import build_runner
from web.settings import Settings

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass
class RunningServer:
    """A server the tests can call: its base URL, its application (live calls) and its database."""

    url: str
    app: web.Application
    settings: Settings

    @property
    def calls(self):
        return self.app[appkeys.CALLS]

    @property
    def db(self):
        return self.app[appkeys.DATABASE]

    async def lines(self, interview_id: str) -> list[Any]:
        """The transcript lines stored for an interview so far, in order."""
        return await self.db.list_messages(uuid.UUID(interview_id))

    async def lines_after_call(self, interview_id: str, timeout: float = 15.0) -> list[Any]:
        """The transcript once the interview's call has fully ended (its last lines flushed)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.calls.for_interview(interview_id):
            assert asyncio.get_running_loop().time() < deadline, "the call did not end"
            await asyncio.sleep(0.05)
        return await self.lines(interview_id)


async def start_server(settings: Settings) -> tuple[web.AppRunner, RunningServer]:
    """Start the whole application on 127.0.0.1 and a free port."""
    app = create_app(settings)
    runner = build_runner(app, settings)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, RunningServer(f"http://127.0.0.1:{port}", app, settings)


def test_settings(data_dir: Path, **overrides) -> Settings:
    """Settings for a test server: loopback only, nothing read from a developer's .env, and rate limits
    raised (every test comes from 127.0.0.1; the rate-limit tests set their own)."""
    values = {
        "host": "127.0.0.1",
        "port": 0,
        "data_dir": data_dir,
        "rate_limit_per_minute": 100_000,
        "auth_rate_limit_per_minute": 100_000,
        **overrides,
    }
    return Settings(_env_file=None, **values)


test_settings.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    """The server with its embedded offline providers and a SQLite database, as `make run` starts it."""
    runner, running = await start_server(test_settings(tmp_path_factory.mktemp("server")))
    yield running
    await runner.cleanup()


@pytest.fixture
def loopback_client_process() -> None:
    """This process set up for the loopback client as its entry points set theirs up (ICE host candidates on
    127.0.0.1, the speech jitter buffer): for a test whose server runs in another process, so that no server
    started here has done it."""
    prepare_client_process("http://127.0.0.1")


@pytest.fixture
async def deepgram():
    """A local fake of Deepgram's live API (key ``dg-test-key``)."""
    async with FakeDeepgram(api_key="dg-test-key") as fake:
        yield fake


@pytest.fixture
async def anthropic_api():
    """A local fake of Anthropic's Messages API (key ``sk-ant-test``)."""
    async with FakeAnthropic(api_key="sk-ant-test") as fake:
        yield fake


@pytest.fixture
async def openai_api():
    """A local fake of OpenAI's chat, speech and transcription APIs (key ``sk-openai-test``)."""
    async with FakeOpenAI(api_key="sk-openai-test") as fake:
        yield fake


@pytest.fixture(scope="session")
def results_dir() -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    return RESULTS_DIR

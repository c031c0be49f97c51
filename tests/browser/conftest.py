"""Browser tests: Debian's Chromium driven by Playwright against the real server on 127.0.0.1.

Chromium's fake microphone plays a WAV made here with eSpeak NG: silence while the interviewer greets the
candidate, then a spoken answer. The fake media UI grants the microphone; the denied-microphone test launches
its own browser without it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

from signaling.client.audio import speak, write_wav
from tests.conftest import RunningServer
from web import appkeys

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 812}
#: What the candidate says into the fake microphone (words the embedded STT hears well).
ANSWER = "My favourite project was a weather station built with a Raspberry Pi"
#: Silence before the answer: the interviewer's greeting (about 20 s) plays first.
ANSWER_AFTER_S = 23.0
SAMPLE_RATE = 48_000

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "tests" / "results" / "screenshots"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
#: Screenshots that also go to docs/ (for the README) when UPDATE_DOCS_SCREENSHOTS=1. The interview page is the
#: one with a ready report on a realistic transcript (test_interviews.py), not the short journey's.
DOCS_NAMES = {"call": "call.png", "interview-feedback": "interview.png"}

BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath) and not os.access(CHROMIUM, os.X_OK):
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is missing (scripts/ensure-system-packages.sh)"))


@pytest.fixture(scope="session")
def fake_microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The WAV Chromium's fake microphone plays once (from getUserMedia on): silence, the answer, silence."""
    answer = speak(ANSWER)
    silence = np.zeros(int(ANSWER_AFTER_S * SAMPLE_RATE), dtype=np.int16)
    tail = np.zeros(3 * SAMPLE_RATE, dtype=np.int16)
    path = tmp_path_factory.mktemp("microphone") / "answer.wav"
    write_wav(path, np.concatenate([silence, answer, tail]))
    return path


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as p:
        yield p


async def launch(playwright: Playwright, *extra: str) -> Browser:
    return await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*BASE_ARGS, *extra])


@pytest.fixture(scope="session")
async def browser(playwright: Playwright, fake_microphone: Path) -> AsyncIterator[Browser]:
    """Chromium with a microphone that is granted at once and plays the answer WAV."""
    browser = await launch(
        playwright, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={fake_microphone}%noloop"
    )
    yield browser
    await browser.close()


@dataclass
class Visit:
    """A browser context with its page, and whatever the page reported that should never happen."""

    context: BrowserContext
    page: Page
    server: RunningServer
    problems: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    async def goto(self, path: str) -> None:
        await self.page.goto(self.url(path))

    async def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """Call the API with this context's cookies (the browser's login)."""
        response = await self.context.request.fetch(self.url(path), method=method, data=body)
        return response.status, await response.json()

    async def signup(self, **fields: Any) -> dict[str, Any]:
        """A new account through the API; the context is then logged in."""
        body = {
            "email": f"candidate-{secrets.token_hex(5)}@example.org",
            "password": PASSWORD,
            "full_name": "Grace Hopper",
            "target_role": "Software Engineer",
            "experience_level": "mid",
            **fields,
        }
        status, data = await self.api("POST", "/api/auth/signup", body)
        assert status == 201, data
        return {**data["user"], "password": body["password"]}

    async def create_interview(self, **fields: Any) -> dict[str, Any]:
        body = {"role": "Software Engineer", "interview_type": "mixed", "duration_minutes": 10, **fields}
        status, data = await self.api("POST", "/api/interviews/create", body)
        assert status == 201, data
        return data["interview"]

    async def feedback_written(self, interview_id: str) -> None:
        """Wait until the server's own feedback writer (started when the interview completed) is done with it, so
        a report the test then writes into the database is not overwritten."""
        await self.server.app[appkeys.FEEDBACK].wait(uuid.UUID(interview_id))

    async def screenshot(self, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="initial")
        if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1" and name in DOCS_NAMES:
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / DOCS_NAMES[name])
        return path


async def open_visit(browser: Browser, server: RunningServer, **context_options: Any) -> Visit:
    context = await browser.new_context(viewport=DESKTOP, **context_options)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    visit = Visit(context, page, server)

    def on_console(message: Any) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            visit.problems.append(f"CSP: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: visit.problems.append(f"uncaught: {error}"))
    return visit


@pytest.fixture
async def visit(browser: Browser, server: RunningServer) -> AsyncIterator[Visit]:
    """A fresh browser context (no login) on the server, desktop-sized."""
    visit = await open_visit(browser, server)
    yield visit
    await close_visit(visit)


async def close_visit(visit: Visit) -> None:
    """Close the context (hanging up its calls), wait until the server has let them go, and check that the
    pages reported nothing wrong."""
    await visit.context.close()
    deadline = asyncio.get_running_loop().time() + 15
    while len(visit.server.calls) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert not len(visit.server.calls), "a call outlived its browser"
    assert not visit.problems, visit.problems

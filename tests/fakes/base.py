"""What every provider fake shares: a real aiohttp server on 127.0.0.1, request recording, scripted faults.

A fake is started and stopped around a test::

    async with FakeAnthropic(api_key="sk-test") as fake:
        client = AsyncAnthropic(api_key="sk-test", base_url=fake.url)
        ...
        assert fake.requests[-1].json["model"] == "claude-..."

Every request that reaches a fake is appended to ``fake.requests`` as a :class:`RecordedRequest`, including the
ones it refused (wrong key, malformed body, unknown path), so contract tests can assert what the SDK sent.

Faults are armed explicitly and consumed by the requests that follow (see :class:`FaultPlan`): each knob applies
to the next ``times`` matching requests (``times=None``: to every one until :meth:`HttpFake.reset_faults`), and
may be limited to one path (``path="/v1/audio/speech"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

#: Handler of an aiohttp route.
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RecordedFile:
    """A file part of a multipart form."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One request as the fake received it.

    ``json`` is the parsed JSON body (``None`` when there was none or it did not parse), ``form`` the text fields
    of a multipart form, ``files`` its file parts, ``body`` the raw bytes of a non-JSON, non-form body.
    ``status`` is the status the fake answered (101 for an accepted WebSocket). ``info`` holds what a fake
    derived from the request (for example the sample rate of an uploaded WAV).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, RecordedFile] = field(default_factory=dict)
    body: bytes = b""
    status: int | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class Failure:
    """An error response armed with :meth:`HttpFake.fail_next`."""

    status: int
    retry_after: float | None = None
    error_type: str | None = None
    message: str | None = None


@dataclass
class _Armed:
    value: Any
    remaining: int | None  # None: every matching request
    path: str | None


class FaultPlan:
    """Named knobs, each a queue of armed values consumed by the requests that match them."""

    def __init__(self) -> None:
        self._knobs: dict[str, list[_Armed]] = {}

    def arm(self, knob: str, value: Any, times: int | None = 1, path: str | None = None) -> None:
        """Arm ``knob`` with ``value`` for the next ``times`` requests (None: all) to ``path`` (None: any)."""
        if times is not None and times <= 0:
            return
        self._knobs.setdefault(knob, []).append(_Armed(value, times, path))

    def take(self, knob: str, path: str) -> Any:
        """The value of ``knob`` for a request to ``path`` (consuming one use), or ``None``."""
        for armed in self._knobs.get(knob, []):
            if armed.path is not None and armed.path != path:
                continue
            if armed.remaining is not None:
                armed.remaining -= 1
                if armed.remaining <= 0:
                    self._knobs[knob].remove(armed)
            return armed.value
        return None

    def clear(self) -> None:
        """Disarm everything."""
        self._knobs.clear()


_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    """A unique, provider-looking identifier."""
    return f"{prefix}{next(_ids):04d}{secrets.token_hex(8)}"


def count_input_tokens(chars: int) -> int:
    """The fakes' token estimate for a prompt: one token per four characters."""
    return max(1, chars // 4)


def count_output_tokens(text: str) -> int:
    """The fakes' token estimate for a reply: four tokens per three words."""
    return max(1, round(len(text.split()) * 4 / 3))


def split_reply(text: str, words_per_piece: int = 3) -> list[str]:
    """Cut a reply into streaming pieces of a few words each, keeping every space, so they join back to it."""
    tokens = re.findall(r"\s*\S+", text)
    pieces = ["".join(tokens[i : i + words_per_piece]) for i in range(0, len(tokens), words_per_piece)]
    return pieces or [""]


def truncate_to_tokens(text: str, max_tokens: int) -> tuple[str, bool]:
    """``text`` cut so that its token estimate stays within ``max_tokens``; whether it was cut."""
    if count_output_tokens(text) <= max_tokens:
        return text, False
    tokens = re.findall(r"\s*\S+", text)
    keep = max(1, math.floor(max_tokens * 3 / 4))
    return "".join(tokens[:keep]).strip(), True


def retry_after_headers(seconds: float | None, with_ms: bool = False) -> dict[str, str]:
    """``retry-after`` (and, as OpenAI sends it, ``retry-after-ms``) for a delay in seconds."""
    if seconds is None:
        return {}
    headers = {"retry-after": f"{seconds:g}"}
    if with_ms:
        headers["retry-after-ms"] = f"{seconds * 1000:g}"
    return headers


class FakeServer:
    """An aiohttp application served on 127.0.0.1 on a free port, started and stopped by the test.

    Subclasses add their routes in :meth:`setup_routes` and shape the errors of their provider in
    :meth:`error_response`. ``url`` is ``http://127.0.0.1:PORT`` once started.
    """

    #: Name of the provider, for messages.
    provider = "fake"

    def __init__(self, api_key: str = "test-key", host: str = "127.0.0.1") -> None:
        self.api_key = api_key
        self.host = host
        self.requests: list[RecordedRequest] = []
        self.app = web.Application(middlewares=[self._errors_middleware], client_max_size=64 * 1024 * 1024)
        self.setup_routes(self.app)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- lifecycle -----------------------------------------------------------------------------------------

    def setup_routes(self, app: web.Application) -> None:
        """Add the provider's routes (overridden)."""

    async def start(self) -> Self:
        """Listen on a free port of ``host``."""
        if self._runner is not None:
            return self
        self._closing = asyncio.Event()
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Release every stalled handler and stop serving."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing.set()
        await self.before_stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await runner.cleanup()

    async def before_stop(self) -> None:
        """Close what the fake holds open, such as WebSockets (overridden)."""

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound port (the fake must be started)."""
        if self._port is None:
            raise RuntimeError(f"the {self.provider} fake is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    # --- recording and errors ------------------------------------------------------------------------------

    def record(self, request: web.Request, **fields: Any) -> RecordedRequest:
        """Append the request (with what the handler parsed of it) to ``requests``."""
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            **fields,
        )
        self.requests.append(recorded)
        return recorded

    def error_response(self, status: int, message: str, error_type: str | None = None) -> web.Response:
        """The provider's error JSON (overridden)."""
        return web.json_response({"error": {"message": message, "type": error_type}}, status=status)

    @web.middleware
    async def _errors_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            self.record(request, status=404)
            return self.error_response(404, f"Not found: {request.method} {request.path}", "not_found_error")
        except web.HTTPMethodNotAllowed:
            self.record(request, status=405)
            return self.error_response(405, f"Method not allowed: {request.method} {request.path}")
        except ConnectionResetError:  # the client went away mid-answer (its timeout, a stall): nothing to log
            return web.Response(status=499)

    # --- helpers for handlers ------------------------------------------------------------------------------

    async def hang(self, request: web.Request) -> None:
        """Wait without answering until the client goes away or the fake stops."""
        while not self._closing.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.05):
                    await self._closing.wait()

    async def pause(self, seconds: float) -> None:
        """Sleep, cut short when the fake stops."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a background task that ``stop`` cancels."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


class HttpFake(FakeServer):
    """A JSON-over-HTTP provider with scripted faults shared by the Anthropic and OpenAI fakes.

    Knobs (each for the next ``times`` matching requests, ``times=None`` for all of them until
    :meth:`reset_faults`; ``path`` limits it to one endpoint):

    - ``fail_next(status, times=1, retry_after=None, error_type=None, message=None, path=None)``: answer that
      status with the provider's error JSON (and ``retry-after`` when given) instead of the answer.
    - ``stall_after(chunks, times=1, path=None)``: send that many chunks of a streamed answer, then hang
      without closing (a non-streamed answer hangs before its headers).
    - ``delay_first_token(seconds, times=1, path=None)``: wait that long before the first chunk (headers go
      first on a stream).
    """

    def __init__(self, api_key: str = "test-key", host: str = "127.0.0.1") -> None:
        super().__init__(api_key=api_key, host=host)
        self.faults = FaultPlan()

    def fail_next(
        self,
        status: int = 500,
        times: int | None = 1,
        retry_after: float | None = None,
        error_type: str | None = None,
        message: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` and the provider's error body."""
        self.faults.arm("fail", Failure(status, retry_after, error_type, message), times, path)

    def stall_after(self, chunks: int, times: int | None = 1, path: str | None = None) -> None:
        """Send ``chunks`` pieces of the next streamed answer, then hang without closing."""
        self.faults.arm("stall", int(chunks), times, path)

    def delay_first_token(self, seconds: float, times: int | None = 1, path: str | None = None) -> None:
        """Wait ``seconds`` before the first piece of the next answer."""
        self.faults.arm("delay", float(seconds), times, path)

    def reset_faults(self) -> None:
        """Disarm every knob."""
        self.faults.clear()

    async def read_json(self, request: web.Request) -> tuple[Any, str | None]:
        """The parsed JSON body, or the reason it is not one."""
        raw = await request.read()
        if not raw:
            return None, "the request body is empty; expected JSON"
        try:
            return json.loads(raw), None
        except ValueError as exc:
            return None, f"the request body is not valid JSON: {exc}"


async def write_sse(response: web.StreamResponse, data: Any, event: str | None = None) -> None:
    """One server-sent event (``data`` is JSON-encoded unless it is a string)."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    await response.write(f"{head}data: {payload}\n\n".encode())


def sse_response() -> web.StreamResponse:
    """A streamed ``text/event-stream`` response (chunked), not yet prepared."""
    response = web.StreamResponse(
        status=200, headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
    )
    response.enable_chunked_encoding()
    return response

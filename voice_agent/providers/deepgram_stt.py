"""Deepgram live streaming STT through the official ``deepgram-sdk`` (7.x).

One WebSocket per call, opened when the call starts (so the first answer pays no connection time) and kept
alive with ``KeepAlive`` while the candidate is silent. Each utterance of the candidate is a stream on that
socket: audio goes out as linear16 at 16 kHz, interim results come back as the words arrive, and the utterance
ends on Deepgram's endpointing (``speech_final``, after ``endpointing_ms`` of silence, sooner than the VAD's
hangover) or ``UtteranceEnd``, or on ``Finalize`` when the VAD ends it first. ``filler_words=true`` keeps
"um" and "uh" (the feedback counts them); the SDK's ``connect()`` has no keyword for it, so it goes in
``additional_query_parameters``.

If the socket drops mid-answer, the call reconnects and resends the audio of every utterance since its last
final result, so nothing the candidate said is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from deepgram import AsyncDeepgramClient
from deepgram.environment import DeepgramClientEnvironment
from pydantic import BaseModel, Field, SecretStr

from voice_agent.providers.base import (
    STT_SAMPLE_RATE,
    FaultReporter,
    ProviderError,
    ProviderHealth,
    QueueSttStream,
    Transcript,
)
from voice_agent.turn_options import TurnOptions

log = logging.getLogger(__name__)

BYTES_PER_SECOND = STT_SAMPLE_RATE * 2


class DeepgramOptions(BaseModel):
    """Deepgram live transcription settings."""

    api_key: SecretStr | None = None
    base_url: str = Field("", description="https://api.deepgram.com unless set (the WebSocket follows it)")
    model: str = "nova-3"
    language: str = "en"
    endpointing_ms: int = Field(
        default_factory=lambda: TurnOptions().stt_endpointing_ms,
        description="silence after which Deepgram marks speech_final (TurnOptions.stt_endpointing_ms)",
    )
    utterance_end_ms: int = Field(1000, description="gap after the last word that ends an utterance")
    keepalive_s: float = Field(4.0, description="KeepAlive after this long without audio (Deepgram closes at 10 s)")
    connect_timeout_s: float = 5.0
    finalize_wait_s: float = Field(1.5, description="Deepgram may not answer Finalize when nothing is pending")
    reconnect_delays_s: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0, 4.0)


def _client(options: DeepgramOptions) -> Any:
    if options.api_key is None:
        raise ProviderError("stt", "DEEPGRAM_API_KEY is not set")
    key = options.api_key.get_secret_value()
    if not options.base_url:
        return AsyncDeepgramClient(api_key=key)
    http = options.base_url.rstrip("/")
    ws = "ws" + http[len("http") :] if http.startswith("http") else http
    environment = DeepgramClientEnvironment(base=http, production=ws, agent=ws, agent_rest=http)
    return AsyncDeepgramClient(api_key=key, environment=environment)


class DeepgramSpeechToText:
    """``SpeechToText`` backed by Deepgram's live API."""

    name = "deepgram"
    embedded = False
    streaming = True

    def __init__(self, options: DeepgramOptions) -> None:
        self.options = options
        self.client = _client(options)
        self.health = ProviderHealth()

    def connect(self) -> Any:
        """The SDK's connection context manager with this project's settings."""
        o = self.options
        return self.client.listen.v1.connect(
            model=o.model,
            language=o.language,
            encoding="linear16",
            sample_rate=STT_SAMPLE_RATE,
            channels=1,
            interim_results=True,
            endpointing=o.endpointing_ms,
            utterance_end_ms=o.utterance_end_ms,
            vad_events=True,
            smart_format=True,
            punctuate=True,
            request_options={"additional_query_parameters": {"filler_words": "true"}},
        )

    async def open_call(self, on_fault: FaultReporter | None = None) -> DeepgramCall:
        """A connection for one call, open and ready."""
        call = DeepgramCall(self, on_fault or (lambda code, message: None))
        await call.connect()
        return call

    async def open_stream(self) -> QueueSttStream:
        """A single utterance on a connection of its own (closed with the stream)."""
        call = await self.open_call()
        stream = await call.open_stream()
        stream.owned_call = call
        return stream


class DeepgramUtterance(QueueSttStream):
    """One utterance on a call's socket."""

    def __init__(self, call: DeepgramCall) -> None:
        super().__init__()
        self._call = call
        self.finals: list[str] = []
        self.interim = ""
        self.done = False
        self.finalize_sent = False
        #: (stream offset in bytes where the chunk ends, chunk) since the last final result: resent on reconnect.
        self.unconfirmed: deque[tuple[int, bytes]] = deque()
        self.owned_call: DeepgramCall | None = None

    def push(self, pcm16k: bytes, is_speech: bool = True) -> None:
        if not self.done and not self.finalize_sent:
            self._call.send_audio(self, pcm16k)

    async def finalize(self) -> None:
        if not self.done and not self.finalize_sent:
            self.finalize_sent = True
            self._call.send_finalize()
            # With nothing pending Deepgram may stay silent: then what was heard is final.
            loop = asyncio.get_running_loop()
            loop.call_later(self._call.options.finalize_wait_s, self.finish, False)

    def text(self) -> str:
        return " ".join(part for part in self.finals if part)

    def on_results(self, transcript: str, is_final: bool, speech_final: bool, from_finalize: bool, end_s: float):
        if is_final:
            if transcript:
                self.finals.append(transcript)
            self.interim = ""
            self.confirm_until(int(end_s * BYTES_PER_SECOND))
            if speech_final or from_finalize:
                self.finish(speech_final=speech_final)
            elif self.finals:
                self.emit(Transcript(self.text(), is_final=False))
        elif transcript:
            self.interim = transcript
            self.emit(Transcript(f"{self.text()} {transcript}".strip(), is_final=False))

    def confirm_until(self, offset: int) -> None:
        while self.unconfirmed and self.unconfirmed[0][0] <= offset:
            self.unconfirmed.popleft()

    def finish(self, speech_final: bool) -> None:
        if not self.done:
            self.done = True
            text = self.text() or self.interim
            self.emit(Transcript(text, is_final=True, speech_final=speech_final))

    async def aclose(self) -> None:
        self.done = True
        self._call.forget(self)
        await super().aclose()
        if self.owned_call is not None:
            await self.owned_call.aclose()


class DeepgramCall:
    """The WebSocket of one call, its sender, reader and keepalive, and its reconnects."""

    def __init__(self, provider: DeepgramSpeechToText, on_fault: FaultReporter) -> None:
        self.provider = provider
        self.options = provider.options
        self._on_fault = on_fault
        self._connection: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._outbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._utterances: deque[DeepgramUtterance] = deque()
        self._sent_bytes = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._closing = False

    async def connect(self) -> None:
        """Open the socket (raises when Deepgram refuses it)."""
        await self._open()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._send_loop(), name="deepgram-send"),
            loop.create_task(self._read_loop(), name="deepgram-read"),
        ]

    async def _open(self) -> None:
        stack = contextlib.AsyncExitStack()
        try:
            async with asyncio.timeout(self.options.connect_timeout_s):
                self._connection = await stack.enter_async_context(self.provider.connect())
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        self._sent_bytes = 0
        self._connected.set()
        self.provider.health.ok()

    async def open_stream(self) -> DeepgramUtterance:
        utterance = DeepgramUtterance(self)
        self._utterances.append(utterance)
        return utterance

    def forget(self, utterance: DeepgramUtterance) -> None:
        with contextlib.suppress(ValueError):
            self._utterances.remove(utterance)

    def send_audio(self, utterance: DeepgramUtterance, pcm: bytes) -> None:
        self._outbox.put_nowait(("audio", (utterance, pcm)))

    def send_finalize(self) -> None:
        self._outbox.put_nowait(("finalize", None))

    async def _send_loop(self) -> None:
        while not self._closing:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races the get.
                async with asyncio.timeout(self.options.keepalive_s):
                    kind, payload = await self._outbox.get()
            except TimeoutError:
                kind, payload = "keepalive", None
            await self._connected.wait()
            try:
                await self._send(kind, payload)
            except Exception as exc:  # the reader notices the drop and reconnects; this item is resent then
                log.debug("deepgram send failed: %s", exc)

    async def _send(self, kind: str, payload: Any) -> None:
        connection = self._connection
        if kind == "audio":
            utterance, pcm = payload
            self._sent_bytes += len(pcm)
            if not utterance.done:
                utterance.unconfirmed.append((self._sent_bytes, pcm))
            await connection.send_media(pcm)
        elif kind == "finalize":
            await connection.send_finalize()
        else:
            await connection.send_keep_alive()

    async def _read_loop(self) -> None:
        while not self._closing:
            try:
                async for message in self._connection:
                    self._dispatch(message)
                if self._closing:
                    return
                raise ConnectionError("Deepgram closed the connection")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._closing:
                    return
                await self._recover(exc)

    def _dispatch(self, message: Any) -> None:
        kind = getattr(message, "type", None)
        current = next((u for u in self._utterances if not u.done), None)
        if kind == "Results" and current is not None:
            alternatives = message.channel.alternatives
            transcript = alternatives[0].transcript if alternatives else ""
            end_s = float(getattr(message, "start", 0.0) or 0.0) + float(getattr(message, "duration", 0.0) or 0.0)
            current.on_results(
                transcript.strip(),
                bool(message.is_final),
                bool(getattr(message, "speech_final", False)),
                bool(getattr(message, "from_finalize", False)),
                end_s,
            )
        elif kind == "UtteranceEnd" and current is not None and (current.finals or current.interim):
            current.finish(speech_final=True)
        elif kind == "Error":
            self.provider.health.failed("api_error", str(getattr(message, "description", message))[:200])

    async def _recover(self, exc: Exception) -> None:
        """Reconnect after a drop and resend what Deepgram had not confirmed."""
        self._connected.clear()
        self.provider.health.failed("connection", exc.__class__.__name__)
        self._on_fault("stt_reconnecting", "Speech recognition dropped; reconnecting without losing the answer.")
        log.warning("deepgram connection lost (%s); reconnecting", exc.__class__.__name__)
        await self._close_connection()
        for delay in self.options.reconnect_delays_s:
            await asyncio.sleep(delay)
            try:
                await self._open()
            except Exception as error:
                self.provider.health.failed("connection", error.__class__.__name__)
                continue
            pending = [u for u in self._utterances if not u.done]
            replay: list[tuple[str, Any]] = []
            for utterance in pending:
                chunks = [pcm for _, pcm in utterance.unconfirmed]
                utterance.unconfirmed.clear()
                replay += [("audio", (utterance, pcm)) for pcm in chunks]
                if utterance.finalize_sent:
                    replay.append(("finalize", None))
            for item in replay:  # ahead of anything queued since the drop
                await self._send(*item)
            log.info("deepgram reconnected; %d utterance(s) resumed", len(pending))
            return
        self._on_fault("stt_failed", "Speech recognition is unavailable; keeping what was heard.")
        for utterance in list(self._utterances):
            utterance.finish(speech_final=False)
        self._closing = True

    async def _close_connection(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            with contextlib.suppress(Exception):
                await stack.aclose()

    async def aclose(self) -> None:
        """Close the stream politely and stop the tasks."""
        self._closing = True
        if self._connection is not None and self._connected.is_set():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection.send_close_stream(), 1.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close_connection()

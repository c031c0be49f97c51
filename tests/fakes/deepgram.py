"""A fake of Deepgram's live streaming STT (``GET /v1/listen`` upgraded to a WebSocket), for ``deepgram-sdk`` 7.x.

Point the SDK at it through its environment::

    environment = DeepgramClientEnvironment(base=fake.url, production=fake.ws_url, agent=fake.ws_url,
                                            agent_rest=fake.url)
    client = AsyncDeepgramClient(api_key=fake.api_key, environment=environment)

Recognition is scripted but driven by the audio, as Deepgram's is: the words of the next queued transcript are
revealed as speech is heard, and the silences in the audio (not the wall clock) decide the finals.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from tests.fakes.base import FakeServer, RecordedRequest

LISTEN_PATH = "/v1/listen"
#: Words Deepgram drops unless ``filler_words=true``.
FILLER_WORDS = frozenset({"uh", "um", "mhmm", "mm-mm", "uh-uh", "uh-huh", "nuh-uh"})
#: The close reason of Deepgram's idle timeout (NET-0001).
IDLE_CLOSE_REASON = "NET-0001: Deepgram did not receive audio data or a text message within the timeout window."
DEFAULT_TRANSCRIPT = "Okay."
WINDOW_S = 0.02
INTERIM_EVERY_S = 0.1
SECONDS_PER_WORD = 0.25
_BOOLEAN_PARAMS = (
    "interim_results",
    "vad_events",
    "filler_words",
    "smart_format",
    "punctuate",
    "diarize",
    "multichannel",
    "numerals",
    "profanity_filter",
    "dictation",
    "mip_opt_out",
    "detect_entities",
)


@dataclass
class ListenParams:
    """The query of a ``/v1/listen`` connection, parsed. ``endpointing`` is None when off."""

    model: str | None
    encoding: str
    sample_rate: int
    channels: int
    language: str | None
    interim_results: bool
    endpointing_ms: int | None
    utterance_end_ms: int | None
    vad_events: bool
    filler_words: bool
    smart_format: bool
    punctuate: bool


@dataclass
class ListenConnection:
    """One accepted WebSocket: its handshake, what the client sent and what the fake answered.

    ``audio`` is every binary frame's bytes joined; ``controls`` the parsed text frames (KeepAlive, Finalize,
    CloseStream...); ``sent`` every JSON message sent back; ``close_code``/``close_reason`` how it ended and
    ``closed_by`` (``"server"`` or ``"client"``).
    """

    request: RecordedRequest
    params: ListenParams
    request_id: str
    audio: bytearray = field(default_factory=bytearray)
    audio_frames: int = 0
    controls: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    closed_by: str | None = None

    @property
    def audio_bytes(self) -> int:
        """Total audio bytes received."""
        return len(self.audio)

    @property
    def audio_seconds(self) -> float:
        """Audio received, in seconds (16-bit mono at the connection's sample rate)."""
        return len(self.audio) / (2 * self.params.channels * self.params.sample_rate)

    def control_types(self) -> list[str]:
        """The ``type`` of each control message, in order."""
        return [str(c.get("type")) for c in self.controls]

    def sent_types(self) -> list[str]:
        """The ``type`` of each message sent back, in order."""
        return [str(m.get("type")) for m in self.sent]


class _BadRequest(Exception):
    pass


def _parse_params(query: dict[str, str]) -> ListenParams:
    for name in _BOOLEAN_PARAMS:
        if name in query and query[name] not in ("true", "false"):
            raise _BadRequest(f"Invalid value for {name}: {query[name]!r} (expected true or false)")

    def flag(name: str) -> bool:
        return query.get(name) == "true"

    def integer(name: str) -> int | None:
        if name not in query:
            return None
        try:
            value = int(query[name])
        except ValueError:
            raise _BadRequest(f"Invalid value for {name}: {query[name]!r}") from None
        if value < 0:
            raise _BadRequest(f"Invalid value for {name}: {value}")
        return value

    encoding = query.get("encoding")
    if encoding != "linear16":
        raise _BadRequest(f"This fake transcribes raw audio only: encoding must be linear16, not {encoding!r}")
    sample_rate = integer("sample_rate")
    if not sample_rate:
        raise _BadRequest("sample_rate is required for raw (linear16) audio")
    channels = integer("channels") or 1
    if channels != 1:
        raise _BadRequest("This fake transcribes mono audio only (channels=1)")
    endpointing: int | None = 10
    if query.get("endpointing") == "false":
        endpointing = None
    elif query.get("endpointing") == "true":
        endpointing = 10
    elif "endpointing" in query:
        endpointing = integer("endpointing")
    interim = flag("interim_results")
    utterance_end = integer("utterance_end_ms")
    if utterance_end is not None and not interim:
        raise _BadRequest("utterance_end_ms requires interim_results=true")
    return ListenParams(
        model=query.get("model"),
        encoding=encoding,
        sample_rate=sample_rate,
        channels=channels,
        language=query.get("language"),
        interim_results=interim,
        endpointing_ms=endpointing,
        utterance_end_ms=utterance_end,
        vad_events=flag("vad_events"),
        filler_words=flag("filler_words"),
        smart_format=flag("smart_format"),
        punctuate=flag("punctuate"),
    )


@dataclass
class _Utterance:
    words: list[str]  # as spoken in the script, with punctuation
    start: float
    speech_s: float = 0.0
    last_speech_end: float = 0.0
    next_interim_s: float = INTERIM_EVERY_S


class _Recognizer:
    """The scripted recogniser of one connection: audio in, Deepgram messages out."""

    def __init__(self, fake: FakeDeepgram, connection: ListenConnection) -> None:
        self.fake = fake
        self.connection = connection
        self.params = connection.params
        self.window = max(1, round(self.params.sample_rate * WINDOW_S))
        self.remainder = b""
        self.samples = np.zeros(0, np.int16)
        self.processed = 0  # samples
        self.final_cursor = 0.0
        self.utterance: _Utterance | None = None
        self.last_word_end: float | None = None  # of words not yet followed by an UtteranceEnd
        self.model_uuid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"fake-deepgram-{self.params.model}"))

    @property
    def now(self) -> float:
        return self.processed / self.params.sample_rate

    # --- input ---------------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        data = self.remainder + data
        usable = len(data) // 2 * 2
        self.remainder = data[usable:]
        self.samples = np.concatenate([self.samples, np.frombuffer(data[:usable], dtype="<i2")])
        out: list[dict[str, Any]] = []
        while self.samples.size >= self.window:
            window, self.samples = self.samples[: self.window], self.samples[self.window :]
            out += self._window(window)
        return out

    def _window(self, window: np.ndarray) -> list[dict[str, Any]]:
        start = self.now
        self.processed += window.size
        end = self.now
        out: list[dict[str, Any]] = []
        rms = float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))
        level = 20 * math.log10(rms / 32768) if rms > 0 else -math.inf
        if level > self.fake.speech_threshold_dbfs:
            utterance = self.utterance
            if utterance is None:
                utterance = self.utterance = _Utterance(self.fake.next_words(), start)
                if self.params.vad_events:
                    out.append({"type": "SpeechStarted", "channel": [0, 1], "timestamp": round(start, 3)})
            utterance.speech_s += end - start
            utterance.last_speech_end = end
            if self.params.interim_results and utterance.speech_s + 1e-9 >= utterance.next_interim_s:
                utterance.next_interim_s += INTERIM_EVERY_S
                shown = min(len(utterance.words), math.ceil(utterance.speech_s / SECONDS_PER_WORD - 1e-9))
                out.append(self._results(utterance, shown, is_final=False))
            return out
        if self.utterance is not None:
            silence_ms = (end - self.utterance.last_speech_end) * 1000
            endpointing = self.params.endpointing_ms
            if endpointing is not None and silence_ms + 1e-6 >= endpointing:
                out.append(self._final(speech_final=True))
            elif endpointing is None and self.params.utterance_end_ms and silence_ms >= self.params.utterance_end_ms:
                out.append(self._final(speech_final=False))
        if self.utterance is None and self.last_word_end is not None and self.params.utterance_end_ms:
            if (end - self.last_word_end) * 1000 + 1e-6 >= self.params.utterance_end_ms:
                out.append({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": round(self.last_word_end, 3)})
                self.last_word_end = None
        return out

    def finalize(self) -> list[dict[str, Any]]:
        """``Finalize``: the pending utterance as a final result now (nothing when no speech is pending)."""
        if self.utterance is None:
            return []
        return [self._final(speech_final=False, from_finalize=True)]

    def close(self) -> list[dict[str, Any]]:
        """``CloseStream``: flush the pending utterance, then the ``Metadata`` summary."""
        out = [self._final(speech_final=False)] if self.utterance is not None else []
        audio = bytes(self.connection.audio)
        out.append(
            {
                "type": "Metadata",
                "transaction_key": "deprecated",
                "request_id": self.connection.request_id,
                "sha256": hashlib.sha256(audio).hexdigest(),
                "created": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "duration": round(self.connection.audio_seconds, 3),
                "channels": self.params.channels,
                "models": [self.model_uuid],
                "model_info": {self.model_uuid: self._model_info()},
            }
        )
        return out

    # --- output --------------------------------------------------------------------------------------------

    def _final(self, speech_final: bool, from_finalize: bool = False) -> dict[str, Any]:
        utterance = self.utterance
        assert utterance is not None
        self.utterance = None
        message = self._results(
            utterance, len(utterance.words), is_final=True, speech_final=speech_final, from_finalize=from_finalize
        )
        self.final_cursor = self.now
        if utterance.words:
            self.last_word_end = utterance.last_speech_end
        return message

    def _model_info(self) -> dict[str, str]:
        name = self.params.model or "nova-3"
        return {"name": f"general-{name}", "version": "2026-01-01.0", "arch": name}

    def _results(
        self,
        utterance: _Utterance,
        shown: int,
        is_final: bool,
        speech_final: bool = False,
        from_finalize: bool = False,
    ) -> dict[str, Any]:
        spoken = utterance.words[:shown]
        span_end = utterance.last_speech_end
        if is_final:
            step = (span_end - utterance.start) / max(1, len(spoken))
        else:
            step = SECONDS_PER_WORD
        words = []
        for i, token in enumerate(spoken):
            start = utterance.start + i * step
            end = min(span_end, start + step)
            plain = re.sub(r"[^\w'-]", "", token).lower()
            words.append(
                {
                    "word": plain,
                    "start": round(start, 3),
                    "end": round(max(start, end), 3),
                    "confidence": 0.97,
                    "punctuated_word": token,
                }
            )
        formatted = self.params.smart_format or self.params.punctuate
        transcript = " ".join(w["punctuated_word"] if formatted else w["word"] for w in words)
        if not formatted:
            for w in words:
                del w["punctuated_word"]
        start = self.final_cursor
        return {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": round(self.now - start, 3),
            "start": round(start, 3),
            "is_final": is_final,
            "speech_final": speech_final,
            "from_finalize": from_finalize,
            "channel": {
                "alternatives": [{"transcript": transcript, "confidence": 0.98 if words else 0.0, "words": words}]
            },
            "metadata": {
                "request_id": self.connection.request_id,
                "model_info": self._model_info(),
                "model_uuid": self.model_uuid,
            },
        }


class FakeDeepgram(FakeServer):
    """Deepgram's live STT over a WebSocket at ``ws_url + "/v1/listen"``.

    Constructor: ``FakeDeepgram(api_key="test-key", idle_timeout_s=10.0, speech_threshold_dbfs=-45.0)``.

    Handshake: ``Authorization: Token <key>`` (or ``Bearer <key>``) else a plain 401 (the SDK raises
    ``ApiError(status_code=401)``); query ``encoding=linear16`` and ``sample_rate`` required, ``channels=1``,
    booleans ``true``/``false``, ``utterance_end_ms`` only with ``interim_results=true`` (else 400 with
    Deepgram's ``{"err_code", "err_msg", "request_id"}``). Plain HTTP on ``/v1/listen`` is 400, other paths 404.

    Recognition, per connection, from 20 ms windows of the audio (speech: RMS above ``speech_threshold_dbfs``):

    - speech begins: an utterance starts with the next of ``transcripts`` (``default_transcript`` when empty;
      ``filler_words`` other than ``true`` drops "um"/"uh"); ``SpeechStarted`` if ``vad_events=true``;
    - every 100 ms of speech, with ``interim_results=true``: ``Results`` ``is_final: false`` with the first k
      words, one more word per 250 ms of speech;
    - ``endpointing`` ms of silence after speech (10 when not given; ``false`` turns it off): the final
      ``Results`` (``is_final`` and ``speech_final``) with the whole utterance, which is then consumed;
      with endpointing off, ``utterance_end_ms`` of silence gives the final (``speech_final: false``);
    - ``utterance_end_ms`` (if given) after the end of the last word, with no speech since: ``UtteranceEnd``;
    - ``Finalize``: the pending utterance at once as ``is_final``, ``from_finalize: true`` (nothing if no speech
      is pending, as Deepgram documents); ``CloseStream``: the pending utterance, ``Metadata``, close 1000;
    - ``KeepAlive``: recorded, resets the idle timer; no audio or message for ``idle_timeout_s``: close 1011
      with ``IDLE_CLOSE_REASON`` (NET-0001).

    Without smart_format/punctuate, transcripts are lower case without punctuation, as Deepgram's are.

    Faults: ``drop_connection_after(seconds_of_audio)`` closes the next connection to reach that much audio with
    code 1011 (once); ``reject_next_connections(n, status=503)`` refuses the next n handshakes.

    Recorded: ``requests`` (every handshake, with ``status``), ``connections`` (:class:`ListenConnection` per
    accepted WebSocket), ``connection_count`` (accepted).
    """

    provider = "deepgram"

    def __init__(
        self,
        api_key: str = "test-key",
        idle_timeout_s: float = 10.0,
        speech_threshold_dbfs: float = -45.0,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(api_key=api_key, host=host)
        self.idle_timeout_s = idle_timeout_s
        self.speech_threshold_dbfs = speech_threshold_dbfs
        self.transcripts: list[str] = []
        self.default_transcript = DEFAULT_TRANSCRIPT
        self.connections: list[ListenConnection] = []
        self._drop_after_s: float | None = None
        self._reject: list[int] = []
        self._sockets: set[web.WebSocketResponse] = set()

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_get(LISTEN_PATH, self._listen)

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT``."""
        return f"ws://{self.host}:{self.port}"

    @property
    def connection_count(self) -> int:
        """Accepted WebSocket connections so far."""
        return len(self.connections)

    # --- knobs ---------------------------------------------------------------------------------------------

    def drop_connection_after(self, seconds_of_audio: float) -> None:
        """Close the next connection that receives ``seconds_of_audio`` of audio abruptly (1011), once."""
        self._drop_after_s = float(seconds_of_audio)

    def reject_next_connections(self, n: int, status: int = 503) -> None:
        """Refuse the next ``n`` handshakes with ``status``."""
        self._reject += [status] * n

    def next_words(self) -> list[str]:
        """The words of the next scripted utterance (consumed)."""
        text = self.transcripts.pop(0) if self.transcripts else self.default_transcript
        return text.split()

    # --- errors --------------------------------------------------------------------------------------------

    def error_response(self, status: int, message: str, error_type: str | None = None) -> web.Response:
        codes = {400: "Bad Request", 401: "INVALID_AUTH", 404: "Not Found", 503: "SERVICE_UNAVAILABLE"}
        body = {
            "err_code": error_type or codes.get(status, "ERROR"),
            "err_msg": message,
            "request_id": str(uuid.uuid4()),
        }
        return web.json_response(body, status=status)

    async def before_stop(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"server shutting down")

    # --- the endpoint --------------------------------------------------------------------------------------

    async def _listen(self, request: web.Request) -> web.StreamResponse:
        recorded = self.record(request)
        if self._reject:
            recorded.status = self._reject.pop(0)
            return self.error_response(recorded.status, "The service is temporarily unavailable.")
        authorization = request.headers.get("Authorization", "")
        if authorization not in (f"Token {self.api_key}", f"Bearer {self.api_key}"):
            recorded.status = 401
            return self.error_response(401, "Invalid credentials.", "INVALID_AUTH")
        try:
            params = _parse_params(dict(request.query))
        except _BadRequest as exc:
            recorded.status = 400
            return self.error_response(400, str(exc))
        ws = web.WebSocketResponse(autoping=True, heartbeat=None, max_msg_size=16 * 1024 * 1024)
        if not ws.can_prepare(request).ok:
            recorded.status = 400
            return self.error_response(400, "This fake serves live streaming only: connect with a WebSocket")
        request_id = str(uuid.uuid4())
        ws.headers["dg-request-id"] = request_id
        await ws.prepare(request)
        recorded.status = 101
        connection = ListenConnection(request=recorded, params=params, request_id=request_id)
        self.connections.append(connection)
        self._sockets.add(ws)
        try:
            await self._serve(ws, connection)
        except ConnectionResetError:  # the client vanished without a close frame
            connection.closed_by = connection.closed_by or "client"
        finally:
            self._sockets.discard(ws)
        return ws

    async def _serve(self, ws: web.WebSocketResponse, connection: ListenConnection) -> None:
        recognizer = _Recognizer(self, connection)
        filler_words = connection.params.filler_words

        async def send(messages: list[dict[str, Any]]) -> None:
            for message in messages:
                if message.get("type") == "Results" and not filler_words:
                    message = _without_fillers(message)
                connection.sent.append(message)
                await ws.send_str(json.dumps(message))

        async def close(code: int, reason: str) -> None:
            connection.close_code, connection.close_reason, connection.closed_by = code, reason, "server"
            await ws.close(code=code, message=reason.encode())

        while True:
            try:
                message = await ws.receive(timeout=self.idle_timeout_s)
            except TimeoutError:
                await close(1011, IDLE_CLOSE_REASON)
                return
            if message.type == WSMsgType.BINARY:
                connection.audio += message.data
                connection.audio_frames += 1
                await send(recognizer.feed(message.data))
                if self._drop_after_s is not None and connection.audio_seconds >= self._drop_after_s:
                    self._drop_after_s = None
                    await close(1011, "connection dropped by the fake (drop_connection_after)")
                    return
            elif message.type == WSMsgType.TEXT:
                try:
                    control = json.loads(message.data)
                except ValueError:
                    control = None
                if not isinstance(control, dict):
                    error = {
                        "type": "Error",
                        "variant": "SchemaError",
                        "description": "Could not parse the message.",
                        "message": message.data,
                    }
                    connection.sent.append(error)
                    await ws.send_str(json.dumps(error))
                    continue
                connection.controls.append(control)
                kind = control.get("type")
                if kind == "Finalize":
                    await send(recognizer.finalize())
                elif kind == "CloseStream":
                    await send(recognizer.close())
                    await close(1000, "")
                    return
                elif kind != "KeepAlive":
                    error = {
                        "type": "Error",
                        "variant": "SchemaError",
                        "description": f"Unknown message type {kind!r}.",
                        "message": message.data,
                    }
                    connection.sent.append(error)
                    await ws.send_str(json.dumps(error))
            else:  # CLOSE, CLOSING, CLOSED, ERROR
                if connection.closed_by is None:
                    connection.closed_by = "client"
                    connection.close_code = ws.close_code
                return


def _without_fillers(message: dict[str, Any]) -> dict[str, Any]:
    alternative = message["channel"]["alternatives"][0]
    words = [w for w in alternative["words"] if w["word"] not in FILLER_WORDS]
    if len(words) == len(alternative["words"]):
        return message
    formatted = any("punctuated_word" in w for w in words)
    transcript = " ".join(w.get("punctuated_word", w["word"]) if formatted else w["word"] for w in words)
    alternative = {**alternative, "words": words, "transcript": transcript}
    return {**message, "channel": {"alternatives": [alternative]}}

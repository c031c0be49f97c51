"""A fake of OpenAI's chat completions, speech and transcriptions endpoints, for the official ``openai`` SDK.

Point the SDK at it with ``/v1``: ``AsyncOpenAI(api_key=fake.api_key, base_url=fake.url + "/v1")`` (the same
form as an OpenAI-compatible server such as Ollama or vLLM).
"""

from __future__ import annotations

import asyncio
import io
import re
import time
import wave
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from aiohttp import web

from tests.fakes.base import (
    HttpFake,
    RecordedFile,
    RecordedRequest,
    count_input_tokens,
    count_output_tokens,
    new_id,
    retry_after_headers,
    split_reply,
    sse_response,
    truncate_to_tokens,
    write_sse,
)

CHAT_PATH = "/v1/chat/completions"
SPEECH_PATH = "/v1/audio/speech"
TRANSCRIPTIONS_PATH = "/v1/audio/transcriptions"

DEFAULT_REPLY = "Thank you, that is helpful. Could you tell me a little more about it?"
DEFAULT_TRANSCRIPT = "Okay."
#: The sample rate of OpenAI's ``pcm`` speech: 24 kHz, 16-bit little-endian, mono.
SPEECH_SAMPLE_RATE = 24_000
VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar"}
)
SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
TRANSCRIPTION_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
}
_ERROR_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}
_ERROR_MESSAGES = {
    429: "Rate limit reached for requests. Please try again shortly.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}


class FakeOpenAI(HttpFake):
    """OpenAI's ``/v1/chat/completions``, ``/v1/audio/speech`` and ``/v1/audio/transcriptions``.

    Constructor: ``FakeOpenAI(api_key="test-key")``. Every endpoint wants ``Authorization: Bearer <key>`` (401
    ``invalid_api_key`` otherwise); a malformed body is 400 with ``{"error": {"message", "type":
    "invalid_request_error", "param", "code"}}``; unknown paths are 404.

    Chat completions: body ``model``, ``messages`` (non-empty; roles ``system``/``developer``/``user``/
    ``assistant``/``tool``), optional ``stream``, ``stream_options`` (only with ``stream``),
    ``response_format`` (``json_object`` needs the word "json" in the messages, as the API insists),
    ``temperature`` in [0, 2], ``max_tokens``/``max_completion_tokens`` (a longer reply is cut, ``finish_reason:
    "length"``). Streams ``data: {chunk}`` lines: a first chunk with ``delta.role``, content chunks of a few
    words, a chunk with ``finish_reason``, a usage chunk (``choices: []``) when ``stream_options.include_usage``,
    then ``data: [DONE]``.

    Speech: JSON ``{model, input, voice, response_format?, speed?, instructions?}``; ``pcm`` streams raw 24 kHz
    s16le mono eSpeak NG speech of ``input`` in chunks of ``speech_chunk_bytes`` as it is synthesised, sentence
    by sentence; ``wav`` is a WAV file of the same. Other formats (mp3, opus, ...) are 400 in this fake.

    Transcriptions: multipart ``file`` (must be a WAV), ``model``, optional ``language``, ``prompt``,
    ``response_format`` (``json``, ``text``, ``verbose_json``, ``srt``, ``vtt``), ``temperature``; the text is
    the next of ``transcripts`` (``default_transcript`` when empty).

    Script and faults (each knob for the next ``times`` requests; ``path=`` limits it to one endpoint, e.g.
    ``path=SPEECH_PATH``; see :class:`tests.fakes.base.HttpFake`):

    - ``replies`` (chat texts), ``transcripts`` (transcription texts): consumed in order.
    - ``fail_next(status, times=1, retry_after=None, error_type=None, message=None, path=None)``: 429, 500,
      503... with ``retry-after`` and ``retry-after-ms`` when ``retry_after`` is given.
    - ``stall_after(chunks, ...)``: chat: that many content chunks then hang; speech: that many audio chunks
      then hang; transcriptions (or a non-streamed chat): hang before answering.
    - ``error_event_after(chunks, ...)``: chat stream: that many content chunks, then a ``data: {"error":
      ...}`` line and the end of the stream.
    - ``delay_first_token(seconds, ...)``: chat: wait before the first chunk (headers go first); also
      delays a transcription's answer.
    - ``delay_first_byte(seconds, ...)``: speech: wait before the response headers.

    Recorded: ``requests`` (every request) and the per-endpoint views ``chat_requests``, ``speech_requests``,
    ``transcription_requests`` (accepted ones). Chat: ``json``, ``info["reply"]``, ``info["usage"]``. Speech:
    ``json``, ``info`` with ``input``, ``voice``, ``model``, ``response_format``, ``speed``, ``audio_bytes``,
    ``sample_rate``. Transcriptions: ``form`` (text fields), ``files["file"]`` (name, type, bytes), ``info``
    with ``sample_rate``, ``channels``, ``sample_width``, ``duration``, ``text``.
    """

    provider = "openai"

    def __init__(self, api_key: str = "test-key", host: str = "127.0.0.1") -> None:
        super().__init__(api_key=api_key, host=host)
        self.replies: list[str] = []
        self.transcripts: list[str] = []
        self.default_reply = DEFAULT_REPLY
        self.default_transcript = DEFAULT_TRANSCRIPT
        #: Words per chat content chunk.
        self.words_per_chunk = 3
        #: Bytes per write of streamed speech (4800 bytes = 100 ms at 24 kHz).
        self.speech_chunk_bytes = 4800
        #: Pause between two writes of streamed speech, seconds (synthesis is otherwise instant).
        self.speech_chunk_interval = 0.002

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post(CHAT_PATH, self._chat)
        app.router.add_post(SPEECH_PATH, self._speech)
        app.router.add_post(TRANSCRIPTIONS_PATH, self._transcriptions)

    # --- knobs ---------------------------------------------------------------------------------------------

    def error_event_after(
        self,
        chunks: int,
        times: int | None = 1,
        message: str = "The server had an error while processing your request.",
    ) -> None:
        """Stream ``chunks`` content chunks of the next chat answer, then a ``data: {"error": ...}`` line."""
        self.faults.arm("error_event", (int(chunks), message), times, CHAT_PATH)

    def delay_first_byte(self, seconds: float, times: int | None = 1, path: str | None = SPEECH_PATH) -> None:
        """Wait ``seconds`` before the response headers of the next speech request."""
        self.faults.arm("delay_headers", float(seconds), times, path)

    # --- recorded views ------------------------------------------------------------------------------------

    def _accepted(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and r.status == 200]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Accepted chat completion requests."""
        return self._accepted(CHAT_PATH)

    @property
    def speech_requests(self) -> list[RecordedRequest]:
        """Accepted speech requests."""
        return self._accepted(SPEECH_PATH)

    @property
    def transcription_requests(self) -> list[RecordedRequest]:
        """Accepted transcription requests."""
        return self._accepted(TRANSCRIPTIONS_PATH)

    # --- errors and common checks --------------------------------------------------------------------------

    def error_response(
        self,
        status: int,
        message: str,
        error_type: str | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> web.Response:
        error = {
            "message": message,
            "type": error_type or _ERROR_TYPES.get(status, "server_error"),
            "param": param,
            "code": code if code is not None else _ERROR_CODES.get(status),
        }
        return web.json_response({"error": error}, status=status, headers={"x-request-id": new_id("req_")})

    def _refuse(self, recorded: RecordedRequest, status: int, message: str, param: str | None = None) -> web.Response:
        recorded.status = status
        return self.error_response(status, message, param=param)

    def _gate(self, request: web.Request, recorded: RecordedRequest) -> web.Response | None:
        """The key check and the armed failure: a response that ends the request, or None to go on."""
        authorization = request.headers.get("Authorization", "")
        if authorization != f"Bearer {self.api_key}":
            recorded.status = 401
            shown = authorization.removeprefix("Bearer ")
            hint = f"{shown[:3]}***{shown[-4:]}" if len(shown) > 8 else "***"
            return self.error_response(
                401, f"Incorrect API key provided: {hint}. You can find your API key at https://platform.openai.com."
            )
        failure = self.faults.take("fail", request.path)
        if failure is not None:
            recorded.status = failure.status
            response = self.error_response(
                failure.status, failure.message or _ERROR_MESSAGES.get(failure.status, "Error"), failure.error_type
            )
            response.headers.update(retry_after_headers(failure.retry_after, with_ms=True))
            return response
        return None

    # --- chat completions ----------------------------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, problem = await self.read_json(request)
        recorded = self.record(request, json=body)
        refusal = self._gate(request, recorded)
        if refusal is not None:
            return refusal
        if problem is not None:
            return self._refuse(recorded, 400, problem)
        problem, param = _validate_chat(body)
        if problem is not None:
            return self._refuse(recorded, 400, problem, param)

        reply = self.replies.pop(0) if self.replies else self.default_reply
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        reply, cut = truncate_to_tokens(reply, limit) if limit else (reply, False)
        prompt_tokens = count_input_tokens(sum(len(_text_of(m.get("content"))) for m in body["messages"]))
        completion_tokens = count_output_tokens(reply)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        recorded.status = 200
        recorded.info.update(reply=reply, usage=usage)
        finish_reason = "length" if cut else "stop"
        completion_id = new_id("chatcmpl-")
        stall = self.faults.take("stall", request.path)
        delay = self.faults.take("delay", request.path)
        if body.get("stream"):
            error_event = self.faults.take("error_event", request.path)
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return await self._chat_stream(
                request,
                body,
                completion_id,
                reply,
                usage if include_usage else None,
                finish_reason,
                stall,
                delay,
                error_event,
            )
        if stall is not None:
            await self.hang(request)
            return web.Response(status=504)
        if delay:
            await self.pause(delay)
        completion = {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": usage,
        }
        return web.json_response(completion, headers={"x-request-id": new_id("req_")})

    async def _chat_stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        completion_id: str,
        reply: str,
        usage: dict[str, int] | None,
        finish_reason: str,
        stall: int | None,
        delay: float | None,
        error_event: tuple[int, str] | None,
    ) -> web.StreamResponse:
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            data: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": body["model"],
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if usage is not None:
                data["usage"] = None
            return data

        response = sse_response()
        response.headers["x-request-id"] = new_id("req_")
        await response.prepare(request)
        if delay:
            await self.pause(delay)
        await write_sse(response, chunk({"role": "assistant", "content": "", "refusal": None}))
        for sent, piece in enumerate(split_reply(reply, self.words_per_chunk)):
            if stall is not None and sent >= stall:
                await self.hang(request)
                return response
            if error_event is not None and sent >= error_event[0]:
                return await self._chat_error(response, error_event[1])
            await write_sse(response, chunk({"content": piece}))
        if stall is not None:
            await self.hang(request)
            return response
        if error_event is not None:
            return await self._chat_error(response, error_event[1])
        await write_sse(response, chunk({}, finish_reason))
        if usage is not None:
            final = chunk({})
            final["choices"] = []
            final["usage"] = usage
            await write_sse(response, final)
        await write_sse(response, "[DONE]")
        await response.write_eof()
        return response

    async def _chat_error(self, response: web.StreamResponse, message: str) -> web.StreamResponse:
        error = {"message": message, "type": "server_error", "param": None, "code": None}
        await write_sse(response, {"error": error})
        await response.write_eof()
        return response

    # --- speech --------------------------------------------------------------------------------------------

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        body, problem = await self.read_json(request)
        recorded = self.record(request, json=body)
        refusal = self._gate(request, recorded)
        if refusal is not None:
            return refusal
        if problem is not None:
            return self._refuse(recorded, 400, problem)
        problem, param = _validate_speech(body)
        if problem is not None:
            return self._refuse(recorded, 400, problem, param)
        response_format = body.get("response_format", "mp3")
        if response_format not in ("pcm", "wav"):
            return self._refuse(
                recorded,
                400,
                f"response_format {response_format!r} is not produced by this fake (pcm or wav)",
                "response_format",
            )
        speed = float(body.get("speed", 1.0))
        recorded.status = 200
        recorded.info.update(
            input=body["input"],
            voice=body["voice"],
            model=body["model"],
            response_format=response_format,
            speed=speed,
            instructions=body.get("instructions"),
            sample_rate=SPEECH_SAMPLE_RATE,
            audio_bytes=0,
        )
        stall = self.faults.take("stall", request.path)
        delay_headers = self.faults.take("delay_headers", request.path)
        if delay_headers:
            await self.pause(delay_headers)
        content_type = "audio/pcm" if response_format == "pcm" else "audio/wav"
        response = web.StreamResponse(status=200, headers={"Content-Type": content_type})
        response.headers["x-request-id"] = new_id("req_")
        response.enable_chunked_encoding()
        await response.prepare(request)
        source = _wav_source(body["input"], speed) if response_format == "wav" else synthesize_pcm(body["input"], speed)
        sent = 0
        pending = b""
        async for part in source:
            pending += part
            while len(pending) >= self.speech_chunk_bytes:
                if stall is not None and sent >= stall:
                    await self.hang(request)
                    return response
                piece, pending = pending[: self.speech_chunk_bytes], pending[self.speech_chunk_bytes :]
                await response.write(piece)
                recorded.info["audio_bytes"] += len(piece)
                sent += 1
                await asyncio.sleep(self.speech_chunk_interval)
        if stall is not None and sent >= stall:
            await self.hang(request)
            return response
        if pending:
            await response.write(pending)
            recorded.info["audio_bytes"] += len(pending)
        await response.write_eof()
        return response

    # --- transcriptions ------------------------------------------------------------------------------------

    async def _transcriptions(self, request: web.Request) -> web.StreamResponse:
        form: dict[str, str] = {}
        files: dict[str, RecordedFile] = {}
        problem = None
        if not request.content_type.startswith("multipart/form-data"):
            problem = "the request must be multipart/form-data"
        else:
            try:
                async for part in await request.multipart():
                    data = await part.read()  # type: ignore[union-attr]
                    name = part.name or ""  # type: ignore[union-attr]
                    if part.filename is not None:  # type: ignore[union-attr]
                        content_type = part.headers.get("Content-Type")  # type: ignore[union-attr]
                        files[name] = RecordedFile(part.filename, content_type, bytes(data))  # type: ignore[union-attr]
                    else:
                        form[name] = bytes(data).decode("utf-8", "replace")
            except Exception as exc:  # a malformed form
                problem = f"the multipart body could not be parsed: {exc}"
        recorded = self.record(request, form=form, files=files)
        refusal = self._gate(request, recorded)
        if refusal is not None:
            return refusal
        if problem is not None:
            return self._refuse(recorded, 400, problem)
        if "file" not in files:
            return self._refuse(recorded, 400, "you must provide a file", "file")
        if not form.get("model"):
            return self._refuse(recorded, 400, "you must provide a model parameter", "model")
        response_format = form.get("response_format", "json")
        if response_format not in TRANSCRIPTION_FORMATS:
            return self._refuse(recorded, 400, f"Invalid response_format {response_format!r}", "response_format")
        if "temperature" in form:
            try:
                temperature = float(form["temperature"])
            except ValueError:
                temperature = -1.0
            if not 0 <= temperature <= 1:
                return self._refuse(recorded, 400, "temperature must be between 0 and 1", "temperature")
        try:
            with wave.open(io.BytesIO(files["file"].data), "rb") as reader:
                rate, channels, width, frames = (
                    reader.getframerate(),
                    reader.getnchannels(),
                    reader.getsampwidth(),
                    reader.getnframes(),
                )
        except (wave.Error, EOFError) as exc:
            return self._refuse(recorded, 400, f"Invalid file format (this fake reads WAV only): {exc}", "file")
        duration = frames / rate if rate else 0.0
        text = self.transcripts.pop(0) if self.transcripts else self.default_transcript
        recorded.status = 200
        recorded.info.update(
            sample_rate=rate,
            channels=channels,
            sample_width=width,
            duration=duration,
            text=text,
            language=form.get("language"),
            prompt=form.get("prompt"),
            model=form["model"],
        )
        if self.faults.take("stall", request.path) is not None:
            await self.hang(request)
            return web.Response(status=504)
        delay = self.faults.take("delay", request.path)
        if delay:
            await self.pause(delay)
        headers = {"x-request-id": new_id("req_")}
        if response_format == "json":
            usage = {"type": "duration", "seconds": max(1, round(duration))}
            return web.json_response({"text": text, "usage": usage}, headers=headers)
        if response_format == "text":
            return web.Response(text=text + "\n", content_type="text/plain", headers=headers)
        if response_format == "verbose_json":
            return web.json_response(_verbose(text, duration, form.get("language")), headers=headers)
        stamp = _srt_time if response_format == "srt" else _vtt_time
        cue = f"{stamp(0.0)} --> {stamp(duration)}\n{text}\n"
        document = f"1\n{cue}" if response_format == "srt" else f"WEBVTT\n\n{cue}"
        return web.Response(text=document, content_type="text/plain", headers=headers)


# --- helpers -------------------------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _validate_chat(body: Any) -> tuple[str | None, str | None]:
    if not isinstance(body, dict):
        return "the request body must be a JSON object", None
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter", "model"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "[] is too short - 'messages'", "messages"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
        ):
            return f"Invalid value for 'messages[{i}].role'", f"messages.[{i}].role"
        if "content" not in message and message.get("role") != "assistant":
            return f"Missing required parameter: 'messages[{i}].content'.", f"messages.[{i}].content"
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        return "stream must be a boolean", "stream"
    if body.get("stream_options") is not None and not stream:
        return "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"
    temperature = body.get("temperature")
    if temperature is not None and not (isinstance(temperature, int | float) and 0 <= temperature <= 2):
        return f"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, got {temperature}", (
            "temperature"
        )
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            return f"Invalid '{key}': integer below minimum value.", key
    response_format = body.get("response_format")
    if response_format is not None:
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if kind not in ("text", "json_object", "json_schema"):
            return "Invalid value for 'response_format.type'", "response_format.type"
        text = " ".join(_text_of(m.get("content")) for m in messages)
        if kind == "json_object" and not re.search("json", text, re.IGNORECASE):
            return (
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                "messages",
            )
    return None, None


def _validate_speech(body: Any) -> tuple[str | None, str | None]:
    if not isinstance(body, dict):
        return "the request body must be a JSON object", None
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter", "model"
    text = body.get("input")
    if not isinstance(text, str) or not text:
        return "Missing required parameter: 'input'.", "input"
    if len(text) > 4096:
        return "Invalid 'input': string too long. Expected a string with maximum length 4096.", "input"
    voice = body.get("voice")
    custom = isinstance(voice, dict) and isinstance(voice.get("id"), str)
    if not custom and voice not in VOICES:
        return f"Invalid value for 'voice': {voice!r}.", "voice"
    if body.get("response_format", "mp3") not in SPEECH_FORMATS:
        return "Invalid value for 'response_format'.", "response_format"
    speed = body.get("speed", 1.0)
    if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
        return "Invalid 'speed': expected a value between 0.25 and 4.0.", "speed"
    if body.get("stream_format", "audio") != "audio":
        return "stream_format 'sse' is not produced by this fake", "stream_format"
    return None, None


def _sentences(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"(?<=[.!?;:])\s+", text)]
    return [p for p in parts if p] or [text]


async def synthesize_pcm(text: str, speed: float = 1.0) -> AsyncIterator[bytes]:
    """eSpeak NG speech of ``text`` as 24 kHz s16le mono bytes, yielded sentence by sentence."""
    from voice_agent.audio import PcmResampler
    from voice_agent.providers.espeak import EspeakEngine

    loop = asyncio.get_running_loop()
    engine = await loop.run_in_executor(None, EspeakEngine.shared)
    resampler = PcmResampler(SPEECH_SAMPLE_RATE)
    rate_wpm = int(min(450, max(80, 165 * speed)))
    for sentence in _sentences(text):
        samples = await loop.run_in_executor(engine.executor, engine.synthesize, sentence, "en-us", rate_wpm)
        out = resampler.resample(samples, engine.sample_rate)
        if out.size:
            yield out.astype("<i2").tobytes()
    tail = resampler.flush()
    if tail.size:
        yield tail.astype("<i2").tobytes()


async def _wav_source(text: str, speed: float) -> AsyncIterator[bytes]:
    pcm = b"".join([part async for part in synthesize_pcm(text, speed)])
    yield wav_bytes(pcm, SPEECH_SAMPLE_RATE)


def wav_bytes(pcm: bytes, rate: int, channels: int = 1) -> bytes:
    """A 16-bit WAV file of ``pcm``."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return buffer.getvalue()


def pcm_level_dbfs(pcm: bytes) -> float:
    """RMS level of s16le bytes in dBFS."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(samples**2)))
    return 20 * np.log10(rms / 32768) if rms > 0 else float("-inf")


def _verbose(text: str, duration: float, language: str | None) -> dict[str, Any]:
    return {
        "task": "transcribe",
        "language": {"en": "english"}.get(language or "en", language or "english"),
        "duration": duration,
        "text": text,
        "segments": [
            {
                "id": 0,
                "seek": 0,
                "start": 0.0,
                "end": duration,
                "text": " " + text,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": -0.2,
                "compression_ratio": 1.2,
                "no_speech_prob": 0.01,
            }
        ],
        "usage": {"type": "duration", "seconds": max(1, round(duration))},
    }


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _vtt_time(seconds: float) -> str:
    return _srt_time(seconds).replace(",", ".")

"""A fake of Anthropic's Messages API (``POST /v1/messages``), for the official ``anthropic`` SDK.

Point the SDK at it without ``/v1``: ``AsyncAnthropic(api_key=fake.api_key, base_url=fake.url)``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.base import (
    HttpFake,
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

DEFAULT_REPLY = "Thank you, that is helpful. Could you tell me a little more about it?"

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_ERROR_MESSAGES = {
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    529: "Overloaded",
}


class FakeAnthropic(HttpFake):
    """Anthropic's Messages API, streamed (SSE) or not.

    Constructor: ``FakeAnthropic(api_key="test-key", strict_alternation=True)``. The key is accepted as
    ``Authorization: Bearer <key>`` (what SDK 2.x sends) or ``x-api-key: <key>``; anything else is 401
    ``authentication_error``. ``strict_alternation`` refuses two consecutive messages of the same role.

    Checks, answered with 400 ``invalid_request_error`` as the API does: ``anthropic-version`` header present,
    JSON body, ``model`` (string), ``max_tokens`` (positive integer), ``messages`` (non-empty list, roles
    ``user``/``assistant`` alternating, the first ``user``, content a string or a list of ``text`` blocks),
    ``system`` (string or list of ``text`` blocks), ``temperature`` within [0, 1], ``stream`` a boolean.
    Unknown paths answer 404 ``not_found_error``.

    Script:

    - ``replies``: texts of the next answers, consumed in order (``fake.replies.append("...")``); when empty,
      the answer is ``default_reply``. A reply longer than ``max_tokens`` is cut, with ``stop_reason:
      "max_tokens"``.
    - ``fail_next(status, times=1, retry_after=None, error_type=None, message=None)``: e.g. 529
      ``overloaded_error``, 429 ``rate_limit_error`` with ``retry-after``, 500 ``api_error``.
    - ``stall_after(chunks)``: stream ``chunks`` text deltas, then hang with the connection open.
    - ``error_event_after(chunks)``: stream ``chunks`` text deltas, then ``event: error`` (``overloaded_error``
      unless ``error_type`` is given) and end the 200 stream.
    - ``delay_first_token(seconds)``: wait before the first text delta (``message_start`` goes out first).

    Recorded: ``requests`` (every request), ``messages_requests`` (the accepted ``/v1/messages`` calls);
    ``RecordedRequest.json`` is the body, ``info["auth"]`` is ``"bearer"`` or ``"x-api-key"``, ``info["reply"]``
    the text answered, ``info["usage"]`` the token counts.
    """

    provider = "anthropic"

    def __init__(self, api_key: str = "test-key", strict_alternation: bool = True, host: str = "127.0.0.1") -> None:
        super().__init__(api_key=api_key, host=host)
        self.replies: list[str] = []
        self.default_reply = DEFAULT_REPLY
        self.strict_alternation = strict_alternation
        #: Words per text delta.
        self.words_per_delta = 3

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)

    def error_event_after(
        self, chunks: int, times: int | None = 1, error_type: str = "overloaded_error", message: str = "Overloaded"
    ) -> None:
        """Stream ``chunks`` deltas of the next answer, then an ``event: error`` inside the 200 stream."""
        self.faults.arm("error_event", (int(chunks), error_type, message), times, None)

    @property
    def messages_requests(self) -> list[RecordedRequest]:
        """The ``/v1/messages`` requests that were answered with a message."""
        return [r for r in self.requests if r.path == "/v1/messages" and r.status == 200]

    def error_response(self, status: int, message: str, error_type: str | None = None) -> web.Response:
        body = {
            "type": "error",
            "error": {"type": error_type or _ERROR_TYPES.get(status, "api_error"), "message": message},
            "request_id": new_id("req_"),
        }
        return web.json_response(body, status=status, headers={"request-id": body["request_id"]})

    def _refuse(self, recorded: RecordedRequest, status: int, message: str, error_type: str | None = None):
        recorded.status = status
        return self.error_response(status, message, error_type)

    # --- the endpoint --------------------------------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body, problem = await self.read_json(request)
        recorded = self.record(request, json=body)
        bearer = request.headers.get("Authorization", "")
        if bearer == f"Bearer {self.api_key}":
            recorded.info["auth"] = "bearer"
        elif request.headers.get("x-api-key") == self.api_key:
            recorded.info["auth"] = "x-api-key"
        else:
            return self._refuse(recorded, 401, "invalid x-api-key", "authentication_error")
        if not request.headers.get("anthropic-version"):
            return self._refuse(recorded, 400, "anthropic-version: header is required")
        failure = self.faults.take("fail", request.path)
        if failure is not None:
            recorded.status = failure.status
            response = self.error_response(
                failure.status, failure.message or _ERROR_MESSAGES.get(failure.status, "Error"), failure.error_type
            )
            response.headers.update(retry_after_headers(failure.retry_after))
            return response
        if problem is not None:
            return self._refuse(recorded, 400, problem)
        problem = self._validate(body)
        if problem is not None:
            return self._refuse(recorded, 400, problem)

        reply = self.replies.pop(0) if self.replies else self.default_reply
        reply, cut = truncate_to_tokens(reply, body["max_tokens"])
        usage = {"input_tokens": count_input_tokens(_prompt_chars(body)), "output_tokens": count_output_tokens(reply)}
        recorded.status = 200
        recorded.info.update(reply=reply, usage=usage)
        stop_reason = "max_tokens" if cut else "end_turn"
        message_id = new_id("msg_")
        if body.get("stream"):
            return await self._stream(request, body, message_id, reply, usage, stop_reason)
        stall = self.faults.take("stall", request.path)
        delay = self.faults.take("delay", request.path)
        if stall is not None:
            await self.hang(request)
            return web.Response(status=504)
        if delay:
            await self.pause(delay)
        message = _message(message_id, body["model"], [{"type": "text", "text": reply}], usage, stop_reason)
        return web.json_response(message, headers={"request-id": new_id("req_")})

    def _validate(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "the request body must be a JSON object"
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "model: Field required"
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            return "max_tokens: Field required (a positive integer)"
        if "stream" in body and not isinstance(body["stream"], bool):
            return "stream: Input should be a valid boolean"
        temperature = body.get("temperature")
        if temperature is not None and not (isinstance(temperature, int | float) and 0 <= temperature <= 1):
            return "temperature: Input should be less than or equal to 1"
        system = body.get("system")
        if system is not None and not isinstance(system, str):
            if not isinstance(system, list) or not all(_is_text_block(b) for b in system):
                return "system: Input should be a valid string or a list of text blocks"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages: at least one message is required"
        previous = None
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
                return f"messages.{i}.role: Input should be 'user' or 'assistant'"
            content = message.get("content")
            if isinstance(content, str):
                if not content and i < len(messages) - 1:
                    return f"messages.{i}: all messages must have non-empty content"
            elif not isinstance(content, list) or not content or not all(_is_block(b) for b in content):
                return f"messages.{i}.content: Input should be a valid string or a list of content blocks"
            if i == 0 and message["role"] != "user":
                return 'messages: first message must use the "user" role'
            if self.strict_alternation and message["role"] == previous:
                return 'messages: roles must alternate between "user" and "assistant"'
            previous = message["role"]
        return None

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        message_id: str,
        reply: str,
        usage: dict[str, int],
        stop_reason: str,
    ) -> web.StreamResponse:
        stall = self.faults.take("stall", request.path)
        delay = self.faults.take("delay", request.path)
        error_event = self.faults.take("error_event", request.path)
        response = sse_response()
        response.headers["request-id"] = new_id("req_")
        await response.prepare(request)
        start_usage = {"input_tokens": usage["input_tokens"], "output_tokens": 1}
        start = {"type": "message_start", "message": _message(message_id, body["model"], [], start_usage, None)}
        await write_sse(response, start, "message_start")
        await write_sse(
            response,
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        )
        await write_sse(response, {"type": "ping"}, "ping")
        if delay:
            await self.pause(delay)
        for sent, piece in enumerate(split_reply(reply, self.words_per_delta)):
            if stall is not None and sent >= stall:
                await self.hang(request)
                return response
            if error_event is not None and sent >= error_event[0]:
                await self._error_event(response, error_event)
                return response
            delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
            await write_sse(response, delta, "content_block_delta")
        if stall is not None:
            await self.hang(request)
            return response
        if error_event is not None:
            await self._error_event(response, error_event)
            return response
        await write_sse(response, {"type": "content_block_stop", "index": 0}, "content_block_stop")
        end = {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        }
        await write_sse(response, end, "message_delta")
        await write_sse(response, {"type": "message_stop"}, "message_stop")
        await response.write_eof()
        return response

    async def _error_event(self, response: web.StreamResponse, error_event: tuple[int, str, str]) -> None:
        _, error_type, message = error_event
        payload = {"type": "error", "error": {"type": error_type, "message": message}}
        await write_sse(response, payload, "error")
        await response.write_eof()


def _is_text_block(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)


def _is_block(block: Any) -> bool:
    return isinstance(block, dict) and isinstance(block.get("type"), str)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict) and isinstance(b.get("text"), str))
    return ""


def _prompt_chars(body: dict[str, Any]) -> int:
    return len(_text_of(body.get("system"))) + sum(len(_text_of(m.get("content"))) for m in body["messages"])


def _message(
    message_id: str, model: str, content: list[dict[str, Any]], usage: dict[str, int], stop_reason: str | None
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": usage["input_tokens"],
            "output_tokens": usage["output_tokens"],
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }

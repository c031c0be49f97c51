"""JSON errors: every failure answers ``{"error": {"code", "message"}}`` with the right status."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

#: Seconds a handler waits for the whole request body (``HTTP_BODY_TIMEOUT_S``); set by the app factory.
BODY_TIMEOUT_S = web.AppKey("body_timeout_s", float)
DEFAULT_BODY_TIMEOUT_S = 30.0


class ApiError(Exception):
    """An error a client should see, with its HTTP status and a stable code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """The JSON body every error carries."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn every exception into a JSON error; never an HTML page or a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.headers)
        if exc.status == 408:
            response.force_close()  # the rest of the body may still be on its way: do not read it as a request
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return error_response(exc.status, code, exc.reason, headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on the server.")


async def read_body(request: web.Request) -> bytes:
    """The whole request body, or a 413 (over ``MAX_BODY_BYTES``) or a 408 (not all there within
    ``HTTP_BODY_TIMEOUT_S``: a client trickling a body must not hold a handler forever)."""
    timeout = request.app.get(BODY_TIMEOUT_S, DEFAULT_BODY_TIMEOUT_S)
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, "payload_too_large", "The request body is too large.") from exc
    except TimeoutError as exc:
        raise ApiError(408, "request_timeout", f"The request body did not arrive within {timeout:g} s.") from exc


def parse_json(raw: bytes) -> Any:
    """JSON text as Python values, or a 400 ``invalid_json`` (also for nesting too deep to parse)."""
    try:
        return json.loads(raw or b"null")
    except RecursionError as exc:
        raise ApiError(400, "invalid_json", "The request body is nested too deeply.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from exc


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/408/413/415 that says what is wrong."""
    if request.content_type not in ("application/json", ""):
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    data = parse_json(await read_body(request))
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return data

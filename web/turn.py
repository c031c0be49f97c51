"""What the browser is told about STUN and TURN (``GET /api/config``), with short-lived TURN credentials.

A static TURN username and password handed to every visitor lets anyone relay through the TURN server. So TURN
entries go only to logged-in users, and with ``TURN_SECRET`` (coturn's ``static-auth-secret`` with
``use-auth-secret``, the "TURN REST API" scheme) each gets credentials of its own that expire after
``TURN_CREDENTIAL_TTL_S``: username ``"<expiry unix time>:<user id>"``, credential
``base64(HMAC-SHA1(secret, username))``, which coturn checks without knowing the user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from web.settings import Settings

TURN_SCHEMES = ("turn:", "turns:")


def turn_rest_credentials(secret: str, user_id: str, ttl_s: int, now: float | None = None) -> tuple[str, str]:
    """(username, credential) valid until ``now + ttl_s`` for a TURN server sharing ``secret``."""
    expiry = int(time.time() if now is None else now) + ttl_s
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def _urls(server: dict[str, Any]) -> list[str]:
    urls = server.get("urls", [])
    return [urls] if isinstance(urls, str) else list(urls)


def _is_turn(url: str) -> bool:
    return url.lower().startswith(TURN_SCHEMES)


def _without_turn(server: dict[str, Any]) -> dict[str, Any] | None:
    """The entry's STUN URLs only (as written when it has no others), without credentials; None when nothing
    is left."""
    urls = _urls(server)
    stun = [url for url in urls if not _is_turn(url)]
    if not stun:
        return None
    return {"urls": server["urls"] if len(stun) == len(urls) else stun}


def browser_ice_servers(settings: Settings, user_id: str | None) -> list[dict[str, Any]]:
    """``ICE_SERVERS`` as a browser may see them: STUN only without a login; with one, the TURN entries too,
    carrying fresh short-lived credentials when ``TURN_SECRET`` is set (the configured ones otherwise)."""
    if user_id is None:
        return [entry for server in settings.ice_servers if (entry := _without_turn(server)) is not None]
    if settings.turn_secret is None:
        return settings.ice_servers
    secret = settings.turn_secret.get_secret_value()
    servers = []
    for server in settings.ice_servers:
        if any(_is_turn(url) for url in _urls(server)):
            username, credential = turn_rest_credentials(secret, user_id, settings.turn_credential_ttl_s)
            server = {**server, "username": username, "credential": credential}
        servers.append(server)
    return servers


def server_ice_servers(settings: Settings, user_id: str | None) -> list[dict[str, Any]]:
    """``ICE_SERVERS`` for the server's own side of a call: every entry, the TURN ones with fresh short-lived
    credentials when ``TURN_SECRET`` is set (named for the call's user, so coturn's logs tell calls apart)."""
    return browser_ice_servers(settings, user_id or "server")

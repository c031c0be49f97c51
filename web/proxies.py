"""Who the client is behind a TLS proxy: ``X-Forwarded-For`` and ``X-Forwarded-Proto``, believed only from the
addresses in ``TRUSTED_PROXIES``.

Anybody can send those headers; only a proxy we run overwrites them honestly. So a request that does not come
from a trusted proxy is taken at face value (its peer address, its own scheme), and from a trusted proxy the
client is the right-most ``X-Forwarded-For`` address that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from web import appkeys

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str | None, networks: list[Network]) -> bool:
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _networks(request: web.Request) -> list[Network]:
    return request.app[appkeys.SETTINGS].trusted_proxy_networks


def from_trusted_proxy(request: web.Request) -> bool:
    """The request's peer is one of the ``TRUSTED_PROXIES``."""
    return _trusted(request.remote, _networks(request))


def client_ip(request: web.Request) -> str:
    """The client's address: the peer, or behind trusted proxies the address they say they were called from."""
    peer = request.remote or "unknown"
    networks = _networks(request)
    if not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for value in request.headers.getall("X-Forwarded-For", []) for hop in value.split(",")]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage from the client's side of the chain: stop at the last proxy that vouched
        client = hop
        if not _trusted(hop, networks):
            break
    return client


def is_https(request: web.Request) -> bool:
    """The client reached us over HTTPS: directly, or through a trusted proxy that says so."""
    if request.secure:
        return True
    if not from_trusted_proxy(request):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"


def client_in(request: web.Request, networks: list[Network]) -> bool:
    """The client (as ``client_ip`` finds it) is in one of ``networks``."""
    return _trusted(client_ip(request), networks)

"""API load: logged-in clients hammering the REST API of a server process, on SQLite.

Each client has its own account and login cookie and, for the duration of the run, sends its next request as
soon as the last one is answered: ``GET /api/user/profile``, ``GET /api/interviews/history`` and
``POST /api/interviews/create`` in turn (every account has credits granted for the run; the rate limit is
raised, as a load test would from one address). Reports requests per second and p50/p99 latency per route,
and any request that did not succeed.

    .venv/bin/python benchmarks/api_load.py [--clients 32] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import server_process, write_result
from db.engine import default_database_url
from db.repository import Database

SERVER_ENV = {
    "LOG_LEVEL": "ERROR",
    "RATE_LIMIT_PER_MINUTE": "10000000",
    "AUTH_RATE_LIMIT_PER_MINUTE": "10000000",
}
ROUTES = [
    ("GET", "/api/user/profile", None),
    ("GET", "/api/interviews/history", None),
    (
        "POST",
        "/api/interviews/create",
        {"role": "Software Engineer", "interview_type": "mixed", "duration_minutes": 20},
    ),
]
CREDITS = 100_000
PASSWORD = "benchmark password"


async def _grant(data_dir: Path, emails: list[str]) -> None:
    """Credits for every account, straight into the server's database (the operator command does the same)."""
    database = Database(default_database_url(data_dir))
    try:
        for email in emails:
            await database.grant_credits(email, CREDITS)
    finally:
        await database.dispose()


async def _sign_up(http: aiohttp.ClientSession, url: str, n: int) -> str:
    email = f"load-{n}-{time.time_ns()}@example.org"
    body = {
        "email": email,
        "password": PASSWORD,
        "full_name": f"Load {n}",
        "target_role": "Software Engineer",
        "experience_level": "mid",
    }
    async with http.post(f"{url}/api/auth/signup", json=body) as response:
        if response.status != 201:
            raise RuntimeError(f"sign-up failed: {response.status} {await response.text()}")
    return email


async def _client(
    http: aiohttp.ClientSession, url: str, until: float, samples: dict[str, list[float]], errors: dict[str, int]
) -> None:
    n = 0
    while time.monotonic() < until:
        method, path, body = ROUTES[n % len(ROUTES)]
        n += 1
        started = time.perf_counter()
        try:
            async with http.request(method, url + path, json=body) as response:
                await response.read()
                ok = response.status < 400
        except aiohttp.ClientError:
            ok = False
        elapsed = time.perf_counter() - started
        key = f"{method} {path}"
        if ok:
            samples[key].append(elapsed)
        else:
            errors[key] = errors.get(key, 0) + 1


async def load(url: str, data_dir: Path, clients: int, seconds: float) -> dict[str, Any]:
    """Sign ``clients`` accounts up, grant them credits, then run them all for ``seconds``."""
    connector = aiohttp.TCPConnector(limit=0)
    # Cookies for 127.0.0.1 need an "unsafe" jar (aiohttp keeps none for bare IP addresses otherwise).
    sessions = [
        aiohttp.ClientSession(connector=connector, connector_owner=False, cookie_jar=aiohttp.CookieJar(unsafe=True))
        for _ in range(clients)
    ]
    try:
        emails = [await _sign_up(http, url, n) for n, http in enumerate(sessions)]
        await _grant(data_dir, emails)
        samples: dict[str, list[float]] = {f"{m} {p}": [] for m, p, _ in ROUTES}
        errors: dict[str, int] = {}
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*(_client(http, url, until, samples, errors) for http in sessions))
        elapsed = time.monotonic() - started
    finally:
        for http in sessions:
            await http.close()
        await connector.close()
    routes = {}
    for key, values in samples.items():
        data = np.asarray(values) * 1000
        routes[key] = {
            "requests": int(data.size),
            "per_second": round(data.size / elapsed, 1),
            "p50_ms": round(float(np.percentile(data, 50)), 2) if data.size else None,
            "p99_ms": round(float(np.percentile(data, 99)), 2) if data.size else None,
            "errors": errors.get(key, 0),
        }
    total = sum(r["requests"] for r in routes.values())
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "database": "sqlite",
        "requests_per_second": round(total / elapsed, 1),
        "routes": routes,
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="REST API load on SQLite")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        data_dir = Path(data)
        with server_process(env=SERVER_ENV, data_dir=data_dir) as url:
            result = asyncio.run(load(url, data_dir, args.clients, args.seconds))
    path = write_result("api_load", result)
    print(f"\nAPI load: {result['clients']} clients for {result['seconds']} s on SQLite")
    print(f"{'route':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for key, r in result["routes"].items():
        print(f"{key:<34}{r['per_second']:>9}{r['p50_ms']!s:>9}{r['p99_ms']!s:>9}{r['errors']:>8}")
    print(f"{'all':<34}{result['requests_per_second']:>9}")
    print(f"written to {path}")
    return result


if __name__ == "__main__":
    main()

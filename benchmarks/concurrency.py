"""Concurrent calls: how many simultaneous interviews one server process carries cleanly, and what each costs.

At each N (1, 10, 20, 30, ... until a call drops or over 5% of the agent's voiced frames arrive late; at most
60) a fresh server runs with the ``seed-budget`` providers (``benchmarks/seed_budget.py``: cloud-like timing,
no model on this machine) and N calls are held from client PROCESSES separate from it (``--clients``, 2 by
default, each holding its share of the calls). Each candidate sends pre-encoded Opus (``benchmarks/
rtc_client.py``: eSpeak NG answers encoded once, silence between them, aiortc packs them without encoding) and
does not decode what it receives; it speaks an answer, waits for the reply, and repeats, for the whole window.
Then the same clients load the floor, ``benchmarks/bare_server.py`` (aiortc alone: decode inbound, send a
paced tone), at the same N, and our CPU per call is reported as a ratio to the floor's.

Per N and per server: server CPU (percent of one core, from ``/proc/PID/stat`` over the steady window: all
calls connected), server RSS (``VmRSS`` at the end of the window; per call after the idle baseline), the share
of the agent's voiced frames arriving late at the client (over 40 ms after the previous one, measured on RTP
arrival, before aiortc's jitter buffer), inbound packet loss (the server's RTCP receiver reports as the
clients' ``getStats()`` shows them; for ours also ``/api/status``), p95 server response latency (the
``metrics`` events), calls dropped, and the clients' own CPU. With ``--pin`` (the default on 2+ cores) the
server runs on the first core and the clients on the others.

    ./scripts/in-loopback-netns.sh .venv/bin/python benchmarks/concurrency.py [--quick] [--max-n 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import free_port, percentiles, running_process, server_process, write_result

HERE = Path(__file__).resolve().parent
#: The server's environment: simulated cloud providers, limits out of the way, media on 127.0.0.1 only.
SEED_BUDGET_ENV = {
    "STT_PROVIDER": "benchmarks.seed_budget:stt",
    "LLM_PROVIDER": "benchmarks.seed_budget:llm",
    "TTS_PROVIDER": "benchmarks.seed_budget:tts",
    "RATE_LIMIT_PER_MINUTE": "100000",
    "AUTH_RATE_LIMIT_PER_MINUTE": "100000",
    "RECORDINGS": "false",
    "MEDIA_HOST_ADDRESSES": "127.0.0.1",
    "ICE_SERVERS": "[]",
}
#: At or over this share of late voiced frames (or any dropped call), N is past what the server carries.
LATE_LIMIT = 0.01
#: Worker processes of our server (``--workers``).
WORKERS = 1
SETUP_CONCURRENCY = 4
#: The calls converse from the moment they connect; the window opens once every greeting is over (or this long).
GREETING_TIMEOUT_S = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident memory of a process (``VmRSS``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (a multi-worker server's supervisor and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue.extend(children.get(current, []))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its descendants that are alive now."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            total += cpu_seconds(member)
    return total


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            total += rss_mb(member)
    return total


def child_pid(marker: str) -> int:
    """The pid of this process's child whose command line contains ``marker``."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == me and marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                return int(entry.name)
    raise RuntimeError(f"no child process running {marker!r}")


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of a process onto ``cpus`` (threads it starts later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(task.name), cpus)


@contextlib.contextmanager
def our_server() -> Iterator[tuple[str, int]]:
    """``mock-interviewer serve`` with the seed-budget providers (``WORKERS`` workers); yields its URL and pid."""
    env = {**SEED_BUDGET_ENV, "WORKERS": str(WORKERS)}
    with tempfile.TemporaryDirectory() as data, server_process(env=env, data_dir=Path(data)) as url:
        yield url, child_pid("web.cli")


@contextlib.contextmanager
def bare_server() -> Iterator[tuple[str, int]]:
    """``benchmarks/bare_server.py`` on a free port; yields its URL and pid."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(HERE / "bare_server.py"), "--port", str(port)]
    with running_process(command, url + "/healthz", "the bare server", timeout=60) as process:
        yield url, process.pid


#: Each kind of server: a context manager that starts it and yields its URL and pid (``peer.py`` adds
#: ``pipecat``). Clients of ``ours`` sign up and call ``/api/interviews/ID/rtc``; the others ``POST /offer``.
SERVERS: dict[str, Callable[[], contextlib.AbstractContextManager[tuple[str, int]]]] = {
    "ours": our_server,
    "bare": bare_server,
}


def status_media(url: str) -> dict[str, dict[str, Any]]:
    """``/api/status``'s media figures of each live call, by call id."""
    with urllib.request.urlopen(url + "/api/status", timeout=30) as response:
        data = json.load(response)
    return {c["call_id"]: c.get("media") or {} for c in data.get("active_calls", [])}


# ---------------------------------------------------------------------------------------------- clients


def client_process(
    conn: multiprocessing.connection.Connection,
    url: str,
    kind: str,
    calls: int,
    answers: list[list[bytes]],
    silence: bytes,
    cpus: list[int] | None,
) -> None:
    """Entry point of a client process: set up ``calls`` calls, report ready, converse from ``go`` to ``stop``,
    report each call's figures."""
    if cpus:
        os.sched_setaffinity(0, set(cpus))
    asyncio.run(_client_main(conn, url, kind, calls, answers, silence))


async def _client_main(
    conn: multiprocessing.connection.Connection,
    url: str,
    kind: str,
    count: int,
    answers: list[list[bytes]],
    silence: bytes,
) -> None:
    from benchmarks.rtc_client import BenchCall, Utterance, new_http, post_json
    from benchmarks.seed_budget import ANSWERS
    from signaling.aiortc_patches import restrict_host_addresses
    from signaling.client.api import create_interview, sign_in

    restrict_host_addresses(["127.0.0.1"])
    utterances = [Utterance(text, packets) for text, packets in zip(ANSWERS, answers, strict=True)]
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    http = [new_http() for _ in range(count)]

    stop = asyncio.Event()
    talks: list[asyncio.Task[None]] = []

    async def setup(index: int) -> BenchCall:
        call = BenchCall(silence, events=kind == "ours", channel=kind != "bare")
        session = http[index]
        async with gate:
            try:
                if kind == "ours":
                    await sign_in(session, url)
                    interview = await create_interview(session, url, {"duration_minutes": 30})
                    offer_url = f"{url}/api/interviews/{interview}/rtc"
                else:
                    offer_url = f"{url}/offer"
                await call.connect(lambda body: post_json(session, offer_url, body))
            except Exception as exc:  # a call that cannot be set up counts as dropped
                call.dropped = f"setup_failed: {exc.__class__.__name__}: {exc}"[:300]
                return call
        if kind == "ours":
            await call.wait_listening(GREETING_TIMEOUT_S)  # the window starts after the greetings
        talks.append(asyncio.create_task(call.converse(utterances, stop, replies=kind != "bare")))
        return call

    calls = list(await asyncio.gather(*(setup(i) for i in range(count))))
    conn.send(("ready", sum(c.dropped is None for c in calls)))
    await loop.run_in_executor(None, conn.recv)  # go
    go = time.monotonic()
    before = [await c.sender_stats() for c in calls]
    await loop.run_in_executor(None, conn.recv)  # stop
    end = time.monotonic()
    stop.set()
    after = [await c.sender_stats() for c in calls]
    if talks:
        await asyncio.wait(talks, timeout=10)
    figures = []
    for call, first, last in zip(calls, before, after, strict=True):
        figures.append(
            {
                "call_id": call.call_id,
                "dropped": call.dropped,
                "window_s": round(end - go, 2),
                "turns": call.turns,
                **call.arrivals.window(go, end),
                "sent": last["sent"] - first["sent"],
                "remote_lost": last["remote_lost"] - first["remote_lost"],
                "response_ms": [m.get("response_ms") for t, m in call.metrics if go <= t <= end],
                "overhead_ms": [m.get("overhead_ms") for t, m in call.metrics if go <= t <= end],
                "voice_to_voice_ms": [ms for t, ms in call.voice_to_voice if go <= t <= end],
            }
        )
    for task in talks:
        task.cancel()
    await asyncio.gather(*(c.hang_up() for c in calls), return_exceptions=True)
    await asyncio.gather(*(h.close() for h in http), return_exceptions=True)
    conn.send(("result", figures))


def encoded_answers() -> tuple[list[list[bytes]], bytes]:
    """The seed-budget answers, spoken and encoded once, and a silent packet."""
    from benchmarks.rtc_client import prepare_answers, silent_packet
    from benchmarks.seed_budget import ANSWERS

    return [u.packets for u in prepare_answers(ANSWERS)], silent_packet()


def split(total: int, parts: int) -> list[int]:
    """``total`` calls over at most ``parts`` processes, as evenly as possible (no empty process)."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


# ---------------------------------------------------------------------------------------------- one level


def run_level(
    kind: str,
    n: int,
    *,
    duration: float,
    clients: int,
    answers: list[list[bytes]],
    silence: bytes,
    server_cpus: set[int] | None,
    client_cpus: list[int] | None,
    server_turns: Callable[[str, float, float], list[float]] | None = None,
    server_factory: Callable[[], contextlib.AbstractContextManager[tuple[str, int]]] | None = None,
) -> dict[str, Any]:
    """N calls to a fresh server of ``kind`` (a key of ``SERVERS``), measured over ``duration`` seconds once
    every call is up. ``server_turns(url, start, end)``, when given, returns the server response latency of
    the turns in the window (for a server without ``metrics`` events); ``server_factory`` starts the server
    instead of ``SERVERS[kind]`` (the clients still behave as clients of ``kind``)."""
    context = multiprocessing.get_context("spawn")
    server = (server_factory or SERVERS[kind])()
    with server as (url, pid):
        if server_cpus:
            pin(pid, server_cpus)
        idle_rss = tree_rss_mb(pid)
        links = []
        procs = []
        for share in split(n, clients):
            parent_end, child_end = context.Pipe()
            proc = context.Process(
                target=client_process, args=(child_end, url, kind, share, answers, silence, client_cpus), daemon=True
            )
            proc.start()
            links.append(parent_end)
            procs.append(proc)
        try:
            connected = 0
            for link in links:
                if not link.poll(120 + GREETING_TIMEOUT_S + 3 * n):
                    raise RuntimeError("a client process did not set its calls up in time")
                connected += link.recv()[1]
            media_before = status_media(url) if kind == "ours" else {}
            cpu_before = tree_cpu_seconds(pid)
            clients_before = [cpu_seconds(p.pid) for p in procs]
            started = time.monotonic()
            for link in links:
                link.send("go")
            time.sleep(duration)  # the measurement window: the calls run in the client processes meanwhile
            elapsed = time.monotonic() - started
            cpu_used = tree_cpu_seconds(pid) - cpu_before
            clients_used = sum(cpu_seconds(p.pid) for p in procs) - sum(clients_before)
            rss = tree_rss_mb(pid)
            media_after = status_media(url) if kind == "ours" else {}
            turns = server_turns(url, started, started + elapsed) if server_turns is not None else None
            for link in links:
                link.send("stop")
            calls: list[dict[str, Any]] = []
            for link in links:
                if not link.poll(60):
                    raise RuntimeError("a client process did not report in time")
                calls.extend(link.recv()[1])
        finally:
            for proc in procs:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
    return summarize(
        kind,
        n,
        calls,
        connected=connected,
        server_cpu_pct=100 * cpu_used / elapsed,
        client_cpu_pct=100 * clients_used / elapsed,
        rss=rss,
        idle_rss=idle_rss,
        media=(media_before, media_after),
        window_s=elapsed,
        server_turns=turns,
    )


def summarize(
    kind: str,
    n: int,
    calls: list[dict[str, Any]],
    *,
    connected: int,
    server_cpu_pct: float,
    client_cpu_pct: float,
    rss: float,
    idle_rss: float,
    media: tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]],
    window_s: float,
    server_turns: list[float] | None = None,
) -> dict[str, Any]:
    """One level's figures from the per-call figures the clients reported and the server's counters."""
    voiced = sum(c["voiced"] for c in calls)
    packets = sum(c["packets"] for c in calls)
    sent = sum(c["sent"] for c in calls)
    result: dict[str, Any] = {
        "n": n,
        "connected": connected,
        "dropped": sum(c["dropped"] is not None for c in calls),
        "drop_reasons": sorted({c["dropped"] for c in calls if c["dropped"]}),
        "window_s": round(window_s, 1),
        "server_cpu_pct": round(server_cpu_pct, 1),
        "server_cpu_pct_per_call": round(server_cpu_pct / n, 2),
        "server_rss_mb": round(rss, 1),
        "server_idle_rss_mb": round(idle_rss, 1),
        "server_rss_mb_per_call": round((rss - idle_rss) / n, 2),
        "frames_received": packets,
        "voiced_frames_received": voiced,
        "late_voiced_share": round(sum(c["late_voiced"] for c in calls) / voiced, 4) if voiced else None,
        "late_share": round(sum(c["late"] for c in calls) / packets, 4) if packets else None,
        "max_gap_ms": max((c["max_gap_ms"] for c in calls if c["max_gap_ms"] is not None), default=None),
        "inbound_loss_share": round(sum(c["remote_lost"] for c in calls) / sent, 4) if sent else None,
        "turns": sum(c["turns"] for c in calls),
        "response_ms": percentiles(
            server_turns if server_turns is not None else [v for c in calls for v in c["response_ms"]]
        ),
        "client_voice_to_voice_ms": percentiles([v for c in calls for v in c["voice_to_voice_ms"]]),
        "overhead_ms": percentiles([v for c in calls for v in c.get("overhead_ms", [])]),
        "client_cpu_pct": round(client_cpu_pct, 1),
        "client_cpu_pct_per_call": round(client_cpu_pct / n, 2),
    }
    before, after = media
    if after:
        lost = received = late = 0
        for call_id, stats in after.items():
            first = before.get(call_id, {})
            lost += (stats.get("inbound_lost") or 0) - (first.get("inbound_lost") or 0)
            received += (stats.get("inbound_packets") or 0) - (first.get("inbound_packets") or 0)
            late += (stats.get("late_outbound_frames") or 0) - (first.get("late_outbound_frames") or 0)
        result["status_inbound_loss_share"] = round(lost / (received + lost), 4) if received + lost else None
        result["status_late_outbound_frames"] = late
    result["clean"] = result["dropped"] == 0 and (result["late_voiced_share"] or 0.0) < LATE_LIMIT
    return result


# ---------------------------------------------------------------------------------------------- the run


def run_level_retrying(kind: str, n: int, attempts: int = 2, **options: Any) -> dict[str, Any]:
    """``run_level``, tried again once if the server died under it (another process may signal servers by
    name on a shared machine); the result notes the attempts."""
    for attempt in range(1, attempts + 1):
        try:
            result = run_level(kind, n, **options)
            result["attempts"] = attempt
            return result
        except (RuntimeError, OSError) as exc:
            if attempt == attempts:
                raise
            print(f"N={n} {kind}: {exc.__class__.__name__}: {exc}; trying again", flush=True)
    raise AssertionError("unreachable")


def levels(quick: bool, max_n: int) -> list[int]:
    """1, 10, 15, 20, ... up to ``max_n`` (quick: 1 and 5)."""
    if quick:
        return [1, 5]
    return [1, *range(10, max_n + 1, 5)]


def print_table(rows: list[dict[str, Any]]) -> None:
    """A short table of the figures per N and server."""
    head = (
        f"{'N':>3} {'server':<5} {'cpu%':>6} {'cpu%/call':>9} {'x floor':>7} {'rss MB':>7} {'MB/call':>7} "
        f"{'late%':>6} {'loss%':>6} {'p95 resp':>8} {'p95 ovh':>7} {'drop':>4} {'client cpu%':>11}"
    )
    print(head)
    for row in rows:
        for kind in ("ours", "bare"):
            f = row.get(kind)
            if not f:
                continue
            ratio = row.get("cpu_per_call_ratio") if kind == "ours" else None
            late = "-" if f["late_voiced_share"] is None else f"{100 * f['late_voiced_share']:.2f}"
            loss = "-" if f["inbound_loss_share"] is None else f"{100 * f['inbound_loss_share']:.2f}"
            p95 = f["response_ms"]["p95"]
            ovh = f.get("overhead_ms", {}).get("p95")
            resp_cell = "-" if p95 is None else f"{p95:.0f}"
            ovh_cell = "-" if ovh is None else f"{ovh:.0f}"
            print(
                f"{f['n']:>3} {kind:<5} {f['server_cpu_pct']:>6.1f} {f['server_cpu_pct_per_call']:>9.2f} "
                f"{'-' if ratio is None else f'{ratio:.2f}':>7} {f['server_rss_mb']:>7.1f} "
                f"{f['server_rss_mb_per_call']:>7.2f} {late:>6} {loss:>6} {resp_cell:>8} {ovh_cell:>7} "
                f"{f['dropped']:>4} {f['client_cpu_pct']:>11.1f}"
            )


def main() -> dict[str, Any]:
    """Run every level (ours, then the floor) and write ``benchmarks/results/concurrency.json``."""
    parser = argparse.ArgumentParser(description="concurrent calls per server process, against a bare floor")
    parser.add_argument("--quick", action="store_true", help="N=1 and 5, 10 s windows")
    parser.add_argument("--max-n", type=int, default=60)
    parser.add_argument("--duration", type=float, default=None, help="seconds of steady window (30; quick 10)")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare floor")
    parser.add_argument("--bare-max-n", type=int, default=None, help="floor only up to this N (default: every N)")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=None, help="server on core 0")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of our server (not pinned if > 1)")
    args = parser.parse_args()
    global WORKERS
    WORKERS = args.workers
    duration = args.duration or (10.0 if args.quick else 30.0)
    cpus = sorted(os.sched_getaffinity(0))
    pinned = args.pin if args.pin is not None else (len(cpus) >= 2 and args.workers == 1)
    server_cpus = {cpus[0]} if pinned and len(cpus) >= 2 else None
    client_cpus = cpus[1:] if server_cpus else None
    answers, silence = encoded_answers()
    rows: list[dict[str, Any]] = []
    max_clean = 0
    for n in levels(args.quick, args.max_n):
        options = dict(
            duration=duration,
            clients=args.clients,
            answers=answers,
            silence=silence,
            server_cpus=server_cpus,
            client_cpus=client_cpus,
        )
        print(f"N={n}: ours ...", flush=True)
        row: dict[str, Any] = {"n": n, "ours": run_level_retrying("ours", n, **options)}
        if not args.no_bare and (args.bare_max_n is None or n <= args.bare_max_n):
            print(f"N={n}: bare ...", flush=True)
            row["bare"] = run_level_retrying("bare", n, **options)
            floor = row["bare"]["server_cpu_pct_per_call"]
            row["cpu_per_call_ratio"] = round(row["ours"]["server_cpu_pct_per_call"] / floor, 2) if floor else None
        rows.append(row)
        if not row["ours"]["clean"]:
            break
        max_clean = n
    result = {
        "profile": "seed-budget",
        "workers": args.workers,
        "window_s": duration,
        "client_processes": args.clients,
        "pinned": {"server_cpus": sorted(server_cpus) if server_cpus else None, "client_cpus": client_cpus},
        "cpu_count": os.cpu_count(),
        "late_threshold_ms": 40,
        "break_rule": f"a dropped call or {100 * LATE_LIMIT:.0f}% or more late voiced frames",
        "max_clean_n": max_clean,
        "levels": rows,
    }
    path = write_result("concurrency" if args.workers == 1 else f"concurrency_{args.workers}_workers", result)
    print_table(rows)
    print(f"largest clean N: {max_clean}; written to {path}")
    return result


if __name__ == "__main__":
    main()

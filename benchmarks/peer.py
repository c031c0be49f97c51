"""Ours against the peer, in one run: the same seed-budget provider timing behind our server and behind a
Pipecat bot (``benchmarks/peer/pipecat_bot.py``, Pipecat's standard pipeline over its SmallWebRTC transport,
Silero VAD), loaded by the same clients (``benchmarks/rtc_client.py``: pre-encoded Opus, no decoding, in
client processes separate from the server).

- N=1: a few turns. Server response latency: ours from its ``metrics`` events (``first_frame_sent -
  user_speech_end``); Pipecat's from the bot's own clock, measured the same way (last voiced input frame at
  its STT to the ``BotStartedSpeakingFrame`` of its output transport; ``GET /turns``). The client's
  voice-to-voice latency (last voiced packet sent to the reply's first voiced packet received, on RTP arrival)
  is measured identically for both. Server overhead = response latency minus the provider stages, known from
  the fixed timings: endpointing and STT final 250 ms + LLM first token 800 ms + TTS first audio 300 ms.
- N=10: CPU per call (percent of one core over the steady window), late frames at the client, RSS per call.

Ours runs with ``EARLY_REPLY=false`` here, so that both pipelines are sequential (an early reply starts the
LLM before the final transcript and would make our overhead negative); ``concurrency.py`` measures ours as
shipped. The peer's virtualenv comes first (outside the loopback namespace, it needs PyPI):

    ./benchmarks/peer/setup.sh
    ./scripts/in-loopback-netns.sh .venv/bin/python benchmarks/peer.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import free_port, running_process, server_process, write_result
from benchmarks.concurrency import SEED_BUDGET_ENV, child_pid, encoded_answers, run_level_retrying

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE / "peer" / ".venv" / "bin" / "python"
BOT = HERE / "peer" / "pipecat_bot.py"
#: Endpointing and STT final (250 ms) + LLM first token (800 ms) + TTS first audio (300 ms).
PROVIDER_STAGES_MS = 250 + 800 + 300


@contextlib.contextmanager
def ours_sequential() -> Iterator[tuple[str, int]]:
    """Our server with the seed-budget providers and no early reply; yields its URL and pid."""
    env = {**SEED_BUDGET_ENV, "EARLY_REPLY": "false"}
    with tempfile.TemporaryDirectory() as data, server_process(env=env, data_dir=Path(data)) as url:
        yield url, child_pid("web.cli")


@contextlib.contextmanager
def pipecat_server() -> Iterator[tuple[str, int]]:
    """The Pipecat bot on a free port, with the peer's virtualenv; yields its URL and pid."""
    if not PEER_PYTHON.exists():
        raise SystemExit("the peer's virtualenv is missing: run ./benchmarks/peer/setup.sh first (it needs PyPI)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(PEER_PYTHON), str(BOT), "--port", str(port), "--log-level", "ERROR"]
    with running_process(command, url + "/healthz", "the Pipecat bot") as process:
        yield url, process.pid


def pipecat_turns(url: str, start: float, end: float) -> list[float]:
    """The bot's server response latency of the turns that began between ``start`` and ``end``."""
    with urllib.request.urlopen(url + "/turns", timeout=10) as response:
        turns = json.load(response)["turns"]
    return [t["response_ms"] for t in turns if start <= t["at"] <= end]


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 2)


def side_figures(level: dict[str, Any]) -> dict[str, Any]:
    """The figures the comparison reads, from one ``run_level`` result."""
    response = level["response_ms"]
    return {
        "n": level["n"],
        "dropped": level["dropped"],
        "turns": level["turns"],
        "response_ms": response,
        "overhead_ms_p50": None if response["p50"] is None else round(response["p50"] - PROVIDER_STAGES_MS, 1),
        "overhead_ms_p95": None if response["p95"] is None else round(response["p95"] - PROVIDER_STAGES_MS, 1),
        "client_voice_to_voice_ms": level["client_voice_to_voice_ms"],
        "server_cpu_pct": level["server_cpu_pct"],
        "server_cpu_pct_per_call": level["server_cpu_pct_per_call"],
        "server_rss_mb_per_call": level["server_rss_mb_per_call"],
        "late_voiced_share": level["late_voiced_share"],
        "late_share": level["late_share"],
        "inbound_loss_share": level["inbound_loss_share"],
        "client_cpu_pct": level["client_cpu_pct"],
    }


def main() -> dict[str, Any]:
    """Both sides at N=1 and N=10 (quick: 1 and 5, shorter), ratios ours/theirs, ``results/peer.json``."""
    parser = argparse.ArgumentParser(description="ours against a Pipecat bot with the same provider timing")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=None, help="server on core 0")
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    pinned = args.pin if args.pin is not None else len(cpus) >= 2
    server_cpus = {cpus[0]} if pinned and len(cpus) >= 2 else None
    client_cpus = cpus[1:] if server_cpus else None
    answers, silence = encoded_answers()
    plan = [(1, 20.0), (5, 10.0)] if args.quick else [(1, 45.0), (10, 30.0)]
    sides = {
        "ours": {"kind": "ours", "server_factory": ours_sequential},
        "pipecat": {"kind": "pipecat", "server_factory": pipecat_server, "server_turns": pipecat_turns},
    }
    levels: dict[str, dict[str, Any]] = {}
    for n, duration in plan:
        for name, side in sides.items():
            print(f"N={n}: {name} ...", flush=True)
            level = run_level_retrying(
                side["kind"],
                n,
                duration=duration,
                clients=args.clients,
                answers=answers,
                silence=silence,
                server_cpus=server_cpus,
                client_cpus=client_cpus,
                server_turns=side.get("server_turns"),
                server_factory=side["server_factory"],
            )
            levels.setdefault(f"n{n}", {})[name] = side_figures(level)
    small, large = (f"n{n}" for n, _ in plan)
    ours, theirs = levels[small]["ours"], levels[small]["pipecat"]
    ours_l, theirs_l = levels[large]["ours"], levels[large]["pipecat"]
    ratios = {
        "response_ms_p50": _ratio(ours["response_ms"]["p50"], theirs["response_ms"]["p50"]),
        "response_ms_p95": _ratio(ours["response_ms"]["p95"], theirs["response_ms"]["p95"]),
        "overhead_ms_p50": _ratio(ours["overhead_ms_p50"], theirs["overhead_ms_p50"]),
        "client_voice_to_voice_ms_p50": _ratio(
            ours["client_voice_to_voice_ms"]["p50"], theirs["client_voice_to_voice_ms"]["p50"]
        ),
        f"cpu_per_call_{large}": _ratio(ours_l["server_cpu_pct_per_call"], theirs_l["server_cpu_pct_per_call"]),
        f"late_voiced_share_{large}": _ratio(ours_l["late_voiced_share"], theirs_l["late_voiced_share"]),
        f"rss_per_call_{large}": _ratio(ours_l["server_rss_mb_per_call"], theirs_l["server_rss_mb_per_call"]),
    }
    result = {
        "profile": "seed-budget (ours with EARLY_REPLY=false)",
        "peer": "pipecat-ai SmallWebRTCTransport, Silero VAD, SpeechTimeoutUserTurnStopStrategy(0.05 s)",
        "peer_version": _peer_version(),
        "provider_stages_ms": PROVIDER_STAGES_MS,
        "pinned": {"server_cpus": sorted(server_cpus) if server_cpus else None, "client_cpus": client_cpus},
        "levels": levels,
        "ratios_ours_over_theirs": ratios,
    }
    path = write_result("peer", result)
    print_table(levels, ratios)
    print(f"written to {path}")
    return result


def _peer_version() -> str | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        code = "import importlib.metadata as m; print(m.version('pipecat-ai'))"
        return subprocess.check_output([str(PEER_PYTHON), "-c", code], text=True).strip()
    return None


def print_table(levels: dict[str, dict[str, Any]], ratios: dict[str, float | None]) -> None:
    """The figures per side and N, then the ratios."""
    print(
        f"{'N':>3} {'server':<8} {'resp p50':>8} {'resp p95':>8} {'ovh p50':>8} {'v2v p50':>8} "
        f"{'cpu%/call':>9} {'late%':>6} {'MB/call':>7} {'drop':>4}"
    )

    def show(value: float | None, digits: int = 0) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    for sides in levels.values():
        for name, f in sides.items():
            late = None if f["late_voiced_share"] is None else 100 * f["late_voiced_share"]
            print(
                f"{f['n']:>3} {name:<8} {show(f['response_ms']['p50']):>8} {show(f['response_ms']['p95']):>8} "
                f"{show(f['overhead_ms_p50']):>8} {show(f['client_voice_to_voice_ms']['p50']):>8} "
                f"{show(f['server_cpu_pct_per_call'], 2):>9} {show(late, 2):>6} "
                f"{show(f['server_rss_mb_per_call'], 1):>7} {f['dropped']:>4}"
            )
    print("ours / theirs: " + ", ".join(f"{k} {show(v, 2)}" for k, v in ratios.items()))


if __name__ == "__main__":
    main()

"""`make bench`: every benchmark in turn, each writing benchmarks/results/NAME.json; `--quick` for a smaller run.

The peer comparison with Pipecat has its own target (`make bench-peer`): it installs Pipecat in a virtual
environment of its own first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = [
    ["latency.py", "--turns", "10", "--barge-ins", "5"],
    ["inbound_buffering.py", "--seconds", "12"],
    ["concurrency.py", "--max-n", "30", "--bare-max-n", "20", "--duration", "20"],
    ["concurrency.py", "--workers", "2", "--max-n", "40", "--no-bare", "--duration", "20"],
    ["api_load.py", "--clients", "32", "--seconds", "20"],
    ["stt_hearing.py"],
    ["turn_taking.py"],
]
QUICK = [
    ["latency.py", "--turns", "1", "--barge-ins", "1", "--profile", "seed-budget"],
    ["inbound_buffering.py", "--seconds", "3"],
    ["concurrency.py", "--quick", "--no-bare", "--duration", "5"],
    ["api_load.py", "--clients", "8", "--seconds", "3"],
    ["turn_taking.py", "--quick"],
]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    if quick:
        os.environ["MOCK_INTERVIEWER_BENCH_QUICK"] = "1"
    failed = []
    started = time.monotonic()
    for script, *args in QUICK if quick else FULL:
        print(f"\n== {script} {' '.join(args)}", flush=True)
        if subprocess.call([sys.executable, str(HERE / script), *args]) != 0:
            failed.append(script)
    print(f"\n{'quick ' if quick else ''}benchmarks done in {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

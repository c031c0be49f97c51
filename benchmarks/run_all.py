"""`make bench`: every benchmark in turn; `--quick` for a smaller run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    runs = [["latency.py", "--turns", "3" if quick else "10"]]
    if not quick:
        runs.append(["stt_hearing.py"])
    failed = 0
    for script, *args in runs:
        print(f"\n== {script} {' '.join(args)}", flush=True)
        failed += subprocess.call([sys.executable, str(HERE / script), *args]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

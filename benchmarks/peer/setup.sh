#!/usr/bin/env bash
# The peer's own virtualenv: Pipecat with its SmallWebRTC transport and Silero VAD, kept apart from ours
# (benchmarks/peer/.venv). Needs PyPI: run it OUTSIDE the loopback-only network namespace.
#
#     ./benchmarks/peer/setup.sh            # then: ./scripts/in-loopback-netns.sh .venv/bin/python benchmarks/peer.py
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-$(for p in python3.11 python3.12 python3.13 python3; do
    command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo "$p" && break
done)}"
test -n "$PYTHON" || { echo "Python 3.11 or newer is needed" >&2; exit 1; }
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# fastapi: Pipecat's SmallWebRTC request handler imports it; espeakng-loader: the bot's TTS speaks with eSpeak NG, as
# the seed-budget TTS does on our side.
"$VENV/bin/python" -m pip install --quiet "pipecat-ai[webrtc,silero]>=1.14,<2" "fastapi>=0.110" "espeakng-loader>=0.2"
"$VENV/bin/python" -c 'import pipecat, importlib.metadata as m; print("pipecat-ai", m.version("pipecat-ai"))'

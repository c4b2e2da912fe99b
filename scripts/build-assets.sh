#!/usr/bin/env bash
# Build what the pages and the tracker need from npm: `npm ci` (pinned by package-lock.json), the
# front-end libraries copied into katsuo/web/static/vendor/ and the tracker minified into
# katsuo/web/tracker/script.min.js (all git-ignored). Run by scripts/setup.sh and by a wheel
# build (setup.py), so a wheel carries them. Each step is skipped when the inputs it was last
# run with are unchanged (a stamp holds their checksum).
# Usage: PYTHON=python3 scripts/build-assets.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

stamp_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-64; }
current() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

npm_inputs=$(stamp_of package.json package-lock.json)
assets_inputs=$(stamp_of package-lock.json katsuo/web/vendor.py katsuo/web/tracker/script.js \
  katsuo/web/tracker/build.py)
if current katsuo/web/static/vendor/.katsuo-setup "$assets_inputs" \
    && [ -f katsuo/web/tracker/script.min.js ]; then
  echo "assets: front-end libraries and the minified tracker are current"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "assets: ERROR: npm not found; it is needed to build the pages' libraries and the tracker" >&2
  exit 1
fi
if current node_modules/.katsuo-setup "$npm_inputs"; then
  echo "assets: front-end packages are current"
else
  echo "assets: installing front-end packages and the GeoLite2 database (npm ci)"
  # No install scripts: none of the packages needs one, and swagger-ui-dist's dependency
  # @scarf/scarf would report the install to its vendor.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$npm_inputs" > node_modules/.katsuo-setup
fi
# Both run as files, not modules: they need only the standard library (and terser).
"$PYTHON" katsuo/web/vendor.py node_modules
"$PYTHON" katsuo/web/tracker/build.py
echo "$assets_inputs" > katsuo/web/static/vendor/.katsuo-setup

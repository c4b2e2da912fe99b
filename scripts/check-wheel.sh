#!/usr/bin/env bash
# Check that a wheel works on its own: build it (the asset build runs from npm), install it with
# its pinned dependencies into a fresh virtual environment outside the tree, start `katsuo serve`
# there on a scratch database, and fetch the login page, a website's dashboard, the front-end
# libraries and the tracker over HTTP. Needs PyPI (and npm when the assets are not built yet).
# Usage: scripts/check-wheel.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-39301}
PYTHON=${PYTHON:-python3}
work=$(mktemp -d /tmp/katsuo-wheel.XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "wheel: building"
"$PYTHON" -m pip wheel --quiet --no-deps -w "$work/dist" .
wheel=$(echo "$work"/dist/katsuo-*.whl)
echo "wheel: $(basename "$wheel"), $(stat -c %s "$wheel") bytes"
"$PYTHON" - "$wheel" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
sys.path.insert(0, "katsuo/web")
from vendor import VENDOR_FILES
wanted = {f"katsuo/web/static/vendor/{name}" for name in VENDOR_FILES.values()}
wanted.add("katsuo/web/tracker/script.min.js")
missing = sorted(wanted - names)
if missing:
    sys.exit(f"wheel: MISSING {missing}")
print(f"wheel: holds the {len(wanted)} built front-end files")
PY

echo "wheel: installing into a fresh virtual environment"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$wheel"
mkdir "$work/run"
(cd "$work/run" && exec env -i PATH=/usr/bin:/bin HOME="$work/run" KATSUO_DATA_DIR="$work/run/data" \
  PORT="$PORT" HOSTNAME=127.0.0.1 "$work/venv/bin/katsuo" serve > "$work/serve.log" 2>&1) &
server=$!
base=http://127.0.0.1:$PORT
for _ in $(seq 1 120); do curl -sf "$base/api/heartbeat" >/dev/null && break; sleep 0.5; done
curl -sf "$base/api/heartbeat" >/dev/null || { cat "$work/serve.log"; echo "wheel: FAILED to start" >&2; exit 1; }

fetch() {  # URL [curl options...]: fail unless it answers 200
  local code
  code=$(curl -s -o "$work/body" -w '%{http_code}' "${@:2}" "$base$1")
  [ "$code" = 200 ] || { echo "wheel: FAILED: $1 answered $code" >&2; exit 1; }
  echo "wheel: $1 200, $(stat -c %s "$work/body") bytes"
}
fetch /login
token=$(curl -sf -H 'content-type: application/json' -d '{"username":"admin","password":"umami"}' \
  "$base/api/auth/login" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["token"])')
website=$(curl -sf -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name":"wheel","domain":"wheel.test"}' "$base/api/websites" \
  | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
fetch "/websites/$website" -b "katsuo_auth=$token"
for library in $(grep -o 'static/vendor/[^"?]*' "$work/body" | sort -u); do fetch "/$library"; done
fetch /script.js
grep -q "__KATSUO_" "$work/body" && { echo "wheel: FAILED: placeholders in the tracker" >&2; exit 1; }
[ "$(stat -c %s "$work/body")" -lt 6000 ] || { echo "wheel: FAILED: tracker not minified" >&2; exit 1; }
echo "wheel: OK"

#!/usr/bin/env bash
# Build Katsuo's container image with podman where no Docker daemon runs, then smoke-test it
# without a container runtime: the image is mounted and `katsuo serve` started in a chroot of it,
# as the image's own user, environment and command, with a scratch folder as its data volume.
#   1. a Debian bookworm base image made with debootstrap + `podman import`, once
#      (BASE_IMAGE=docker.io/library/debian:bookworm-slim uses the official one instead);
#   2. `podman build --isolation=chroot` of the Dockerfile over that base;
#   3. the smoke test: /api/heartbeat and the login page answer over HTTP.
# Usage (as root): scripts/container-build.sh [--base-only | --no-smoke-test]
# Variables: IMAGE (default localhost/katsuo:latest), BASE_IMAGE, DEBIAN_MIRROR, SMOKE_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/katsuo:latest}
BASE_IMAGE=${BASE_IMAGE:-localhost/debian:bookworm-slim}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SMOKE_PORT=${SMOKE_PORT:-39300}

for tool in podman debootstrap; do
  if ! command -v "$tool" >/dev/null; then
    echo "container: installing $tool (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
  fi
done

make_base() {
  if podman image exists "$BASE_IMAGE"; then
    echo "container: base image $BASE_IMAGE exists"
    return
  fi
  case "$BASE_IMAGE" in
    localhost/*) ;;
    *) echo "container: pulling $BASE_IMAGE"; podman pull "$BASE_IMAGE"; return ;;
  esac
  local root
  root=$(mktemp -d /var/tmp/katsuo-base.XXXXXX)
  echo "container: debootstrap bookworm (minbase) into $root"
  debootstrap --variant=minbase bookworm "$root" "$DEBIAN_MIRROR" >/dev/null
  # The host's own certificate authorities (a TLS-inspecting proxy's, say), so that a build on
  # this machine reaches PyPI and npm: the build stage trusts the system's list.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  fi
  # Like the official slim image: the same package sources, no package lists, docs or caches.
  rm -f "$root/etc/apt/sources.list"
  cat > "$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $DEBIAN_MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
  tar -C "$root" -c . | podman import --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  echo "container: imported $BASE_IMAGE"
}

build() {
  echo "container: building $IMAGE over $BASE_IMAGE"
  # Docker format: the OCI format has no HEALTHCHECK.
  podman build --isolation=chroot --format docker --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -t "$IMAGE" .
  podman image ls "$IMAGE"
}

smoke_test() {
  local uid env_lines cmd  # mnt, data, pid: global, the EXIT trap reads them
  mnt=$(podman image mount "$IMAGE")
  data=$(mktemp -d /var/tmp/katsuo-smoke.XXXXXX)
  # The image as Docker would run it: its user, environment, working folder and command.
  uid=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
  uid=$(awk -F: -v u="$uid" '$1 == u || $3 == u {print $3 ":" $4}' "$mnt/etc/passwd")
  mapfile -t env_lines < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" | sed '/^$/d')
  mapfile -t cmd < <(podman image inspect --format '{{range .Config.Cmd}}{{println .}}{{end}}' "$IMAGE" | sed '/^$/d')
  chown "$uid" "$data"
  cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    for dir in data tmp dev proc; do umount "$mnt/$dir" 2>/dev/null || true; done
    podman image unmount "$IMAGE" >/dev/null || true
    rm -rf "$data"
  }
  trap cleanup EXIT
  mount --bind "$data" "$mnt/data"  # the VOLUME
  mount -t tmpfs tmpfs "$mnt/tmp"
  mount --rbind /dev "$mnt/dev"
  mount -t proc proc "$mnt/proc"
  echo "container: smoke test: ${cmd[*]} as $uid on port $SMOKE_PORT"
  chroot --userspec="$uid" "$mnt" /usr/bin/env -i "${env_lines[@]}" "PORT=$SMOKE_PORT" \
    sh -c "cd $(podman image inspect --format '{{.Config.WorkingDir}}' "$IMAGE") && exec \"\$@\"" \
    sh "${cmd[@]}" > "$data.log" 2>&1 &
  pid=$!
  local started=$SECONDS
  until curl -sf "http://127.0.0.1:$SMOKE_PORT/api/heartbeat" >/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || [ $((SECONDS - started)) -gt 90 ]; then
      echo "container: SMOKE TEST FAILED: the server did not answer; its output:" >&2
      cat "$data.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "container: /api/heartbeat answered after $((SECONDS - started)) s"
  local login
  login=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SMOKE_PORT/login")
  [ "$login" = 200 ] || { echo "container: SMOKE TEST FAILED: /login answered $login" >&2; exit 1; }
  echo "container: /login answered 200"
  # The same check the image's HEALTHCHECK runs.
  chroot --userspec="$uid" "$mnt" /usr/bin/env -i "${env_lines[@]}" "PORT=$SMOKE_PORT" \
    sh -c "$(podman image inspect --format '{{index .Config.Healthcheck.Test 1}}' "$IMAGE")"
  echo "container: HEALTHCHECK passed"
  ls -la "$data"
  rm -f "$data.log"
  echo "container: smoke test passed"
}

make_base
[ "${1:-}" = "--base-only" ] && exit 0
build
[ "${1:-}" = "--no-smoke-test" ] || smoke_test

#!/usr/bin/env bash
# Ingestion benchmark: bounded wrk runs against one Katsuo process on 127.0.0.1, /api/send and the
# no-op route of the same server in the same run.
# Usage: bench/ingest/run.sh [duckdb|postgresql|clickhouse] [seconds] [rounds (clickhouse only)]
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk (Debian package)"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
exec .venv/bin/python bench/ingest/run.py "$@"

"""Start-up benchmark: time to the first 200 from /api/heartbeat and resident memory of a fresh
server, on a new DuckDB data folder and on a new PostgreSQL database.

    .venv/bin/python bench/startup/run.py [--runs 3] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Each run starts `python -m katsuo serve` on a free port, polls the heartbeat, reads VmRSS from
/proc once the server is idle, again after a handful of API requests, then stops it. The baseline
of the same run is a bare `python -c` interpreter: its start time and RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

GOAL_MB = 150


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def call(
    base: str, method: str, path: str, body: dict | None = None, token: str | None = None
) -> dict:
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def some_requests(base: str) -> None:
    token = call(base, "POST", "/api/auth/login", {"username": "admin", "password": "umami"})[
        "token"
    ]
    for i in range(5):
        website = call(
            base, "POST", "/api/websites", {"name": f"Site {i}", "domain": f"s{i}.example"}, token
        )
        call(base, "GET", f"/api/websites/{website['id']}", token=token)
        call(
            base,
            "POST",
            "/api/reports",
            {"websiteId": website["id"], "type": "goal", "name": "g", "parameters": {}},
            token,
        )
    team = call(base, "POST", "/api/teams", {"name": "Bench"}, token)[0]
    for path in (
        "/api/websites",
        "/api/teams",
        f"/api/teams/{team['id']}/users",
        "/api/admin/users",
        "/api/me",
    ):
        call(base, "GET", path, token=token)


def one_run(env: dict[str, str]) -> tuple[float, float, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "katsuo", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/api/heartbeat", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.02)
        first_200 = time.perf_counter() - started
        time.sleep(1.0)
        idle = rss_mb(process.pid)
        some_requests(base)
        time.sleep(0.5)
        busy = rss_mb(process.pid)
        return first_200, idle, busy
    finally:
        process.terminate()
        process.wait(timeout=30)


def baseline() -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; print(1, flush=True); time.sleep(2)"],
        stdout=subprocess.PIPE,
    )
    process.stdout.readline()
    elapsed = time.perf_counter() - started
    rss = rss_mb(process.pid)
    process.wait()
    return elapsed, rss


def postgres_database(admin_url: str):
    import sqlalchemy as sa

    engine = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    name = f"katsuo_bench_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "KATSUO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    base_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "LOG_QUERY")
    }
    base_env["APP_SECRET"] = "bench"

    base_times, base_rss = zip(*(baseline() for _ in range(args.runs)))
    base_t, base_m = statistics.median(base_times), statistics.median(base_rss)
    print(
        f"{args.runs} runs each: median (max). Baseline: a bare `python -c` of the same run, "
        f"{base_t:.2f} s to first output, {base_m:.0f} MB RSS.\n"
    )
    print(
        f"{'':26} {'first 200 s':>13} {'x base':>7} {'idle RSS MB':>12} {'x base':>7} {'after requests MB':>18}"
    )
    worst_idle = 0.0
    for engine in ("duckdb", "postgresql"):
        results = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as data_dir:
                env = {**base_env, "KATSUO_DATA_DIR": data_dir}
                drop = None
                if engine == "postgresql":
                    try:
                        env["DATABASE_URL"], drop = postgres_database(args.postgres)
                    except Exception as error:  # noqa: BLE001 - report and go on with what can run
                        print(f"postgresql skipped: {error}", file=sys.stderr)
                        break
                try:
                    results.append(one_run(env))
                finally:
                    if drop:
                        drop()
        if not results:
            continue
        times, idle, busy = zip(*results)
        worst_idle = max(worst_idle, max(idle))
        print(
            f"{'katsuo serve, ' + engine:26} {statistics.median(times):6.2f} ({max(times):4.2f})"
            f" {statistics.median(times) / base_t:7.1f} {statistics.median(idle):5.0f} ({max(idle):4.0f})"
            f" {statistics.median(idle) / base_m:7.1f} {statistics.median(busy):11.0f} ({max(busy):4.0f})"
        )
    verdict = "met" if worst_idle <= GOAL_MB else "NOT met"
    print(f"\ngoal: idle RSS <= {GOAL_MB} MB: {verdict} (worst idle run {worst_idle:.0f} MB)")


if __name__ == "__main__":
    main()

"""End-to-end dashboard timing over HTTP with the reference benchmark's own requests.

Starts `katsuo serve` on the given dataset (a free loopback port), then uses the helpers of
../shared/bench/read_bench.py — the script Umami 3.1 was measured with — for the overview's
individual requests (median of N warm runs) and for the whole overview page fired 6-way
parallel like a browser, and the two reports the reference measured (funnel with 4 steps,
retention over the whole window).

usage:
  http_run.py --data-dir DIR | --database-url URL [--end-ms MS] [--ranges 30,90] [--runs 5]
              [--with-sessions]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
OVERVIEW = [
    "stats",
    "pageviews_day",
    "metrics_path",
    "metrics_referrer",
    "metrics_browser",
    "metrics_country",
    "events_series",
    "funnel",
    "retention",
]


def _read_bench():
    from bench.dashboard.gen_dataset import SHARED_GEN

    spec = importlib.util.spec_from_file_location("read_bench", SHARED_GEN.parent / "read_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "katsuo", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/heartbeat", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = ap.add_mutually_exclusive_group(required=True)
    target.add_argument("--data-dir")
    target.add_argument("--database-url")
    ap.add_argument("--website", default="7a1b0000-0000-4000-8000-000000000001")
    ap.add_argument("--end-ms", type=int, default=1777593600000)  # 2026-05-01 00:00 UTC
    ap.add_argument("--ranges", default="30,90")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--with-sessions", action="store_true", help="also time the session list")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    rb = _read_bench()
    env = {"APP_SECRET": "bench"}
    env.update({"KATSUO_DATA_DIR": a.data_dir} if a.data_dir else {"DATABASE_URL": a.database_url})
    port = _free_port()
    server = _serve(env, port)
    base = f"http://127.0.0.1:{port}"
    results: dict = {}
    try:
        _, body, _ = rb.http(
            "POST", base + "/api/auth/login", body={"username": "admin", "password": "umami"}
        )
        token = json.loads(body)["token"]
        wanted = OVERVIEW + (["sessions"] if a.with_sessions else [])
        for days in (int(d) for d in a.ranges.split(",")):
            start = a.end_ms - days * rb.DAY_MS
            rows = results[f"{days}d"] = {}
            for name, method, path, payload in rb.requests_for(base, a.website, start, a.end_ms):
                if name not in wanted:
                    continue
                rb.http(method, base + path, token, payload)
                times = [
                    rb.http(method, base + path, token, payload)[2] * 1000 for _ in range(a.runs)
                ]
                rows[name] = round(statistics.median(times), 1)
                print(f"{days:>3}d {name:<18} median {rows[name]:9.1f} ms", flush=True)
            requests = rb.dashboard_requests(a.website, start, a.end_ms)

            def one(request):
                status, _, elapsed = rb.http(request[0], base + request[1], token, None)
                assert status == 200, (status, request)
                return elapsed

            def load(requests=requests):
                t0 = time.perf_counter()
                with ThreadPoolExecutor(max_workers=6) as pool:
                    list(pool.map(one, requests))
                return (time.perf_counter() - t0) * 1000

            load()
            walls = [load() for _ in range(a.runs)]
            rows["dashboard_parallel6"] = round(statistics.median(walls), 1)
            print(
                f"{days:>3}d dashboard ({len(requests)} requests, 6-way parallel) median "
                f"{rows['dashboard_parallel6']:.1f} ms",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=60)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""Soak benchmark: a live `katsuo serve` on 127.0.0.1 under a fixed rate of mixed ingest and
reads for N minutes, its resident memory sampled every few seconds.

    .venv/bin/python -m bench.soak.run [--minutes 10] [--rate 40] [--read-share 0.25]
        [--sample 10] [--database-url postgresql://…] [--data-dir DIR]

The server runs as a subprocess (`python -m katsuo serve`, embedded DuckDB in a temporary data
folder unless --database-url). The load: `--rate` requests per second, a `--read-share` of them
reads (stats, pageviews, metrics by path, the revenue and funnel reports, in turn) and the rest
hits to /api/send from a rotating set of visitors. Requests go out at fixed instants from a
small pool of threads; every loop is bounded by the duration, and traffic goes only to
127.0.0.1. Every `--sample` seconds one line: elapsed time, RSS of the server (MB), requests and
errors so far, and the p50/p99 latency (ms) of the requests of that interval.
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HOST = "127.0.0.1"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
PATHS = ["/", "/pricing", "/docs", "/blog/soak", "/signup"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = self.errors = 0
        self.latencies: list[float] = []
        self.failures: Counter[str] = Counter()

    def add(self, ms: float, failure: str | None) -> None:
        with self.lock:
            self.requests += 1
            if failure is not None:
                self.errors += 1
                self.failures[failure] += 1
            self.latencies.append(ms)

    def interval(self) -> tuple[int, int, list[float]]:
        with self.lock:
            latencies, self.latencies = self.latencies, []
            return self.requests, self.errors, latencies


def start_server(args, folder: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "HOSTNAME": HOST,
        "PORT": str(port),
        "APP_SECRET": "soak",
        "KATSUO_DATA_DIR": args.data_dir or folder,
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    server = subprocess.Popen(
        [sys.executable, "-m", "katsuo", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/heartbeat", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start within 60 s")


def requests(base: str, token: str, website: str, read_share: float):
    """An endless cycle of request makers, `read_share` of them reads."""
    stats_params = {"startAt": 0, "endAt": 4102444800000, "unit": "day", "timezone": "UTC"}
    report = {
        "websiteId": website,
        "filters": {},
        "parameters": {
            "startDate": "2020-01-01T00:00:00.000Z",
            "endDate": "2099-12-31T00:00:00.000Z",
        },
    }
    auth = {"Authorization": f"Bearer {token}"}
    reads = itertools.cycle(
        [
            ("GET", f"/api/websites/{website}/stats", {"params": stats_params}),
            ("GET", f"/api/websites/{website}/pageviews", {"params": stats_params}),
            (
                "GET",
                f"/api/websites/{website}/metrics",
                {"params": {**stats_params, "type": "path"}},
            ),
            (
                "POST",
                "/api/reports/revenue",
                {
                    "json": {
                        **report,
                        "type": "revenue",
                        "parameters": {**report["parameters"], "currency": "USD"},
                    }
                },
            ),
            (
                "POST",
                "/api/reports/funnel",
                {
                    "json": {
                        **report,
                        "type": "funnel",
                        "parameters": {
                            **report["parameters"],
                            "window": 60,
                            "steps": [
                                {"type": "path", "value": "/"},
                                {"type": "path", "value": "/signup"},
                            ],
                        },
                    }
                },
            ),
        ]
    )
    visitors = itertools.count()
    every = max(1, round(1 / read_share)) if read_share > 0 else 0
    for n in itertools.count():
        if every and n % every == 0:
            method, path, kwargs = next(reads)
            yield method, path, {**kwargs, "headers": auth}
        else:
            visitor = next(visitors) % 500
            payload = {
                "website": website,
                "url": PATHS[n % len(PATHS)],
                "hostname": "example.com",
                "title": "Soak",
                "language": "en-US",
                "screen": "1920x1080",
            }
            if n % 7 == 0:
                payload.update(name="purchase", data={"revenue": 9.5, "currency": "USD"})
            yield (
                "POST",
                "/api/send",
                {
                    "json": {"type": "event", "payload": payload},
                    "headers": {
                        "User-Agent": USER_AGENT,
                        "X-Forwarded-For": f"198.51.{visitor // 250}.{visitor % 250 + 1}",
                    },
                },
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=40, help="requests per second")
    parser.add_argument("--read-share", type=float, default=0.25)
    parser.add_argument("--sample", type=float, default=10, help="seconds between lines")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--data-dir", default="")
    args = parser.parse_args(argv)
    if not (0 < args.minutes <= 24 * 60 and 0 < args.rate <= 1000 and 0 <= args.read_share <= 1):
        raise SystemExit("--minutes in (0, 1440], --rate in (0, 1000], --read-share in [0, 1]")
    with tempfile.TemporaryDirectory() as folder:
        server, base = start_server(args, folder)
        try:
            run(args, server, base)
        finally:
            server.terminate()
            server.wait(30)


def run(args, server: subprocess.Popen, base: str) -> None:
    with httpx.Client(base_url=base, timeout=60) as http:
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": "umami"}
        ).json()["token"]
        website = http.post(
            "/api/websites",
            json={"name": "Soak", "domain": "example.com"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["id"]
    tally = Tally()
    total = int(args.minutes * 60 * args.rate)
    started = time.monotonic()
    print(
        f"soak: {args.minutes:g} min, {args.rate:g} req/s, {args.read_share:.0%} reads, "
        f"server pid {server.pid}, {'PostgreSQL' if args.database_url else 'embedded DuckDB'}"
    )
    print(f"{'t (s)':>7} {'RSS MB':>8} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{0:7.0f} {rss_mb(server.pid):8.1f} {0:9d} {0:7d} {'-':>8} {'-':>8}", flush=True)
    next_sample = started + args.sample

    def send(http: httpx.Client, method: str, path: str, kwargs: dict) -> None:
        begun = time.perf_counter()
        try:
            status = http.request(method, path, **kwargs).status_code
            failure = None if status < 400 else f"{status} {path.rsplit('/', 1)[-1]}"
        except httpx.HTTPError as error:
            failure = type(error).__name__
        tally.add((time.perf_counter() - begun) * 1000, failure)

    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=base, timeout=60)
        return local.http

    with ThreadPoolExecutor(16) as pool:
        for n, (method, path, kwargs) in zip(
            range(total), requests(base, token, website, args.read_share)
        ):
            due = started + n / args.rate
            while (now := time.monotonic()) < due:
                time.sleep(min(due - now, max(0.0, next_sample - now), 0.05) or 0.001)
                if time.monotonic() >= next_sample:
                    next_sample = _line(tally, server, started, next_sample, args.sample)
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}")
            pool.submit(lambda m=method, p=path, k=kwargs: send(client(), m, p, k))
    _line(tally, server, started, time.monotonic(), 0)
    print("errors:", dict(tally.failures) or "none")


def _line(tally: Tally, server: subprocess.Popen, started: float, at: float, step: float) -> float:
    count, errors, latencies = tally.interval()
    print(
        f"{at - started:7.0f} {rss_mb(server.pid):8.1f} {count:9d} {errors:7d} "
        f"{percentile(latencies, 0.5):8.1f} {percentile(latencies, 0.99):8.1f}",
        flush=True,
    )
    return at + step


if __name__ == "__main__":
    main()

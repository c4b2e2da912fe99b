"""Drive the ingestion benchmark (see run.sh): start a server with KATSUO_BENCH_NOOP=1, create a
website, then for each concurrency run wrk with send.lua against the no-op route and /api/send
(50,000 distinct visitors, real User-Agents, ~10 % custom events with data), sampling the
server's RSS and CPU time (whole process, and its event-loop thread alone), and print req/s,
p50/p99, RSS, CPU µs per request and the /api/send : no-op ratio."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONCURRENCIES = (16, 64)
VISITORS = 50_000
POSTGRES = os.environ.get("KATSUO_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU time of the process, or of one of its threads (less sensitive to a busy
    machine than wall time)."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_database() -> tuple[str, callable]:
    import sqlalchemy as sa

    name = f"katsuo_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return POSTGRES.rsplit("/", 1)[0] + f"/{name}", drop


def wrk(base: str, website: str, connections: int, seconds: int, path: str, pid: int) -> dict:
    peak = [rss_kb(pid)]
    done = threading.Event()

    def sample():
        while not done.wait(0.25):
            peak[0] = max(peak[0], rss_kb(pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    cpu_before, loop_before = cpu_seconds(pid), cpu_seconds(pid, pid)
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(HERE / "send.lua"),
        base,
        "--",
        website,
        str(VISITORS),
        "1",
        "0",
        path,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    ).stdout
    done.set()
    sampler.join()
    cpu, loop_cpu = cpu_seconds(pid) - cpu_before, cpu_seconds(pid, pid) - loop_before
    result = dict(
        re.findall(
            r"(\w+)=([\d.]+)",
            " ".join(line for line in output.splitlines() if line.startswith("RESULT")),
        )
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(result["rps"]),
        "p50": float(result["p50"]),
        "p99": float(result["p99"]),
        "requests": int(result["requests"]),
        "non2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "rss_mb": peak[0] / 1024,
        "cpu_us": cpu / max(1, int(result["requests"])) * 1e6,
        "loop_us": loop_cpu / max(1, int(result["requests"])) * 1e6,
    }


def main() -> None:
    engine = sys.argv[1] if len(sys.argv) > 1 else "duckdb"
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    data_dir = tempfile.mkdtemp(prefix="katsuo-bench-")
    env = {
        **os.environ,
        "APP_SECRET": "bench",
        "KATSUO_DATA_DIR": data_dir,
        "KATSUO_BENCH_NOOP": "1",
        "TZ": "UTC",
    }
    drop = None
    if engine == "postgresql":
        env["DATABASE_URL"], drop = postgres_database()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The server's log goes to a file: a pipe nobody reads would stall the server once full.
    log_path = Path(data_dir) / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/katsuo"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        for _ in range(300):
            try:
                http("GET", f"{base}/api/heartbeat")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"the server did not start:\n{log_path.read_text()[-2000:]}")
        idle_rss = rss_kb(server.pid) / 1024
        token = http("POST", f"{base}/api/auth/login", {"username": "admin", "password": "umami"})[
            "token"
        ]
        website = http(
            "POST", f"{base}/api/websites", {"name": "Bench", "domain": "example.com"}, token
        )["id"]
        wrk(base, website, 16, 3, "/api/send", server.pid)  # warm-up: caches, first sessions
        print(
            f"engine={engine} duration={seconds}s visitors={VISITORS} idle_rss={idle_rss:.0f}MB "
            f"load_before={os.getloadavg()[0]:.2f}"
        )
        print(
            f"{'route':<16}{'c':>4}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'RSS MB':>8}{'non-2xx':>9}"
            f"{'CPU us/req':>12}{'loop us':>9}{'load':>7}"
        )
        for connections in CONCURRENCIES:
            rows = {}
            for label, path in (("no-op", "/api/bench/noop"), ("/api/send", "/api/send")):
                rows[label] = row = wrk(base, website, connections, seconds, path, server.pid)
                print(
                    f"{label:<16}{connections:>4}{row['rps']:>10.0f}{row['p50']:>9.2f}{row['p99']:>9.2f}"
                    f"{row['rss_mb']:>8.0f}{row['non2xx']:>9}{row['cpu_us']:>12.0f}{row['loop_us']:>9.0f}"
                    f"{os.getloadavg()[0]:>7.1f}",
                    flush=True,
                )
            print(
                f"{'ratio send/no-op':<20}{rows['/api/send']['rps'] / rows['no-op']['rps']:>10.2f}"
            )
        print(
            f"load_after={os.getloadavg()[0]:.2f} (2 cores; other work on the machine skews all figures)"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        log.close()
        if drop:
            drop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

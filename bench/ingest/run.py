"""Drive the ingestion benchmark (see run.sh): start a server with KATSUO_BENCH_NOOP=1, create a
website, then for each concurrency run wrk with send.lua against the no-op route and /api/send
(50,000 distinct visitors, real User-Agents, ~10 % custom events with data), sampling the
server's RSS and CPU time (whole process, and its event-loop thread alone), and print req/s,
p50/p99, RSS, CPU µs per request and the /api/send : no-op ratio.

`clickhouse` keeps the management tables in DuckDB and the collected data in embedded ClickHouse
(CLICKHOUSE_URL=chdb:///...). It runs two insert configurations alternately, each in a fresh
server and directory, `rounds` times: the writer's synchronous batched inserts as they are, and
the same with ClickHouse's async inserts asked for through the URL (clickhouse-connect turns its
`ch_*` query parameters into session settings). After each server stops, the rows of
`website_event` are counted and set against the /api/send requests answered 200 (wrk leaves up
to one request per connection in flight when it stops, which the server may still store), then
the server is started again on the same store and a client that waits for every answer sends
EXACT_HITS more: there the new rows must equal the 200s exactly."""

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
# Hits of the loss check's exact phase (ClickHouse).
EXACT_HITS = 2000
# ClickHouse insert configurations: a label and the CLICKHOUSE_URL query that selects it. "sync" is
# the URL Katsuo documents; "async" passes ClickHouse settings through clickhouse-connect's DSN
# (`ch_` prefix = a server setting of the session), so Katsuo's code is the same in both.
CLICKHOUSE_INSERTS = {
    "sync": "",
    "async": "?ch_async_insert=1&ch_wait_for_async_insert=1",
}


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


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """Name and CPU seconds of each thread of the process, by thread id. (chdb renames the
    threads that run its queries, the writer's included, so names alone cannot key them.)"""
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            threads[int(task.name)] = (
                (task / "comm").read_text().strip(),
                cpu_seconds(pid, int(task.name)),
            )
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
    return threads


# Run in a child process: chdb opens one directory per process, and the server must be gone.
CLICKHOUSE_COUNT = """
import sys
from clickhouse_connect.dbapi.connection import Connection
client = Connection(dsn="chdb://" + sys.argv[1]).client
print(client.query("SELECT count() FROM website_event").result_rows[0][0])
client.close()
"""


def clickhouse_rows(directory: str) -> int:
    """Rows of website_event in the embedded ClickHouse at `directory` (server stopped)."""
    done = subprocess.run(
        [sys.executable, "-c", CLICKHOUSE_COUNT, directory],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"counting website_event failed:\n{done.stderr[-2000:]}")
    return int(done.stdout.split()[-1])


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
    threads_before = thread_cpu(pid)
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
    threads: dict[str, float] = {}  # CPU seconds per thread name (its name at the end)
    for tid, (name, spent) in thread_cpu(pid).items():
        used = spent - threads_before.get(tid, (name, 0.0))[1]
        threads[name] = threads.get(name, 0.0) + used
    result = dict(
        re.findall(
            r"(\w+)=([\d.]+)",
            " ".join(line for line in output.splitlines() if line.startswith("RESULT")),
        )
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = max(1, int(result["requests"]))
    return {
        "rps": float(result["rps"]),
        "p50": float(result["p50"]),
        "p99": float(result["p99"]),
        "requests": int(result["requests"]),
        "non2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "rss_mb": peak[0] / 1024,
        "cpu_us": cpu / max(1, int(result["requests"])) * 1e6,
        "loop_us": loop_cpu / max(1, int(result["requests"])) * 1e6,
        # Requests wrk gave up on (timeouts, socket errors) or left in flight when it stopped may
        # still have been stored: they bound how far rows may exceed the 200s.
        "unanswered": connections
        + sum(
            int(result.get(f"errors_{kind}", 0)) for kind in ("connect", "read", "write", "timeout")
        ),
        "threads_us": {name: seconds / requests * 1e6 for name, seconds in threads.items()},
    }


def start_server(env: dict, log_path: Path) -> tuple[subprocess.Popen, str]:
    """`katsuo serve` on a free port of 127.0.0.1, once it answers; its log goes to `log_path`
    (a pipe nobody reads would stall the server once full)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/katsuo"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    for _ in range(300):
        try:
            http("GET", f"{base}/api/heartbeat")
            return server, base
        except OSError:
            time.sleep(0.1)
    stop_server(server)
    raise SystemExit(f"the server did not start:\n{log_path.read_text()[-2000:]}")


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(60)


def send_and_wait(base: str, website: str, hits: int, connections: int) -> int:
    """POST `hits` pageviews of distinct visitors to /api/send from `connections` threads, each
    waiting for its answer (unlike wrk, nothing is left in flight); returns the 200s."""

    def one(number: int) -> int:
        body = json.dumps(
            {
                "type": "event",
                "payload": {
                    "website": website,
                    "hostname": "example.com",
                    "url": f"/exact/{number}",
                },
            }
        ).encode()
        request = urllib.request.Request(
            f"{base}/api/send",
            method="POST",
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"Mozilla/5.0 (X11; Linux x86_64) Firefox/{100 + number % 25}.0",
                "X-Forwarded-For": f"203.0.{number // 250 % 256}.{1 + number % 250}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                return int(response.status == 200)
        except OSError:
            return 0

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(connections) as pool:
        return sum(pool.map(one, range(hits)))


def measure(engine: str, seconds: int, inserts: str = "") -> None:
    """One server, one fresh data directory: warm-up, then no-op and /api/send per concurrency.
    On ClickHouse (`inserts` names a CLICKHOUSE_INSERTS entry), the stored events are counted
    once the server has stopped, then the server runs again on the same store for an exact
    check (send_and_wait)."""
    data_dir = tempfile.mkdtemp(prefix="katsuo-bench-")
    env = {
        **os.environ,
        "APP_SECRET": "bench",
        "KATSUO_DATA_DIR": data_dir,
        "KATSUO_BENCH_NOOP": "1",
        "TZ": "UTC",
    }
    drop = None
    clickhouse_dir = ""
    if engine == "postgresql":
        env["DATABASE_URL"], drop = postgres_database()
    elif engine == "clickhouse":
        clickhouse_dir = str(Path(data_dir) / "clickhouse")
        env["CLICKHOUSE_URL"] = f"chdb://{clickhouse_dir}{CLICKHOUSE_INSERTS[inserts]}"
    log_path = Path(data_dir) / "server.log"
    try:
        server, base = start_server(env, log_path)
    except BaseException:
        if drop:
            drop()
        raise
    sends = []  # every /api/send step, warm-up included: the loss check counts them all
    try:
        idle_rss = rss_kb(server.pid) / 1024
        token = http("POST", f"{base}/api/auth/login", {"username": "admin", "password": "umami"})[
            "token"
        ]
        website = http(
            "POST", f"{base}/api/websites", {"name": "Bench", "domain": "example.com"}, token
        )["id"]
        # warm-up: caches, first sessions
        sends.append(wrk(base, website, 16, 3, "/api/send", server.pid))
        print(
            f"engine={engine}{f' inserts={inserts}' if inserts else ''} duration={seconds}s "
            f"visitors={VISITORS} idle_rss={idle_rss:.0f}MB load_before={os.getloadavg()[0]:.2f}"
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
            sends.append(rows["/api/send"])
            print(
                f"{'ratio send/no-op':<20}{rows['/api/send']['rps'] / rows['no-op']['rps']:>10.2f}"
            )
            busiest = sorted(rows["/api/send"]["threads_us"].items(), key=lambda item: -item[1])
            print(
                "  /api/send CPU us/req by thread: "
                + ", ".join(f"{name} {us:.0f}" for name, us in busiest[:6] if us >= 1)
            )
        print(
            f"load_after={os.getloadavg()[0]:.2f} (2 cores; other work on the machine skews all figures)"
        )
    finally:
        stop_server(server)
        if drop:
            drop()
    try:
        if clickhouse_dir:
            stored = clickhouse_rows(clickhouse_dir)
            answered = sum(step["requests"] - step["non2xx"] for step in sends)
            unanswered = sum(step["unanswered"] for step in sends)
            verdict = (
                "ok"
                if 0 <= stored - answered <= unanswered
                else "MISMATCH (server log kept: " + str(log_path) + ")"
            )
            print(
                f"loss check: website_event rows={stored} /api/send answered 200={answered} "
                f"difference={stored - answered} (may be 0..{unanswered}: requests in flight when "
                f"wrk stopped, or given up on, can still be stored) -> {verdict}",
                flush=True,
            )
            if verdict != "ok":
                return
            # The same store again, with a client that waits for every answer: here the new
            # rows must equal the 200s exactly.
            server, base = start_server(env, log_path)
            try:
                answered = send_and_wait(base, website, EXACT_HITS, 64)
            finally:
                stop_server(server)
            added = clickhouse_rows(clickhouse_dir) - stored
            verdict = "ok" if added == answered else f"MISMATCH (server log kept: {log_path})"
            print(
                f"exact check (restarted server, {EXACT_HITS} hits, 64 threads each waiting for "
                f"its answer): new website_event rows={added} answered 200={answered} -> {verdict}",
                flush=True,
            )
            if verdict != "ok":
                return
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    engine = sys.argv[1] if len(sys.argv) > 1 else "duckdb"
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    if engine != "clickhouse":
        measure(engine, seconds)
        return
    # Both insert configurations alternately, each in a fresh server, so that they share the
    # machine's state of the same minutes.
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    for round_ in range(rounds):
        for inserts in CLICKHOUSE_INSERTS:
            print(f"--- round {round_ + 1}/{rounds}, ClickHouse inserts: {inserts}", flush=True)
            measure(engine, seconds, inserts)


if __name__ == "__main__":
    main()

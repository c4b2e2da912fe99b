"""Several Katsuo processes writing to one ClickHouse over HTTP (clickhouse-connect against the
test's own HTTP endpoint over the embedded engine, test_clickhouse_http.py), with PostgreSQL for
the management tables: each process has its own data folder and collect journal. The same
visitors reach both processes, one of them is killed with SIGKILL under load and started again:
every hit answered 200 is stored, none twice, and each visitor is counted once in every
answer.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx

from tests.collect.conftest import UA
from tests.collect.test_durability import _free_port, _start
from tests.conftest import make_env
from tests.engines.test_clickhouse_http import ChdbOverHttp, clickhouse_http  # noqa: F401

VISITORS = 12


def _stored_paths(database: str, website: str) -> Counter:
    """How many times each path was stored (every hit of the test has its own path)."""
    with ChdbOverHttp.lock:
        result = ChdbOverHttp.engine.query(
            f"SELECT url_path FROM `{database}`.website_event WHERE website_id = '{website}'",
            "CSV",
        )
    return Counter(line.strip('"') for line in result.bytes().decode().split())


def test_two_writers_one_killed_nothing_lost_nobody_twice(
    clickhouse_http,  # noqa: F811 - the fixture imported above
    request,
    tmp_path_factory,
    tmp_path,
):
    env = make_env("postgresql", request, tmp_path_factory, CLICKHOUSE_URL=clickhouse_http)
    envs = [env, {**env, "KATSUO_DATA_DIR": str(tmp_path_factory.mktemp("second"))}]
    ports = [_free_port(), _free_port()]
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    servers = [_start(envs[0], ports[0], logs[0])]
    servers.append(_start(envs[1], ports[1], logs[1]))
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        token = httpx.post(
            f"{bases[0]}/api/auth/login", json={"username": "admin", "password": "umami"}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        website = httpx.post(
            f"{bases[0]}/api/websites",
            json={"name": "Two writers", "domain": "example.com"},
            headers=headers,
        ).json()["id"]

        acknowledged: Counter = Counter()  # path -> 200 answers
        unanswered: set[str] = set()  # sent to the killed process: stored or not, either is right
        lock = threading.Lock()
        stop = threading.Event()

        def visitor(number: int) -> None:
            """One visitor, alternating between the processes; stops at the first failure."""
            with httpx.Client(timeout=5) as client:
                for sequence in range(10_000):
                    if stop.is_set():
                        return
                    path = f"/v{number}/{sequence}"
                    try:
                        response = client.post(
                            f"{bases[sequence % 2]}/api/send",
                            json={"type": "event", "payload": {"website": website, "url": path}},
                            headers={
                                "User-Agent": UA,
                                "X-Forwarded-For": f"203.0.113.{number + 1}",
                            },
                        )
                    except httpx.HTTPError:
                        with lock:
                            unanswered.add(path)  # the killed process: never acknowledged
                        continue
                    if response.status_code == 200:
                        with lock:
                            acknowledged[path] += 1

        threads = [threading.Thread(target=visitor, args=(n,)) for n in range(VISITORS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while sum(acknowledged.values()) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        servers[0].send_signal(signal.SIGKILL)  # acknowledged hits may be in its journal only
        servers[0].wait(10)
        time.sleep(0.5)
        servers[0] = _start(envs[0], ports[0], logs[0])  # applies its journal before serving
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(10)
        total = sum(acknowledged.values())
        assert total >= 200 and set(acknowledged.values()) == {1}

        # Each process applies its journal within half a second of an acknowledgement.
        database = clickhouse_http.rsplit("/", 1)[1]
        deadline = time.monotonic() + 15
        while not set(acknowledged) <= set(_stored_paths(database, website)):
            assert time.monotonic() < deadline, "acknowledged hits missing from ClickHouse"
            time.sleep(0.2)
        time.sleep(1)  # what the processes still apply, they apply by now
        stored = _stored_paths(database, website)
        assert set(stored.values()) == {1}  # nothing twice
        assert set(stored) <= set(acknowledged) | unanswered  # nothing made up
        visitors = {path.split("/")[1] for path in stored}

        now = datetime.now(UTC)
        window = {
            "startAt": int((now - timedelta(hours=2)).timestamp() * 1000),
            "endAt": int((now + timedelta(minutes=1)).timestamp() * 1000),
        }
        for base in bases:
            stats = httpx.get(
                f"{base}/api/websites/{website}/stats", params=window, headers=headers
            ).json()
            assert (stats["pageviews"], stats["visitors"]) == (len(stored), len(visitors))
            paths = httpx.get(
                f"{base}/api/websites/{website}/metrics",
                params={**window, "type": "path", "limit": 10_000},
                headers=headers,
            ).json()
            assert {row["x"]: row["y"] for row in paths} == dict(stored)
    finally:
        stop_all = [server for server in servers if server.poll() is None]
        for server in stop_all:
            server.send_signal(signal.SIGTERM)
        for server in stop_all:
            server.wait(30)

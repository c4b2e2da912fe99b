"""An acknowledged hit is never lost: send hits at load to a real server process, kill -9 it in
the middle, start it again (which applies what DuckDB's collect journal holds), kill -9 it once
more, and every hit that got a 200 is in the database, once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import sqlalchemy as sa

from katsuo.config import Settings
from katsuo.store import schema
from katsuo.store.database import Database
from tests.collect.conftest import UA
from tests.conftest import make_env

SENDERS = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(env: dict, port: int, log_path) -> subprocess.Popen:
    with open(log_path, "ab") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "katsuo", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, **env, "TZ": "UTC"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"server exited with {process.returncode}: {log_path.read_text()[-2000:]}"
            )
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/heartbeat", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("server did not start")


def test_acknowledged_hits_survive_kill_9(engine, request, tmp_path_factory, tmp_path):
    env = make_env(engine, request, tmp_path_factory)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    server = _start(env, port, log)
    try:
        login = httpx.post(
            f"{base}/api/auth/login", json={"username": "admin", "password": "umami"}
        ).json()
        website = httpx.post(
            f"{base}/api/websites",
            json={"name": "Durable", "domain": "example.com"},
            headers={"Authorization": f"Bearer {login['token']}"},
        ).json()["id"]

        acknowledged: set[str] = set()
        lock = threading.Lock()
        stop = threading.Event()

        def sender(number: int) -> None:
            with httpx.Client(timeout=5) as client:
                for sequence in range(100_000):
                    if stop.is_set():
                        return
                    path = f"/hit/{number}/{sequence}"
                    body = {"type": "event", "payload": {"website": website, "url": path}}
                    try:
                        response = client.post(
                            f"{base}/api/send",
                            json=body,
                            headers={
                                "User-Agent": UA,
                                "X-Forwarded-For": f"203.0.113.{number + 1}",
                            },
                        )
                    except httpx.HTTPError:
                        return  # the server is gone
                    if response.status_code == 200:
                        with lock:
                            acknowledged.add(path)

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        stop.set()
        for thread in threads:
            thread.join(10)
        assert len(acknowledged) >= 300, "too little load reached the server before the kill"

        # The restarted server recovers the store (and applies the collect journal) before it
        # serves; killed again, it has no chance to apply anything on the way out.
        server = _start(env, port, log)
        assert httpx.get(f"{base}/api/heartbeat").status_code == 200
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)

    db = Database(Settings.from_env(env, load_dotenv=False))
    try:
        with db.connect() as conn:
            t = schema.website_event
            paths = list(
                conn.execute(sa.select(t.c.url_path).where(t.c.website_id == website)).scalars()
            )
    finally:
        db.close()
    missing = acknowledged - set(paths)
    assert not missing, (
        f"{len(missing)} of {len(acknowledged)} acknowledged hits were lost, e.g. {sorted(missing)[:5]}"
    )
    twice = sorted(path for path, count in Counter(paths).items() if count > 1)
    assert not twice, f"{len(twice)} hits were stored more than once, e.g. {twice[:5]}"

"""Two Katsuo server processes on one PostgreSQL database (behind a load balancer, with Redis):
both accept hits, and both answer every overview number exactly, whichever took each hit."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.collect.test_durability import _free_port, _start
from tests.conftest import make_env

pytestmark = pytest.mark.slices

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
PATHS = ["/", "/a", "/b", "/a", "/c", "/", "/a", "/b"]


def test_two_servers_share_one_database(request, tmp_path_factory, tmp_path, redis_url):
    env = make_env(
        "postgresql",
        request,
        tmp_path_factory,
        REDIS_URL=redis_url,
        KATSUO_SLICE_SETTLE_SECONDS="1",
    )
    servers, bases = [], []
    try:
        for name in ("a", "b"):
            port = _free_port()
            servers.append(_start(env, port, tmp_path / f"{name}.log"))
            bases.append(f"http://127.0.0.1:{port}")
        login = httpx.post(
            f"{bases[0]}/api/auth/login", json={"username": "admin", "password": "umami"}
        ).json()
        auth = {"Authorization": f"Bearer {login['token']}"}
        website = httpx.post(
            f"{bases[1]}/api/websites",
            headers=auth,
            json={"name": "Balanced", "domain": "example.com"},
        ).json()["id"]
        # Each visitor's hits alternate between the servers, as a load balancer spreads them.
        sent = []
        for visitor in range(6):
            for n, path in enumerate(PATHS[visitor : visitor + 3]):
                base = bases[(visitor + n) % 2]
                response = httpx.post(
                    f"{base}/api/send",
                    json={
                        "type": "event",
                        "payload": {"website": website, "url": f"https://example.com{path}"},
                    },
                    headers={"User-Agent": UA, "X-Forwarded-For": f"81.2.69.{60 + visitor}"},
                )
                assert response.status_code == 200, response.text
                sent.append((path, visitor))
        now = datetime.now(UTC)
        window = {
            "startAt": int((now - timedelta(hours=1)).timestamp() * 1000),
            "endAt": int((now + timedelta(hours=1)).timestamp() * 1000),
            "timezone": "UTC",
        }
        # The path metric counts visitors per path.
        visitors = set(sent)
        paths_seen = {path for path, _ in visitors}
        expected_paths = sorted(
            (path, sum(1 for p, _ in visitors if p == path)) for path in paths_seen
        )

        def answers(base: str):
            stats = httpx.get(
                f"{base}/api/websites/{website}/stats", params=window, headers=auth
            ).json()
            paths = httpx.get(
                f"{base}/api/websites/{website}/metrics",
                params={**window, "type": "path"},
                headers=auth,
            ).json()
            return stats, sorted((row["x"], row["y"]) for row in paths)

        # Exact at once (reads add the pending hits), and still exact once both settled them.
        for _ in range(2):
            for base in bases:
                stats, paths = answers(base)
                assert (stats["pageviews"], stats["visitors"], stats["visits"]) == (18, 6, 6)
                assert paths == expected_paths
            time.sleep(2.5)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

"""A live server per test, with the budget settings the test needs, and ways to make its queries
slow on purpose: many events (the work is real), or a table locked by another transaction on
PostgreSQL (the statement waits, visibly in pg_stat_activity, until stopped)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from katsuo.analytics import slices
from katsuo.config import Settings
from katsuo.services import Services
from tests.conftest import make_env

START, END = "2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z"


@dataclass
class Live:
    base: str
    services: Services
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=60, **kwargs)

    def new_website(self, name: str = "Site") -> str:
        with self.client() as http:
            response = http.post(
                "/api/websites", json={"name": name, "domain": "example.com"}, headers=self.headers
            )
        assert response.status_code == 200, response.text
        return response.json()["id"]

    def share_token(self, website: str) -> tuple[str, str]:
        """A share of `website` publishing its overview and revenue: (share id, a token resolved
        from its slug)."""
        parameters = {"overview": True, "revenue": True}
        with self.client() as http:
            share = http.post(
                f"/api/websites/{website}/shares",
                json={"name": "Public", "parameters": parameters},
                headers=self.headers,
            ).json()
        return share["id"], self.resolve(share["slug"])

    def resolve(self, slug: str) -> str:
        with self.client() as http:
            return http.get(f"/api/share/{slug}").json()["token"]

    def postgres(self) -> psycopg.Connection:
        return psycopg.connect(self.services.settings.database_url, autocommit=True)


def revenue_body(website: str) -> dict:
    return {
        "websiteId": website,
        "type": "revenue",
        "filters": {},
        "parameters": {"startDate": START, "endDate": END, "currency": "USD"},
    }


def share_headers(token: str) -> dict[str, str]:
    return {"x-umami-share-token": token, "x-umami-share-context": "1"}


def add_events(services: Services, website: str, count: int) -> None:
    """`count` page views of sessions of five events each, one per millisecond from START."""
    if services.db.kind == "duckdb":
        sql = f"""INSERT INTO website_event (event_id, website_id, session_id, visit_id, created_at, url_path, event_type)
            SELECT uuid(), '{website}', md5((i // 5)::varchar)::uuid, md5((i // 5)::varchar)::uuid,
                   TIMESTAMPTZ '2026-03-01 00:00:00+00' + to_milliseconds(i), '/p' || (i % 50), 1
            FROM range({count}) t(i)"""
    else:
        sql = f"""INSERT INTO website_event (event_id, website_id, session_id, visit_id, created_at, url_path, event_type)
            SELECT gen_random_uuid(), '{website}', md5((i / 5)::text)::uuid, md5((i / 5)::text)::uuid,
                   '2026-03-01 00:00:00+00'::timestamptz + i * interval '1 millisecond', '/p' || (i % 50), 1
            FROM generate_series(0, {count - 1}) i"""
    with services.db.begin() as conn:
        conn.execute(sa.text(sql))
    slices.rebuild(services.db)  # the events were written behind the server's back


@contextmanager
def locked(live: Live, table: str) -> Iterator[psycopg.Connection]:
    """PostgreSQL: `table` locked against readers until the block ends."""
    with live.postgres() as conn:
        conn.execute("BEGIN")
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")


def running_queries(live: Live, text: str) -> int:
    """Statements of the server's database, other than this one, running and mentioning `text`."""
    with live.postgres() as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE %s",
            (f"%{text}%",),
        ).fetchone()[0]


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def live_server(request, tmp_path_factory):
    """live_server(engine, **env) -> a Live server on 127.0.0.1 with those settings."""
    import uvicorn

    from katsuo.app import create_app

    started = []

    def start(engine: str, **env: str) -> Live:
        settings = Settings.from_env(make_env(engine, request, tmp_path_factory, **env))
        services = Services.start(settings)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, services), log_level="warning", access_log=False, lifespan="on"
            )
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started.append((server, thread, services, sock))
        assert wait_until(lambda: server.started, 20), "the server did not start"
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        token = httpx.post(
            base + "/api/auth/login", json={"username": "admin", "password": "umami"}
        ).json()["token"]
        return Live(base, services, token)

    yield start
    for server, thread, services, sock in started:
        server.should_exit = True
        thread.join(20)
        services.close()
        sock.close()

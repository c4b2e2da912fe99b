"""Settings seen from outside: BASE_PATH, FORCE_SSL, ALLOWED_FRAME_URLS, DEBUG and LOG_QUERY
logging, on both engines; and a bad variable stops `katsuo serve` with a message naming it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from katsuo import logs
from katsuo.app import create_app
from katsuo.config import Settings
from katsuo.services import Services
from tests.conftest import make_env


@pytest.fixture
def start(engine, request, tmp_path_factory):
    """Start an app with extra environment variables; yields a function returning a client."""
    started = []

    def _start(**env: str) -> TestClient:
        settings = Settings.from_env(make_env(engine, request, tmp_path_factory, **env))
        services = Services.start(settings)
        client = TestClient(create_app(settings, services))
        client.__enter__()
        started.append((client, services))
        return client

    yield _start
    for client, services in started:
        client.__exit__(None, None, None)
        services.close()


@pytest.fixture
def restore_logging():
    names = ("katsuo", "katsuo.sql", "katsuo.auth", "katsuo.api")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_base_path_serves_the_api_under_the_prefix(start):
    client = start(BASE_PATH="/analytics/")
    response = client.get("/analytics/api/heartbeat")
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert response.headers["access-control-allow-origin"] == "*"  # still treated as API
    assert client.get("/api/heartbeat").status_code == 404
    login = client.post(
        "/analytics/api/auth/login", json={"username": "admin", "password": "umami"}
    )
    token = login.json()["token"]
    assert (
        client.get("/analytics/api/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert client.get("/analytics/api/openapi.json").status_code == 200


def test_force_ssl_sends_hsts(start):
    hsts = "max-age=63072000; includeSubDomains; preload"
    assert start(FORCE_SSL="1").get("/api/heartbeat").headers["strict-transport-security"] == hsts
    assert "strict-transport-security" not in start().get("/api/heartbeat").headers


def test_allowed_frame_urls_on_pages_not_on_the_api(start):
    client = start(ALLOWED_FRAME_URLS="https://a.example https://b.example")
    page = client.get("/some/page")
    policy = page.headers["content-security-policy"].split("; ")
    assert policy[-1] == "frame-ancestors 'self' https://a.example https://b.example"
    api = client.get("/api/heartbeat")
    assert (
        "content-security-policy" not in api.headers and api.headers["cache-control"] == "no-cache"
    )
    assert start().get("/").headers["content-security-policy"].endswith("; frame-ancestors 'self'")


def test_log_query_logs_sql(start, caplog, restore_logging):
    env = {"LOG_QUERY": "1"}
    logs.configure(Settings.from_env({**env, "KATSUO_DATA_DIR": os.devnull, "APP_SECRET": "x"}))
    client = start(**env)
    with caplog.at_level(logging.INFO, logger="katsuo.sql"):
        client.post("/api/auth/login", json={"username": "admin", "password": "umami"})
    statements = [r.getMessage() for r in caplog.records if r.name == "katsuo.sql"]
    assert any('FROM "user"' in s and "username" in s for s in statements), statements


def test_without_log_query_no_sql_is_logged(start, caplog, restore_logging):
    logs.configure(Settings.from_env({"KATSUO_DATA_DIR": os.devnull, "APP_SECRET": "x"}))
    client = start()
    with caplog.at_level(logging.DEBUG):
        client.post("/api/auth/login", json={"username": "admin", "password": "umami"})
    assert [r for r in caplog.records if r.name == "katsuo.sql"] == []
    assert [
        r for r in caplog.records if r.name == "katsuo.auth" and r.levelno == logging.DEBUG
    ] == []


def test_debug_areas(start, caplog, restore_logging):
    logs.configure(
        Settings.from_env({"KATSUO_DATA_DIR": os.devnull, "APP_SECRET": "x", "DEBUG": "umami:auth"})
    )
    client = start(DEBUG="umami:auth")
    with caplog.at_level(logging.NOTSET):
        client.get("/api/me", headers={"Authorization": "Bearer forged"})
    auth = [r.getMessage() for r in caplog.records if r.name == "katsuo.auth"]
    assert any("credentials rejected" in m for m in auth), auth
    assert [r for r in caplog.records if r.name == "katsuo.sql"] == []  # other areas stay quiet
    assert logs.debug_loggers("umami:prisma,umami:auth") == {"katsuo.sql", "katsuo.auth"}
    assert logs.debug_loggers("umami:*") == {"katsuo"}


@pytest.mark.parametrize(
    "name,value", [("PORT", "eighty"), ("DATABASE_URL", "mysql://x/y"), ("FORCE_SSL", "maybe")]
)
def test_invalid_variable_stops_serve_naming_it(tmp_path, name, value):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"KATSUO_DATA_DIR": str(tmp_path), "APP_SECRET": "x", name: value})
    result = subprocess.run(
        [sys.executable, "-m", "katsuo", "serve"],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert name in result.stderr and "configuration error" in result.stderr

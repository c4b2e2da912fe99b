"""The command line against a fresh DuckDB file and a fresh PostgreSQL database: migrate, user
create / set-password / list, and `python -m katsuo --help`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from katsuo.auth.passwords import verify_password
from katsuo.config import Settings
from katsuo.store.database import Database
from katsuo.store.repositories import users
from tests.conftest import make_env

KATSUO = Path(sys.executable).with_name("katsuo")  # the console script installed with the package
SOURCE = str(
    Path(__file__).resolve().parents[2]
)  # run this tree's code, wherever the package is installed from


@pytest.fixture
def cli(engine, request, tmp_path_factory):
    env = make_env(engine, request, tmp_path_factory)
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}

    def run(
        *args: str, stdin: str | None = None, module: bool = False
    ) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "katsuo", *args] if module else [str(KATSUO), *args]
        return subprocess.run(
            command,
            env={**base, **env, "PYTHONPATH": SOURCE},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    run.settings = Settings.from_env(env)
    return run


def _password_of(settings: Settings, username: str) -> str:
    db = Database(settings)
    try:
        with db.connect() as conn:
            return users.find_login(conn, username)[1]
    finally:
        db.close()


def test_help():
    result = subprocess.run(
        [sys.executable, "-m", "katsuo", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for command in ("serve", "migrate", "user"):
        assert command in result.stdout


def test_migrate_then_up_to_date(cli):
    first = cli("migrate")
    assert first.returncode == 0, first.stderr
    assert "applied: Umami v3 schema and default account" in first.stdout
    again = cli("migrate", module=True)
    assert again.returncode == 0 and again.stdout.strip() == "database is up to date"


def test_user_create_set_password_list(cli):
    created = cli("user", "create", "alice", "--role", "view-only", "--password", "first-password")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("created view-only alice (")
    assert verify_password("first-password", _password_of(cli.settings, "alice"))

    duplicate = cli("user", "create", "alice", "--password", "another-password")
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    short = cli("user", "create", "bob", "--password", "short")
    assert short.returncode != 0 and "8 to 255" in short.stderr

    prompted = cli(
        "user", "set-password", "alice", stdin="second-password\n"
    )  # no terminal: read from stdin
    assert prompted.returncode == 0, prompted.stderr
    assert "password changed for alice" in prompted.stdout
    stored = _password_of(cli.settings, "alice")
    assert verify_password("second-password", stored) and not verify_password(
        "first-password", stored
    )
    unknown = cli("user", "set-password", "nobody", "--password", "whatever-long")
    assert unknown.returncode != 0 and "no user named" in unknown.stderr

    listed = cli("user", "list")
    assert listed.returncode == 0
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert sorted((row[1], row[2]) for row in rows) == [("admin", "admin"), ("view-only", "alice")]


def _role_and_generation(settings: Settings, username: str) -> tuple[str, int]:
    db = Database(settings)
    try:
        with db.connect() as conn:
            user = users.find_login(conn, username)[0]
            return user.role, users.get_for_login(conn, user.id)[1]
    finally:
        db.close()


def test_set_role_never_demotes_the_last_admin_and_changes_end_logins(cli):
    assert cli("user", "create", "carol", "--password", "carol-password").returncode == 0
    assert _role_and_generation(cli.settings, "carol") == ("user", 0)
    refused = cli("user", "set-role", "admin", "user")
    assert refused.returncode != 0 and "last administrator" in refused.stderr
    assert _role_and_generation(cli.settings, "admin") == ("admin", 0)  # rolled back, logins kept

    promoted = cli("user", "set-role", "carol", "admin")
    assert promoted.returncode == 0, promoted.stderr
    assert _role_and_generation(cli.settings, "carol") == ("admin", 1)  # her logins ended
    demoted = cli("user", "set-role", "admin", "view-only")
    assert demoted.returncode == 0, demoted.stderr
    assert _role_and_generation(cli.settings, "admin") == ("view-only", 1)
    assert cli("user", "set-role", "carol", "user").returncode != 0  # now the last one
    assert cli("user", "set-role", "nobody", "user").returncode != 0
    assert cli("user", "set-role", "carol", "superuser").returncode != 0  # not a role

    changed = cli("user", "set-password", "carol", "--password", "carol-password-2")
    assert changed.returncode == 0, changed.stderr
    assert _role_and_generation(cli.settings, "carol") == ("admin", 2)


def test_serve_lets_uvicorn_read_forwarding_headers_only_from_trusted_proxies(tmp_path):
    """uvicorn replaces the client address from X-Forwarded-For for the peers it trusts (by
    default 127.0.0.1): `katsuo serve` gives it KATSUO_TRUSTED_PROXIES instead, none by default."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    from katsuo.cli import proxy_options

    async def echo(scope, receive, send):
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": f"{scope['client'][0]} {scope['scheme']}".encode(),
            }
        )

    def seen(env: dict) -> str:
        settings = Settings.from_env({"APP_SECRET": "x", "KATSUO_DATA_DIR": str(tmp_path), **env})
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(
                echo,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="off",
                **proxy_options(settings),
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            while not server.started:
                time.sleep(0.02)
            headers = {"x-forwarded-for": "203.0.113.5", "x-forwarded-proto": "https"}
            return httpx.get(f"http://127.0.0.1:{port}/", headers=headers).text
        finally:
            server.should_exit = True
            thread.join(10)

    assert seen({}) == "127.0.0.1 http"
    assert seen({"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8"}) == "127.0.0.1 http"
    assert seen({"KATSUO_TRUSTED_PROXIES": "127.0.0.1"}) == "203.0.113.5 https"

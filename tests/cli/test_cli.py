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


@pytest.fixture
def cli(engine, request, tmp_path_factory):
    env = make_env(engine, request, tmp_path_factory)
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}

    def run(*args: str, stdin: str | None = None, module: bool = False) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "katsuo", *args] if module else [str(KATSUO), *args]
        return subprocess.run(
            command, env={**base, **env}, input=stdin, capture_output=True, text=True, timeout=120, check=False,
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
    result = subprocess.run([sys.executable, "-m", "katsuo", "--help"], capture_output=True, text=True, check=False)
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

    prompted = cli("user", "set-password", "alice", stdin="second-password\n")  # no terminal: read from stdin
    assert prompted.returncode == 0, prompted.stderr
    assert "password changed for alice" in prompted.stdout
    stored = _password_of(cli.settings, "alice")
    assert verify_password("second-password", stored) and not verify_password("first-password", stored)
    unknown = cli("user", "set-password", "nobody", "--password", "whatever-long")
    assert unknown.returncode != 0 and "no user named" in unknown.stderr

    listed = cli("user", "list")
    assert listed.returncode == 0
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert sorted((row[1], row[2]) for row in rows) == [("admin", "admin"), ("view-only", "alice")]

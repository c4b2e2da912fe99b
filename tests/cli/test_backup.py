"""`katsuo backup` / `katsuo restore` of the embedded database: a backup made by the running
server while hits arrive holds every hit acknowledged before it was asked for; restore refuses
while a server runs, then puts the file in place in a fresh data directory; with the server
stopped the command opens the database itself and misses no acknowledged hit."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from katsuo.app import create_app
from katsuo.config import Settings
from katsuo.ops import backup
from katsuo.ops.stores import OperatorError
from katsuo.services import Services
from katsuo.store import schema
from katsuo.store.database import Database
from tests.cli.test_cli import SOURCE
from tests.collect.conftest import send
from tests.conftest import make_env
from tests.helpers import Api


def _katsuo(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "katsuo", *args],
        env={**os.environ, **env, "PYTHONPATH": SOURCE},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _events(env: dict) -> int:
    db = Database(Settings.from_env(env))
    try:
        with db.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(schema.website_event)
            ).scalar()
    finally:
        db.close()


def test_backup_while_taking_hits_then_restore(request, tmp_path_factory, tmp_path):
    env = make_env("duckdb", request, tmp_path_factory)
    settings = Settings.from_env(env)
    svc = Services.start(settings)
    acknowledged = 0
    enough, stop = threading.Event(), threading.Event()
    with TestClient(create_app(settings, svc)) as client:
        website = Api(client).admin().new_website("Backed up")["id"]

        def hits():
            nonlocal acknowledged
            while not stop.is_set():
                response = send(
                    client,
                    {"website": website, "url": f"/p{acknowledged}", "hostname": "example.com"},
                )
                assert response.status_code == 200, response.text
                acknowledged += 1
                if acknowledged >= 20:
                    enough.set()

        sender = threading.Thread(target=hits)
        sender.start()
        try:
            assert enough.wait(30)
            socket_mode = stat.S_IMODE((settings.data_dir / "control.sock").stat().st_mode)
            before = acknowledged
            made = _katsuo(env, "backup", str(tmp_path / "live.duckdb"))
            after = acknowledged
            with pytest.raises(OperatorError, match="server is running"):
                backup.restore(settings, tmp_path / "live.duckdb", force=True)
        finally:
            stop.set()
            sender.join()
    svc.close()
    assert socket_mode == 0o600
    assert made.returncode == 0, made.stderr
    assert "the running server wrote" in made.stdout

    fresh = make_env("duckdb", request, tmp_path_factory)
    restored = _katsuo(fresh, "restore", str(tmp_path / "live.duckdb"))
    assert restored.returncode == 0, restored.stderr
    assert before <= _events(fresh) <= after

    # Server stopped: the command opens the database itself, with every acknowledged hit.
    _, _, by_server = backup.backup(settings, tmp_path / "offline.duckdb")
    assert not by_server
    fresh_settings = Settings.from_env(fresh)
    with pytest.raises(OperatorError, match="--force"):
        backup.restore(fresh_settings, tmp_path / "offline.duckdb")
    backup.restore(fresh_settings, tmp_path / "offline.duckdb", force=True)
    assert _events(fresh) == acknowledged

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    with pytest.raises(OperatorError, match="cannot be read"):
        backup.restore(fresh_settings, not_a_backup, force=True)
    with pytest.raises(OperatorError, match="exists already"):
        backup.backup(settings, tmp_path / "offline.duckdb")

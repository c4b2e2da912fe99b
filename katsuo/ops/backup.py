"""Backups of the embedded database: a consistent copy while the server runs, and restores.

DuckDB lets one process open its file, so a running server makes the backup itself: it listens
on a Unix socket in the data directory (`control.sock`, readable and writable by its owner only,
like the database file beside it), and `katsuo backup` asks it there. The server first waits
until every hit acknowledged so far has left the collect journal for the database, then copies
the database into a new file inside one transaction (one snapshot: no torn tables), and renames
the finished file into place. With no server running, the command opens the database itself.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from katsuo.config import Settings
from katsuo.ops.stores import OperatorError
from katsuo.store.database import Database

log = logging.getLogger("katsuo.backup")

SOCKET_NAME = "control.sock"
# Tables a file must hold to be restored as a Katsuo database.
REQUIRED_TABLES = {"katsuo_schema_version", "user", "website", "website_event", "session"}
# How long the CLI waits for a running server's backup (a large database takes minutes).
ANSWER_SECONDS = 3600


def write_backup(db: Database, path: Path) -> int:
    """Copy the embedded database into a new file at `path` (which must not exist); returns its
    size in bytes. Runs beside the writer: what it commits meanwhile is in or out, never half."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    alias = f"katsuo_backup_{uuid.uuid4().hex[:8]}"
    try:
        with db.engine.connect() as conn:
            raw = conn.connection.driver_connection
            source = raw.execute("SELECT current_database()").fetchone()[0]
            raw.execute("BEGIN TRANSACTION")
            try:
                raw.execute(f"ATTACH '{_quoted(partial)}' AS {alias}")
                raw.execute(f'COPY FROM DATABASE "{source}" TO {alias}')
                raw.execute("COMMIT")
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            finally:
                raw.execute(f"DETACH DATABASE IF EXISTS {alias}")
        _fsync(partial)
        os.replace(partial, path)
        _fsync(path.parent)
    finally:
        partial.unlink(missing_ok=True)
    return path.stat().st_size


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the running server's side -------------------------------------------------------------------


class ControlSocket:
    """The server's local control path: one JSON request per connection, one JSON answer."""

    def __init__(self, services):
        self.services = services
        self.path = services.settings.data_dir / SOCKET_NAME
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        if len(os.fsencode(self.path)) >= 108:  # the kernel's limit on a socket's path
            log.warning(
                "no control socket (its path is too long): %s; `katsuo backup` cannot "
                "reach this server",
                self.path,
            )
            return
        self.path.unlink(missing_ok=True)  # left by a server that stopped uncleanly
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o177)  # created 0600: only the server's user may ask
        try:
            server.bind(str(self.path))
        finally:
            os.umask(previous)
        server.listen(4)
        self._socket = server
        self._thread = threading.Thread(target=self._serve, name="katsuo-control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._socket is None:
            return
        self._socket.close()
        self.path.unlink(missing_ok=True)
        self._socket = None

    def _serve(self) -> None:
        server = self._socket
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed: the server is stopping
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = json.loads(conn.makefile("rb").readline() or b"{}")
                answer = self._run(request)
            except Exception as error:  # the asker gets the reason, the server goes on
                log.exception("control request failed")
                answer = {"ok": False, "error": str(error)}
            conn.sendall(json.dumps(answer).encode() + b"\n")

    def _run(self, request: dict) -> dict:
        if request.get("command") == "ping":
            return {"ok": True}
        if request.get("command") != "backup" or not isinstance(request.get("path"), str):
            return {"ok": False, "error": "unknown request"}
        path = Path(request["path"])
        if not path.is_absolute() or path.exists() or not path.parent.is_dir():
            return {"ok": False, "error": f"{path} must be a new file in an existing directory"}
        with self._lock:  # one backup at a time
            started = time.monotonic()
            self.services.writer.sync(timeout=None)  # every acknowledged hit is in the database
            size = write_backup(self.services.db, path)
        seconds = time.monotonic() - started
        log.info("backup written to %s: %d bytes in %.1f s", path, size, seconds)
        return {"ok": True, "bytes": size, "seconds": seconds}


# --- the command line's side -----------------------------------------------------------------


def ask_server(settings: Settings, request: dict) -> dict | None:
    """The running server's answer, or None when no server listens on the data directory."""
    path = settings.data_dir / SOCKET_NAME
    if not path.exists():
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        client.close()
        return None
    with client:
        client.settimeout(ANSWER_SECONDS)
        client.sendall(json.dumps(request).encode() + b"\n")
        return json.loads(
            client.makefile("rb").readline() or b'{"ok": false, "error": "no answer"}'
        )


def _embedded(settings: Settings) -> None:
    if settings.engine != "duckdb":
        raise OperatorError(
            "backup and restore are for the embedded database: with PostgreSQL use pg_dump and "
            "pg_restore (see the README's Backups section)"
        )


def backup(settings: Settings, path: Path) -> tuple[int, float, bool]:
    """Back the embedded database up to `path`: (bytes, seconds, whether a running server did it)."""
    _embedded(settings)
    path = path.resolve()
    if path.exists():
        raise OperatorError(f"{path} exists already: name a new file")
    if not path.parent.is_dir():
        raise OperatorError(f"{path.parent} is not a directory")
    answer = ask_server(settings, {"command": "backup", "path": str(path)})
    if answer is not None:
        if not answer.get("ok"):
            raise OperatorError(f"the server could not make the backup: {answer.get('error')}")
        return answer["bytes"], answer["seconds"], True
    if not settings.duckdb_path.exists():
        raise OperatorError(f"there is no database at {settings.duckdb_path}")
    from katsuo.services import Services

    started = time.monotonic()
    try:
        # Takes in what the collect journal holds first; no slice upkeep meanwhile.
        svc = Services.start(settings.model_copy(update={"slice_settle_seconds": 0}))
    except duckdb.IOException as error:
        raise OperatorError(
            f"{settings.duckdb_path} is in use by another process whose control socket does not "
            f"answer: {error}"
        ) from None
    try:
        size = write_backup(svc.db, path)
    finally:
        svc.close()
    return size, time.monotonic() - started, False


def check_backup(path: Path) -> dict[str, int]:
    """Open the file read-only and count every table's rows; a file that is not a Katsuo
    database (or is damaged) is refused with the reason."""
    if not path.is_file():
        raise OperatorError(f"{path} is not a file")
    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
                ).fetchall()
            ]
            missing = REQUIRED_TABLES - set(tables)
            if missing:
                raise OperatorError(
                    f"{path} is not a Katsuo database (no {', '.join(sorted(missing))})"
                )
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    except duckdb.Error as error:
        raise OperatorError(f"{path} cannot be read as a DuckDB database: {error}") from None


def restore(settings: Settings, path: Path, *, force: bool = False) -> dict[str, int]:
    """Put the backup at `path` in place of the embedded database (none running); the database
    it replaces and its collect journal are kept beside it, renamed. Returns the row counts."""
    _embedded(settings)
    if ask_server(settings, {"command": "ping"}) is not None:
        raise OperatorError("a server is running on this data directory: stop it first")
    counts = check_backup(path.resolve())
    target = settings.duckdb_path
    journal = settings.data_dir / "journal"
    if (target.exists() or journal.exists()) and not force:
        raise OperatorError(f"{target} exists: use --force to replace it (it is kept, renamed)")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if target.exists():
        try:  # refuse a database another process holds open
            duckdb.connect(str(target)).close()
        except duckdb.IOException as error:
            raise OperatorError(f"{target} is in use by another process: {error}") from None
    # The journal belongs to the database it replaces: replayed into the restored one it would
    # add hits twice or out of place.
    for old in (target, target.with_name(target.name + ".wal"), journal):
        if old.exists():
            old.rename(old.with_name(f"{old.name}.replaced-{stamp}"))
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(path, partial)
    _fsync(partial)
    os.replace(partial, target)
    _fsync(target.parent)
    return counts

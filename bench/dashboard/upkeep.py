"""What keeping the visit slices costs: a full rebuild, and the catch-up after outside writes.

usage:
  upkeep.py rebuild --data-dir DIR | --database-url URL
  upkeep.py catchup --data-dir DIR | --database-url URL [--rows 100000] [--website UUID]

`rebuild` times `slices.rebuild` part by part and reports the wall time, this process's CPU and
peak RSS (DuckDB runs inside it), the peak size of DuckDB's temporary folder (polled every
0.2 s) or PostgreSQL's temporary bytes (`pg_stat_database.temp_bytes`), and the server's CPU.

`catchup` writes --rows events the way another writer (Umami beside Katsuo, SQL by hand) would:
copies of the website's newest events under new event and session ids (sessions copied too),
with their original, old timestamps — so only the full audit finds them, not the recent-hours
round. Then it runs the audit and reports the time until the slices equal the events again, and
the CPU per 1,000 rows (this process plus, on PostgreSQL, the server's backends). The rows are
left in place; a second run adds as many again.
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from katsuo.analytics import catchup, slices
from katsuo.config import Settings
from katsuo.store import migrations, schema
from katsuo.store.database import Database

WEBSITE = "7a1b0000-0000-4000-8000-000000000001"


def _open(args) -> Database:
    if args.data_dir:
        settings = Settings.from_env().model_copy(
            update={"data_dir": Path(args.data_dir), "database_url": None}
        )
    else:
        settings = Settings.from_env().model_copy(update={"database_url": args.database_url})
    db = Database(settings)
    migrations.migrate(db)
    return db


def _postgres_cpu_s() -> float:
    """CPU seconds of every postgres process on this machine (the server runs here)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if name.startswith("postgres"):
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _pg_temp_bytes(db: Database) -> int:
    with db.connect() as conn:
        return conn.execute(
            sa.text("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
        ).scalar_one()


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


class _TempWatch:
    """The peak size of DuckDB's spill folder while the work runs."""

    def __init__(self, folder: Path | None):
        self.folder, self.peak, self._stop = folder, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, _folder_bytes(self.folder))

    def __enter__(self):
        if self.folder is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()


def _measured(db: Database, work) -> dict:
    postgres = db.settings.database_url is not None
    folder = None if postgres else Path(str(db.settings.duckdb_path) + ".tmp")
    pg_cpu0 = _postgres_cpu_s() if postgres else 0.0
    temp0 = _pg_temp_bytes(db) if postgres else 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with _TempWatch(folder) as watch:
        result = work()
    figures = {
        "result": result,
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": time.process_time() - cpu0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if postgres:
        figures["server_cpu_s"] = _postgres_cpu_s() - pg_cpu0
        figures["temp_mb"] = (_pg_temp_bytes(db) - temp0) / 2**20
    else:
        figures["temp_peak_mb"] = watch.peak / 2**20
    return figures


def rebuild(db: Database) -> dict:
    def progress(done: int, total: int) -> None:
        print(f"  part {done}/{total}  {time.strftime('%H:%M:%S')}", flush=True)

    return _measured(db, lambda: slices.rebuild(db, progress))


def write_outside(db: Database, website: str, rows: int) -> int:
    """Insert copies of the newest `rows` events (and their sessions) under new ids, as SQL."""
    md5_uuid = "CAST(md5(CAST({} AS VARCHAR) || '{}') AS UUID)"
    salt = str(time.time_ns())
    new_session = md5_uuid.format("session_id", salt)
    new_event = md5_uuid.format("event_id", salt)
    new_visit = md5_uuid.format("visit_id", salt)  # a visit belongs to one session
    with db.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TEMPORARY TABLE outside_events AS SELECT * FROM website_event "
                "WHERE website_id = :w ORDER BY created_at DESC LIMIT :n"
            ),
            {"w": website, "n": rows},
        )
        session_columns = db_columns(conn, "session")
        event_columns = db_columns(conn, "website_event")
        pick = ", ".join(new_session if c == "session_id" else f'"{c}"' for c in session_columns)
        conn.execute(
            sa.text(
                f'INSERT INTO "session" SELECT {pick} FROM "session" WHERE session_id IN '
                "(SELECT DISTINCT session_id FROM outside_events)"
            )
        )
        renamed = {"session_id": new_session, "event_id": new_event, "visit_id": new_visit}
        pick = ", ".join(renamed.get(c, f'"{c}"') for c in event_columns)
        inserted = conn.execute(
            sa.text(f"INSERT INTO website_event SELECT {pick} FROM outside_events")
        ).rowcount
        conn.execute(sa.text("DROP TABLE outside_events"))
    return inserted


def db_columns(conn: sa.Connection, name: str) -> list[str]:
    """The table's columns as the database holds them (an adopted database may have more)."""
    return list(conn.execute(sa.text(f'SELECT * FROM "{name}" LIMIT 0')).keys())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=("rebuild", "catchup"))
    target = ap.add_mutually_exclusive_group(required=True)
    target.add_argument("--data-dir")
    target.add_argument("--database-url")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--website", default=WEBSITE)
    args = ap.parse_args(argv)
    db = _open(args)
    try:
        if args.action == "rebuild":
            figures = rebuild(db)
        else:
            t0 = time.perf_counter()
            inserted = write_outside(db, args.website, args.rows)
            print(f"outside rows written: {inserted} in {time.perf_counter() - t0:.1f} s")
            figures = _measured(db, lambda: catchup.audit(db))
            figures["cpu_ms_per_1k_rows"] = (
                1000 * (figures["cpu_s"] + figures.get("server_cpu_s", 0)) / inserted * 1000
            )
            with db.connect() as conn:
                figures["events_not_reflected"] = _unreflected(conn)
    finally:
        db.close()
    load = os.getloadavg()
    print({k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()})
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def _unreflected(conn: sa.Connection) -> int:
    """Events in website_event that the slices' per-hour counts do not reflect (0 when exact)."""
    events = conn.execute(sa.select(sa.func.count()).select_from(schema.website_event)).scalar_one()
    counted = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(slices.count_t.c.events), 0))
    ).scalar_one()
    return int(events) - int(counted)


if __name__ == "__main__":
    main()

"""How fast can one transaction put N collected hits into DuckDB / PostgreSQL? Compares insert
strategies for the writer (rows per second, same data, same run). Usage:
    .venv/bin/python -m bench.ingest.insert_strategies [duckdb|postgresql] [rows]
pyarrow / numpy are optional (pip install pyarrow numpy); strategies needing them are skipped."""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime

from bench.ingest.run import postgres_database
from katsuo.collect.rows import EventRow
from katsuo.config import Settings
from katsuo.store import migrations
from katsuo.store.database import Database

COLUMNS = EventRow._fields


def make_rows(n: int) -> list[tuple]:
    now = datetime.now(UTC)
    website = str(uuid.uuid4())
    return [
        EventRow(
            str(uuid.uuid4()),
            website,
            str(uuid.uuid4()),
            str(uuid.uuid4()),
            now,
            f"/page/{i % 50}",
            "utm_source=x",
            "x",
            None,
            None,
            None,
            None,
            "/",
            "",
            "google.com",
            "Title",
            None,
            None,
            None,
            None,
            None,
            None,
            1,
            None,
            None,
            "example.com",
            None,
            None,
            None,
            None,
            None,
        )
        for i in range(n)
    ]


def duckdb_strategies(conn):
    raw = conn.connection.driver_connection
    head = f"INSERT INTO website_event ({', '.join(COLUMNS)}) "

    def executemany(rows):
        raw.executemany(head + "VALUES (" + ",".join("?" * len(COLUMNS)) + ")", rows)

    def values(rows, chunk=256):
        one = "(" + ",".join("?" * len(COLUMNS)) + ")"
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            raw.execute(
                head + "VALUES " + ",".join([one] * len(part)), [v for r in part for v in r]
            )

    def arrow(rows):
        import pyarrow as pa

        table = pa.Table.from_pydict({c: list(col) for c, col in zip(COLUMNS, zip(*rows))})
        raw.register("incoming", table)
        raw.execute(head + "SELECT * FROM incoming")
        raw.unregister("incoming")

    def numpy(rows):
        import numpy as np

        arrays = {c: np.array(col, dtype=object) for c, col in zip(COLUMNS, zip(*rows))}
        raw.register("incoming", arrays)
        raw.execute(
            head
            + "SELECT "
            + ", ".join(f"CAST({c} AS VARCHAR)" if False else c for c in COLUMNS)
            + " FROM incoming"
        )
        raw.unregister("incoming")

    def unnest(rows):
        # one list parameter per column, turned back into rows by UNNEST
        columns = list(zip(*rows))
        select = ", ".join(f"unnest(${i + 1})" for i in range(len(COLUMNS)))
        raw.execute(head + "SELECT " + select, [list(col) for col in columns])

    def json_document(rows):
        # what the writer does (katsuo/store/engines/duckdb.py): one JSON document, an array
        # per column, parsed and unnested by DuckDB
        from katsuo.store.engines import duckdb as engine

        engine.insert_rows(conn, "website_event", COLUMNS, rows)

    return {
        "executemany": executemany,
        "multi-row VALUES": values,
        "arrow scan": arrow,
        "numpy scan": numpy,
        "unnest(lists)": unnest,
        "json document (Katsuo)": json_document,
    }


def postgres_strategies(raw):
    head = f"INSERT INTO website_event ({', '.join(COLUMNS)}) "

    def executemany(rows):
        with raw.cursor() as cur:
            cur.executemany(head + "VALUES (" + ",".join(["%s"] * len(COLUMNS)) + ")", rows)

    def values(rows, chunk=256):
        one = "(" + ",".join(["%s"] * len(COLUMNS)) + ")"
        with raw.cursor() as cur:
            for start in range(0, len(rows), chunk):
                part = rows[start : start + chunk]
                cur.execute(
                    head + "VALUES " + ",".join([one] * len(part)), [v for r in part for v in r]
                )

    def copy(rows):
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY website_event ({', '.join(COLUMNS)}) FROM STDIN") as cp,
        ):
            for row in rows:
                cp.write_row(row)

    return {"executemany (pipeline)": executemany, "multi-row VALUES": values, "COPY": copy}


def main() -> None:
    engine = sys.argv[1] if len(sys.argv) > 1 else "duckdb"
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    env = {"APP_SECRET": "bench", "KATSUO_DATA_DIR": tempfile.mkdtemp()}
    drop = None
    if engine == "postgresql":
        env["DATABASE_URL"], drop = postgres_database()  # a throw-away database
    db = Database(Settings.from_env(env, load_dotenv=False))
    migrations.migrate(db)
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        strategies = duckdb_strategies(conn) if engine == "duckdb" else postgres_strategies(raw)
        for batch in (1, 10, 100, 1000):
            for name, insert in strategies.items():
                rows = make_rows(total)
                try:
                    start = time.perf_counter()
                    for i in range(0, total, batch):
                        with conn.begin():
                            insert(rows[i : i + batch])
                    elapsed = time.perf_counter() - start
                except ImportError as missing:
                    print(f"{name:<24} skipped ({missing.name} not installed)")
                    continue
                print(f"batch {batch:>5}  {name:<24} {total / elapsed:>10.0f} rows/s")
    db.close()
    if drop:
        drop()


if __name__ == "__main__":
    main()

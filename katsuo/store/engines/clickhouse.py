"""ClickHouse for the collected data (CLICKHOUSE_URL): Umami's ClickHouse layout
(clickhouse_layout.py) read and written in Katsuo's schema (clickhouse_io.py), with columnar
batch inserts through `clickhouse-connect`.

`http(s)://user:password@host:8123/database` reaches a server; `chdb:///path/to/dir` (a Katsuo
extension for tests and development) runs the same engine in-process with chdb, through the same
client library. With KATSUO_CLICKHOUSE_CLUSTER set, tables are created ON CLUSTER as
Replicated*MergeTree shards behind Distributed tables of Umami's names (see the README).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import clickhouse_connect
import sqlalchemy as sa
from clickhouse_connect.dbapi.connection import Connection

from katsuo.analytics import dialects
from katsuo.config import Settings
from katsuo.store import schema
from katsuo.store.engines import clickhouse_io as io
from katsuo.store.engines import clickhouse_layout as layout
from katsuo.store.engines import clickhouse_upgrade as upgrade

NAME = "clickhouse"
# Several Katsuo writers may share one ClickHouse server: the writer never assumes it knows every
# stored session.
ONE_WRITER_PROCESS = False
# Hits are acknowledged once in the process's collect journal (KATSUO_DATA_DIR/journal) and
# inserted behind it in large batches (collect/writer.py): an INSERT's fixed cost (a part, every
# materialized view) paid per group of requests capped ingestion at a few hundred hits/s.
COLLECT_JOURNAL = True
# No visit slices: queries read the events, whose layout ClickHouse scans fast.
DERIVED_TABLES = False
# Katsuo's rollups, fed by materialized views (clickhouse_layout.ROLLUPS, analytics/rollups.py).
ROLLUPS = True
# `katsuo copy` moves rows through Python here (insert_rows), not as CSV files.
CSV_COPY = False
DIALECT = dialects.ClickHouse()
# Connections per process: the analytics requests' ceiling stays below it (api/admission.py).
POOL_SIZE, MAX_OVERFLOW = 8, 8

# Katsuo's tables whose rows live in ClickHouse when it is configured; everything else stays in
# the management database. They are stored in Umami's ClickHouse layout and read through views
# of Katsuo's shape (clickhouse_layout.py, clickhouse_io.py), so that one query definition serves
# every engine: `session` is derived from the events' rows by a materialized view.
TABLES = (
    schema.session,
    schema.website_event,
    schema.event_data,
    schema.session_data,
    schema.revenue,
)

# Every statement: LEFT JOINs and CASTs keep NULLs as in SQL (not the type's default), deletes
# are visible when they return, and counts of distinct values are exact (the same numbers as on
# the other engines; Umami's `uniq` is approximate).
SESSION_SETTINGS = {
    "join_use_nulls": 1,
    "lightweight_deletes_sync": 2,
    "mutations_sync": 2,
    "count_distinct_implementation": "uniqExact",
    "cast_keep_nullable": 1,
}


# On a cluster, a JOIN or IN over a Distributed table ships the right-hand side to every shard
# (correct whatever the sharding key); events and sessions share the key (session_id), so each
# visit's rows are aggregated on one shard.
CLUSTER_SETTINGS = {"distributed_product_mode": "global"}


def _connection(url: str, cluster_name: str) -> Connection:
    return Connection(dsn=url, **SESSION_SETTINGS, **(CLUSTER_SETTINGS if cluster_name else {}))


def _prepare_embedded(url: str) -> None:
    """chdb: the directory and the database (`?database=NAME`) are Katsuo's to create, as the
    DuckDB file is. A server's database is created by its operator, as with Umami."""
    parts = urlsplit(url)
    os.makedirs(parts.path, exist_ok=True)
    database = dict(parse_qsl(parts.query)).get("database")
    if database:
        client = clickhouse_connect.get_client(dsn=urlunsplit(parts._replace(query="")))
        try:
            client.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        finally:
            client.close()


def create_engine(settings: Settings) -> sa.Engine:
    url = settings.clickhouse_url
    if url.startswith("chdb://"):
        _prepare_embedded(url)
    cluster_name = settings.clickhouse_cluster
    return sa.create_engine(
        "clickhousedb://",
        creator=lambda: _connection(url, cluster_name),
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_pre_ping=not url.startswith("chdb://"),
    )


# --- query budgets (analytics/budget.py) ---------------------------------------------------------


@contextmanager
def budgeted(conn: sa.Connection, seconds: float) -> Iterator[None]:
    """The server stops each statement sent on `conn` meanwhile after `seconds`
    (max_execution_time); the connection goes back to the pool without the limit."""
    client = conn.connection.driver_connection.client
    client.set_client_setting("max_execution_time", f"{seconds:.3f}")
    try:
        yield
    finally:
        client.set_client_setting("max_execution_time", "0")


def canceller(conn: sa.Connection) -> Callable[[], None]:
    """clickhouse-connect has no way to stop a running query from another thread: the statement
    ends at its max_execution_time, and the budget starts no further statement."""
    return lambda: None


def error_kind(error: BaseException) -> str | None:
    """ "timeout" for TIMEOUT_EXCEEDED, "invalid-regex" for CANNOT_COMPILE_REGEXP, else None."""
    # The regex message quotes the pattern, which may hold any text: it is recognised first.
    text = str(error)
    if "CANNOT_COMPILE_REGEXP" in text or "Code: 427." in text:
        return "invalid-regex"
    if "TIMEOUT_EXCEEDED" in text or "Code: 159." in text:
        return "timeout"
    return None


def create_tables(conn: sa.Connection, tables: list[sa.Table], cluster_name: str = "") -> None:
    """The whole layout (clickhouse_layout.py), whatever `tables` of TABLES are asked for: an
    adopted database gets only Katsuo's objects."""
    unknown = [table.name for table in tables if table not in TABLES]
    if unknown:
        raise ValueError(f"not stored in ClickHouse: {', '.join(unknown)}")
    if upgrade.needed(conn):
        upgrade.upgrade(conn, cluster_name)  # Katsuo's first layout: creates this one, copies
    else:
        layout.create(conn, cluster_name)


def truncate_all(conn: sa.Connection) -> None:
    """Empty every stored table (tests; the layout stays)."""
    for table in layout.STORED_TABLES:
        conn.exec_driver_sql(f"TRUNCATE TABLE `{table.name}`")


def delete_rows(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement, settings: Settings
) -> None:
    """Lightweight DELETEs (rows hidden at once, removed at the next merge) of the table that
    stores Katsuo's `table` rows. On a cluster they go to every shard's local table: a
    Distributed table takes no DELETE."""
    cluster_name = settings.clickhouse_cluster
    on = f" ON CLUSTER `{cluster_name}`" if cluster_name else ""
    for stored, condition in io.delete_statements(conn, table, where, cluster_name):
        try:
            conn.exec_driver_sql(f"DELETE FROM `{stored}`{on} WHERE {condition}")
        except Exception as error:
            # Umami's website_event has projections, which refuse lightweight deletes unless the
            # table allows them (Katsuo alters nothing of Umami's): a mutation deletes instead.
            if "Code: 344." not in str(error):
                raise
            conn.exec_driver_sql(f"ALTER TABLE `{stored}`{on} DELETE WHERE {condition}")
    for statement in io.refill_statements(conn, table, where):
        conn.exec_driver_sql(statement)


def insert_rows(
    conn: sa.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple],
    *,
    skip_existing: bool = False,
) -> None:
    """One columnar (Native format) INSERT per call into Umami's tables (clickhouse_io.py):
    ClickHouse wants few, large inserts. Session rows become the attributes of their events'
    rows; a stored session always keeps its own (`skip_existing` is implied)."""
    if rows:
        io.insert_rows(conn, table, columns, rows)

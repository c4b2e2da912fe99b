"""ClickHouse for the collected data (CLICKHOUSE_URL): the event tables, created from the one
schema with MergeTree engines, and columnar batch inserts through `clickhouse-connect`.

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

NAME = "clickhouse"
# Several Katsuo writers may share one ClickHouse server: the writer never assumes it knows every
# stored session.
ONE_WRITER_PROCESS = False
# ClickHouse takes large inserts already (CLICKHOUSE_BATCH_ROWS): no collect journal.
COLLECT_JOURNAL = False
# No visit slices: queries read the events, whose layout ClickHouse scans fast.
DERIVED_TABLES = False
# No rollups of Katsuo's yet.
ROLLUPS = False
# `katsuo copy` moves rows through Python here (insert_rows), not as CSV files.
CSV_COPY = False
DIALECT = dialects.ClickHouse()
# Connections per process: the analytics requests' ceiling stays below it (api/admission.py).
POOL_SIZE, MAX_OVERFLOW = 8, 8

# The tables that live in ClickHouse when it is configured; everything else stays in the
# management database. Umami keeps sessions in the event rows; Katsuo keeps its session table,
# so that one query definition serves every engine.
TABLES = (
    schema.session,
    schema.website_event,
    schema.event_data,
    schema.session_data,
    schema.revenue,
)

# Sorting keys: a dashboard reads one website's rows in a time range; sessions and the
# key-value tables are looked up by website and session.
_LAYOUT = {
    "website_event": ("MergeTree", "toYYYYMM(created_at)", "website_id, created_at"),
    "event_data": ("MergeTree", "toYYYYMM(created_at)", "website_id, created_at"),
    "revenue": ("MergeTree", "toYYYYMM(created_at)", "website_id, created_at"),
    "session": ("ReplacingMergeTree", None, "website_id, session_id"),
    "session_data": ("MergeTree", None, "website_id, session_id, data_key"),
}

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


def _column_type(column: sa.Column, key: bool) -> str:
    kind = column.type
    if isinstance(kind, sa.Uuid):
        name = "UUID"
    elif isinstance(kind, sa.DateTime):
        name = "DateTime64(6, 'UTC')"
    elif isinstance(kind, sa.Numeric):
        name = f"Decimal({kind.precision}, {kind.scale})"
    elif isinstance(kind, sa.SmallInteger):
        name = "Int16"
    elif isinstance(kind, sa.BigInteger):
        name = "Int64"
    elif isinstance(kind, sa.Integer):
        name = "Int32"
    elif isinstance(kind, sa.Boolean):
        name = "Bool"
    else:  # String, CHAR, JSON, binary
        name = "String"
    if column.nullable and not column.primary_key and not key:
        name = f"Nullable({name})"
    return name


def _default(column: sa.Column) -> str:
    if column.server_default is None:
        return ""
    if isinstance(column.type, sa.DateTime):
        return " DEFAULT now64(6)"
    return f" DEFAULT {column.server_default.arg.text}"


def table_ddl(table: sa.Table, cluster_name: str = "") -> list[str]:
    """CREATE statements of one table: a plain MergeTree table, or on a cluster a replicated local
    table per shard plus a Distributed table with the table's own name in front of it."""
    engine, partition, order = _LAYOUT[table.name]
    keys = {name.strip() for name in order.split(",")}
    columns = ",\n  ".join(
        f"`{c.name}` {_column_type(c, c.name in keys)}{_default(c)}" for c in table.columns
    )
    partition_by = f"\nPARTITION BY {partition}" if partition else ""
    on_cluster = f" ON CLUSTER `{cluster_name}`" if cluster_name else ""
    local = f"{table.name}_local" if cluster_name else table.name
    if cluster_name:
        engine = f"Replicated{engine}('/clickhouse/tables/{{shard}}/{{database}}/{local}', '{{replica}}')"
    statements = [
        (
            f"CREATE TABLE IF NOT EXISTS `{local}`{on_cluster} (\n  {columns}\n) ENGINE = "
            f"{engine if cluster_name else engine + '()'}{partition_by}\nORDER BY ({order})"
        )
    ]
    if cluster_name:
        # Sessions, their data and their events shard by session, so a visit's rows meet on one
        # shard and per-visit aggregates stay local; event data shards by its event.
        statements.append(
            f"CREATE TABLE IF NOT EXISTS `{table.name}`{on_cluster} AS `{local}` ENGINE = "
            f"Distributed(`{cluster_name}`, currentDatabase(), `{local}`, {_shard_key(table)})"
        )
    return statements


def _shard_key(table: sa.Table) -> str:
    column = "website_event_id" if table.name == "event_data" else "session_id"
    return f"cityHash64({column})"


def create_tables(conn: sa.Connection, tables: list[sa.Table], cluster_name: str = "") -> None:
    for table in tables:
        for statement in table_ddl(table, cluster_name):
            conn.exec_driver_sql(statement)


def delete_rows(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement, settings: Settings
) -> None:
    """A lightweight DELETE (rows hidden at once, removed at the next merge). On a cluster it goes
    to every shard's local table: a Distributed table takes no DELETE."""
    cluster_name = settings.clickhouse_cluster
    if not cluster_name:
        conn.execute(table.delete().where(where))
        return
    condition = where.compile(conn.engine, compile_kwargs={"literal_binds": True})
    conn.exec_driver_sql(
        f"DELETE FROM `{table.name}_local` ON CLUSTER `{cluster_name}` WHERE {condition}"
    )


def insert_rows(
    conn: sa.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple],
    *,
    skip_existing: bool = False,
) -> None:
    """One columnar (Native format) INSERT per call: ClickHouse wants few, large inserts. With
    `skip_existing`, rows whose key (first column) is already stored are left out — ClickHouse
    has no unique keys, and the session table keeps the first write, as on the other engines."""
    client = conn.connection.driver_connection.client
    if skip_existing:
        key = columns[0]
        wanted = [row[0] for row in rows]
        found = client.query(
            f"SELECT toString({key}) FROM `{table}` WHERE {key} IN %(ids)s", {"ids": wanted}
        ).result_columns
        stored = set(found[0]) if found else set()
        rows = [row for row in rows if str(row[0]) not in stored]
        if not rows:
            return
    client.insert(table, rows, column_names=list(columns))

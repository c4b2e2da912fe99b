"""Embedded DuckDB: one file under the data directory, one process, queries from a thread pool."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import duckdb
import orjson
import sqlalchemy as sa

from katsuo.analytics import dialects
from katsuo.config import Settings
from katsuo.store import schema

NAME = "duckdb"
# One process owns the database file: the writer can know every stored session id (collect/writer.py).
ONE_WRITER_PROCESS = True
# Each INSERT costs milliseconds whatever its size: hits are made durable in the collect journal
# and applied in large transactions behind it (collect/writer.py).
COLLECT_JOURNAL = True
# The visit slices live beside the events (analytics/slices.py).
DERIVED_TABLES = True
ROLLUPS = False
# `katsuo copy` moves collected data as CSV files in PostgreSQL's CSV dialect (ops/copy.py).
CSV_COPY = True
DIALECT = dialects.DuckDB()
# Connections (cursors of the one database) per process: the analytics requests' ceiling stays
# below it (api/admission.py).
POOL_SIZE, MAX_OVERFLOW = 8, 8
# RE2's messages for a pattern it cannot compile, which DuckDB passes on as Invalid Input errors.
_RE2_ERRORS = (
    "invalid escape sequence",
    "invalid character class",
    "missing ]",
    "missing )",
    "unexpected )",
    "trailing \\",
    "no argument for repetition operator",
    "invalid repetition size",
    "bad repetition operator",
    "invalid perl operator",
    "invalid UTF-8",
    "invalid named capture group",
    "pattern too large",
)


def create_engine(settings: Settings) -> sa.Engine:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = {"preserve_insertion_order": False}
    if settings.duckdb_memory:
        config["memory_limit"] = settings.duckdb_memory
    engine = sa.create_engine(
        f"duckdb:///{settings.duckdb_path}",
        connect_args={"config": config},
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
    )
    # Timestamps come back in UTC whatever the machine's zone (ICU must be loaded first, so this
    # cannot go into the connect-time config).
    sa.event.listen(
        engine, "connect", lambda dbapi_conn, _: dbapi_conn.execute("SET TimeZone = 'UTC'")
    )
    # duckdb-engine compiles with PostgreSQL's compiler but does not opt in to SQLAlchemy's
    # compiled-statement cache; without it each of the read path's large queries is compiled
    # anew on every request (a few milliseconds each).
    engine.dialect._supports_statement_cache = True
    return engine


# --- query budgets (analytics/budget.py) ---------------------------------------------------------


@contextmanager
def budgeted(conn: sa.Connection, seconds: float) -> Iterator[None]:
    """DuckDB has no statement timeout: the budget's timer interrupts the statement instead."""
    yield


def canceller(conn: sa.Connection) -> Callable[[], None]:
    """Stops the statement running on `conn`, from any thread."""
    return conn.connection.driver_connection.interrupt


def error_kind(error: BaseException) -> str | None:
    """ "timeout" for an interrupted statement, "invalid-regex" for a pattern RE2 cannot compile,
    else None."""
    if isinstance(error, duckdb.InterruptException):
        return "timeout"
    if isinstance(error, duckdb.InvalidInputException) and any(
        text in str(error) for text in _RE2_ERRORS
    ):
        return "invalid-regex"
    return None


def _without_keys(table: sa.Table) -> sa.Table:
    """A copy of an append-only event table without primary key (see schema.EVENT_TABLES)."""
    bare = sa.MetaData()
    return sa.Table(
        table.name,
        bare,
        *(
            sa.Column(c.name, c.type, nullable=c.nullable, server_default=c.server_default)
            for c in table.columns
        ),
    )


def create_tables(conn: sa.Connection, tables: list[sa.Table]) -> None:
    existing = set(sa.inspect(conn).get_table_names())
    for table in tables:
        if table.name in existing:
            continue
        ddl_table = _without_keys(table) if table.name in schema.EVENT_TABLES else table
        # No secondary indexes: DuckDB scans columnar data with zone maps; ART indexes would only
        # slow writes down. Unique constraints declared on columns stay (they are enforced).
        conn.execute(sa.schema.CreateTable(ddl_table))


def insert_rows(
    conn: sa.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple],
    *,
    skip_existing: bool = False,
) -> None:
    """Append rows inside the connection's transaction; with `skip_existing`, rows whose primary
    key is already stored are left out (first write wins).

    The rows travel as one JSON document, an array per column, that DuckDB parses, types
    (json_transform) and turns back into rows with UNNEST: one statement whose cost grows with
    the data, not with the number of bound parameters (multi-row VALUES and executemany are
    10-40x slower at a few hundred rows; see bench/ingest/insert_strategies.py). A Python list
    bound per column is slower (44,000 against 63,000 rows/s at 1,000 rows), and DuckDB reads
    those lists holding the GIL (~13 ms per 1,000 events), which the event loop then waits for;
    orjson writes the document in ~1 ms and DuckDB parses it without the GIL. Values round-trip
    exactly: UUIDs, aware datetimes (ISO 8601 with offset), Decimals (as strings), floats
    (shortest repr)."""
    # Columns that are NULL in every row and default to NULL are left out of the statement: most
    # hits carry no campaign, click id or performance values.
    defaults = schema.metadata.tables[table].c
    names, values = [], []
    for name, column in zip(columns, zip(*rows)):
        if defaults[name].server_default is not None or any(value is not None for value in column):
            names.append(
                str(name)
            )  # orjson takes plain str keys only (not SQLAlchemy's quoted_name)
            values.append(column)
    document = orjson.dumps(dict(zip(names, values)), default=str)
    conn.connection.driver_connection.execute(
        _insert_json(conn.dialect, table, tuple(names), skip_existing), [document.decode()]
    )


@lru_cache(maxsize=256)
def _insert_json(
    dialect: sa.Dialect, table: str, names: tuple[str, ...], skip_existing: bool
) -> str:
    columns = schema.metadata.tables[table].c
    structure = orjson.dumps(
        {name: f"{columns[name].type.compile(dialect=dialect)}[]" for name in names}
    )
    unnest = ", ".join(f'unnest(j."{name}")' for name in names)
    sql = (
        f'INSERT INTO "{table}" ({", ".join(names)}) SELECT {unnest} '
        f"FROM (SELECT json_transform($1, '{structure.decode()}') AS j)"
    )
    return sql + " ON CONFLICT DO NOTHING" if skip_existing else sql


def export_csv(conn: sa.Connection, query: str, path: Path) -> None:
    """Write the rows of `query` to `path` as CSV: NULL unquoted and empty, an empty string `""`,
    as PostgreSQL reads and writes it."""
    target = str(path).replace("'", "''")
    conn.connection.driver_connection.execute(
        f"COPY ({query}) TO '{target}' (FORMAT csv, HEADER false)"
    )


def secondary_indexes(conn: sa.Connection, table: str) -> dict[str, str]:
    """The table's indexes other than its primary key: name -> the statement that creates it."""
    rows = conn.execute(
        sa.text("SELECT index_name, sql FROM duckdb_indexes() WHERE table_name = :t"), {"t": table}
    )
    return {name: definition for name, definition in rows}


def import_csv(conn: sa.Connection, table: sa.Table, path: Path) -> int:
    """Append the rows of a CSV file written by an engine's `export_csv`, columns in the table's
    order; returns their number. Every value is read as text and cast by the INSERT."""
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    types = ", ".join(f"'{column.name}': 'VARCHAR'" for column in table.columns)
    result = conn.connection.driver_connection.execute(
        f'INSERT INTO "{table.name}" ({names}) SELECT * FROM read_csv(?, columns={{{types}}}, '
        "header=false, delim=',', quote='\"', escape='\"', allow_quoted_nulls=false)",
        [str(path)],
    )
    return result.fetchone()[0]


def delete_rows(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement, settings: Settings
) -> None:
    conn.execute(table.delete().where(where))


# --- upkeep of derived tables (analytics/slices.py) --------------------------------------------


def snapshot(conn: sa.Connection) -> None:
    """A DuckDB transaction always reads one snapshot."""


@contextmanager
def exclusive(conn: sa.Connection, key: int, *, wait: bool) -> Iterator[bool]:
    """One process owns a DuckDB file: the caller's in-process lock is all there is."""
    yield True


@contextmanager
def stored_in_order(conn: sa.Connection) -> Iterator[None]:
    """Keep an INSERT's ORDER BY in the stored order: sorted storage is what lets DuckDB skip
    other websites' and other dates' row groups."""
    conn.exec_driver_sql("SET preserve_insertion_order = true")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql("SET preserve_insertion_order = false")
        conn.commit()


def analyze(conn: sa.Connection, tables: list[str]) -> None:
    """DuckDB keeps its statistics up to date by itself."""


def id_hash(column: sa.ColumnElement) -> sa.ColumnElement:
    """A well-spread hash of an id in [0, 2**31): sums of millions stay within a BIGINT."""
    return sa.cast(sa.func.hash(column) % 2147483648, sa.BigInteger)

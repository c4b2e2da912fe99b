"""PostgreSQL: Umami v3's own schema, so an existing Umami database can be used as it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa

from katsuo.analytics import dialects
from katsuo.config import Settings
from katsuo.store import schema

NAME = "postgresql"
# Several server processes may write: a writer never knows every stored session id.
ONE_WRITER_PROCESS = False
# A transaction per group of requests is cheap here: no collect journal in front of it.
COLLECT_JOURNAL = False
# The visit slices live beside the events (analytics/slices.py).
DERIVED_TABLES = True
ROLLUPS = False
# `katsuo copy` moves collected data as CSV files, through COPY (ops/copy.py).
CSV_COPY = True
DIALECT = dialects.PostgreSQL()
# Connections per server process: the analytics requests' ceiling stays below it (api/admission.py).
POOL_SIZE, MAX_OVERFLOW = 10, 10


def sqlalchemy_url(database_url: str) -> tuple[str, dict]:
    """Turn Umami's DATABASE_URL into a psycopg 3 URL; `?schema=NAME` becomes the search_path."""
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    connect_args: dict = {}
    schema_name = query.pop("schema", None)
    if schema_name:
        connect_args["options"] = f"-csearch_path={schema_name}"
    url = urlunsplit(
        ("postgresql+psycopg", parts.netloc, parts.path, urlencode(query), parts.fragment)
    )
    return url, connect_args


def create_engine(settings: Settings) -> sa.Engine:
    url, connect_args = sqlalchemy_url(settings.database_url)
    return sa.create_engine(
        url,
        connect_args=connect_args,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_pre_ping=True,
    )


# --- query budgets (analytics/budget.py) ---------------------------------------------------------

QUERY_CANCELED = "57014"  # statement_timeout or a cancel request
INVALID_REGULAR_EXPRESSION = "2201B"


@contextmanager
def budgeted(conn: sa.Connection, seconds: float) -> Iterator[None]:
    """The server stops any statement of the rest of this transaction after `seconds`."""
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}")
    yield


def canceller(conn: sa.Connection) -> Callable[[], None]:
    """Stops the statement running on `conn`, from any thread (a cancel request to the server)."""
    return conn.connection.driver_connection.cancel_safe


def error_kind(error: BaseException) -> str | None:
    """ "timeout" for a statement stopped by its budget, "invalid-regex" for a pattern the server
    cannot compile, else None."""
    state = getattr(error, "sqlstate", None)
    return {QUERY_CANCELED: "timeout", INVALID_REGULAR_EXPRESSION: "invalid-regex"}.get(state)


def create_tables(conn: sa.Connection, tables: list[sa.Table]) -> None:
    for table in tables:
        table.create(conn, checkfirst=True)
        if table is schema.visit_slice:
            # The table is partitioned by dimension (schema.py); its partitions must exist before
            # the first row arrives.
            for dim, name in schema.SLICE_DIMENSIONS.items():
                conn.execute(
                    sa.text(
                        f"CREATE TABLE IF NOT EXISTS {table.name}_{name} PARTITION OF {table.name} FOR VALUES IN ({dim})"
                    )
                )
            # Tables made before the journey dimension hold shorter values; widening a varchar
            # only changes the catalogue.
            conn.execute(
                sa.text(
                    f"ALTER TABLE {table.name} ALTER COLUMN value TYPE varchar({schema.SLICE_VALUE_LENGTH})"
                )
            )


def insert_rows(
    conn: sa.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple],
    *,
    skip_existing: bool = False,
) -> None:
    """Append rows inside the connection's transaction: COPY (the fastest way into PostgreSQL),
    or, with `skip_existing`, a multi-row INSERT … ON CONFLICT DO NOTHING (first write wins)."""
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(columns)
    if not skip_existing:
        with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    one = "(" + ",".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(rows), 256):
        chunk = rows[start : start + 256]
        cursor.execute(
            f'INSERT INTO "{table}" ({names}) VALUES {",".join([one] * len(chunk))} ON CONFLICT DO NOTHING',
            [value for row in chunk for value in row],
        )


def export_csv(conn: sa.Connection, query: str, path: Path) -> None:
    """Write the rows of `query` to `path` as CSV (NULL unquoted and empty, an empty string
    `""`)."""
    cursor = conn.connection.driver_connection.cursor()
    with path.open("wb") as out, cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
        for chunk in copy:
            out.write(chunk)


def secondary_indexes(conn: sa.Connection, table: str) -> dict[str, str]:
    """The table's indexes other than its primary key: name -> the statement that creates it."""
    rows = conn.execute(
        sa.text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
            "current_schema() AND i.tablename = :t AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname AND c.contype = 'p')"
        ),
        {"t": table},
    )
    return {name: definition for name, definition in rows}


def import_csv(conn: sa.Connection, table: sa.Table, path: Path) -> int:
    """Append the rows of a CSV file written by an engine's `export_csv`, columns in the table's
    order, inside the connection's transaction; returns their number."""
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    statement = f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT csv)'
    with path.open("rb") as data, cursor.copy(statement) as copy:
        while chunk := data.read(1 << 20):
            copy.write(chunk)
    return cursor.rowcount


def delete_rows(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement, settings: Settings
) -> None:
    conn.execute(table.delete().where(where))


# --- upkeep of derived tables (analytics/slices.py) --------------------------------------------


def snapshot(conn: sa.Connection) -> None:
    """Reads and writes of one maintenance step must see one snapshot."""
    conn.execution_options(isolation_level="REPEATABLE READ")


@contextmanager
def exclusive(conn: sa.Connection, key: int, *, wait: bool) -> Iterator[bool]:
    """One holder across processes (e.g. the CLI beside a server): an advisory lock."""
    function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
    got = conn.execute(sa.text(f"select {function}({key})")).scalar()
    conn.commit()
    try:
        yield got is not False
    finally:
        if got is not False:
            conn.execute(sa.text(f"select pg_advisory_unlock({key})"))
            conn.commit()


@contextmanager
def stored_in_order(conn: sa.Connection) -> Iterator[None]:
    """PostgreSQL keeps no promise about row order on disk: nothing to switch."""
    yield


def analyze(conn: sa.Connection, tables: list[str]) -> None:
    """Fresh statistics for the planner: with a freshly loaded table it would otherwise estimate
    one row everywhere and pick nested loops over millions."""
    conn.exec_driver_sql(f"ANALYZE {', '.join(tables)}")
    conn.commit()


def id_hash(column: sa.ColumnElement) -> sa.ColumnElement:
    """A well-spread hash of an id in [0, 2**31): sums of millions stay within a BIGINT."""
    return sa.cast(sa.func.hashtext(sa.cast(column, sa.Text)), sa.BigInteger).op("&")(2147483647)

"""`katsuo copy`: every table of one store into another (DuckDB, PostgreSQL, ClickHouse events).

Each table is read in primary-key order, a batch at a time (keyset pagination: `key > last`), and
each batch is written to the target together with the last key copied, in
`katsuo_copy_progress`, in one transaction where the batch and the progress live in the same
store. An interrupted copy resumes after the last recorded key. Between DuckDB and PostgreSQL the
collected data (the bulk of a store) travels as a CSV file per batch, written and read by the
engines themselves (COPY), never as Python objects: ~10x faster than fetching rows. Into ClickHouse (no transactions
across the two stores) the batch is inserted first and the progress recorded after, so the first
batch of a resumed table skips the keys ClickHouse already holds. The read path's derived tables
are not copied: the target rebuilds them from the copied events.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from tqdm import tqdm

from katsuo.config import Settings
from katsuo.ops.stores import OperatorError, describe
from katsuo.store import migrations, schema, umami
from katsuo.store.database import Database, literal_sql
from katsuo.store.engines import clickhouse

log = logging.getLogger("katsuo.copy")

BATCH_ROWS = 50_000
# Rebuilt from the copied events on the target, never copied.
DERIVED = (
    schema.visit_slice,
    schema.slice_pending,
    schema.slice_session,
    schema.slice_state,
    schema.slice_count,
    schema.slice_stale,
    schema.slice_part,
)
# Each store's own bookkeeping: its migrations and its collect journal's position.
STORE_STATE = (schema.schema_version, schema.collect_journal)
# Collected data: where CLICKHOUSE_URL is set these live in ClickHouse, and these go through the
# engines' bulk insert (their columns are plain values on every engine).
EVENT_TABLE_NAMES = {table.name for table in clickhouse.TABLES}

_progress_metadata = sa.MetaData()
progress_t = sa.Table(
    "katsuo_copy_progress",
    _progress_metadata,
    sa.Column("table_name", sa.String(100), primary_key=True),
    sa.Column("last_key", sa.String(100)),
    sa.Column("copied", sa.BigInteger, nullable=False),
    sa.Column("done", sa.Boolean, nullable=False),
)
# Indexes set aside while a table is loaded (index_t's docstring in _set_indexes_aside).
index_t = sa.Table(
    "katsuo_copy_index",
    _progress_metadata,
    sa.Column("index_name", sa.String(200), primary_key=True),
    sa.Column("table_name", sa.String(100), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
)


def copied_tables() -> list[sa.Table]:
    skipped = {table.name for table in (*DERIVED, *STORE_STATE)}
    return [table for table in schema.metadata.sorted_tables if table.name not in skipped]


@dataclass
class TableCount:
    table: str
    source: int
    target: int

    @property
    def matches(self) -> bool:
        return self.source == self.target


def _home(db: Database, table: sa.Table) -> Database:
    """The store holding `table`: the events store for collected data, else the database."""
    return db.events if table.name in EVENT_TABLE_NAMES else db


def _key(table: sa.Table) -> sa.Column:
    """The column batches are paged by: every copied table has a one-column primary key."""
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        raise AssertionError(f"{table.name} needs a one-column primary key to be copied")
    return columns[0]


def _exists(db: Database, table: sa.Table) -> bool:
    with db.connect() as conn:
        return sa.inspect(conn).has_table(table.name)


def _count(db: Database, table: sa.Table) -> int:
    home = _home(db, table)
    with home.connect() as conn:
        if home.kind == "clickhouse":  # a ReplacingMergeTree may hold a key twice until it merges
            query = sa.select(sa.func.count(sa.distinct(_key(table))))
        else:
            query = sa.select(sa.func.count())
        return conn.execute(query.select_from(table)).scalar_one()


def open_store(settings: Settings, *, role: str) -> Database:
    """A Database on the store, reachable (else a clear error); an embedded source first takes in
    the hits its collect journal holds, as a server start would."""
    if settings.engine == "duckdb" and role == "source" and not settings.duckdb_path.exists():
        raise OperatorError(f"there is no database at {settings.duckdb_path}")
    if (
        settings.engine == "duckdb"
        and role == "source"
        and (settings.data_dir / "journal").exists()
    ):
        from katsuo.services import Services

        _in_use(settings, lambda: Services.start(settings).close())
    db = _in_use(settings, lambda: Database(settings))
    try:
        _in_use(settings, db.check)
    except OperatorError:
        db.close()
        raise
    except Exception as error:  # noqa: BLE001 - any failure to connect: say which store
        db.close()
        raise OperatorError(f"cannot reach the {role} ({describe(settings)}): {error}") from None
    return db


def _in_use(settings: Settings, action: Callable):
    try:
        return action()
    except Exception as error:
        if "lock" in str(error).lower() and settings.engine == "duckdb":
            raise OperatorError(
                f"{settings.duckdb_path} is in use by another process (a running server?): stop "
                "it first, or copy from a backup (`katsuo backup`)"
            ) from None
        raise


def copy(
    source: Settings,
    target: Settings,
    *,
    force: bool = False,
    resume: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: bool = True,
) -> list[TableCount]:
    """Copy every table; returns the per-table row counts of both sides (all matching, else
    OperatorError after the copy)."""
    if describe(source) == describe(target):
        raise OperatorError("the source and the target are the same store")
    src = open_store(source, role="source")
    try:
        dst = open_store(target, role="target")
        try:
            counts = _copy(
                src, dst, force=force, resume=resume, batch_rows=batch_rows, progress=progress
            )
        finally:
            dst.close()
    finally:
        src.close()
    _carry_secret(source, target)
    return counts


def _copy(
    src: Database, dst: Database, *, force: bool, resume: bool, batch_rows: int, progress: bool
) -> list[TableCount]:
    migrations.migrate(dst)
    tables = [table for table in copied_tables() if _exists(_home(src, table), table)]
    _prepare_target(dst, force=force, resume=resume)
    totals = {table.name: _count(src, table) for table in tables}
    with dst.connect() as conn:
        done = {row.table_name: row for row in conn.execute(sa.select(progress_t))}
    bar = tqdm(total=sum(totals.values()), unit="rows", unit_scale=True, disable=not progress)
    with bar:
        for table in tables:
            bar.set_description(table.name)
            _copy_table(src, dst, table, done.get(table.name), batch_rows, bar)
    counts = [TableCount(table.name, totals[table.name], _count(dst, table)) for table in tables]
    if all(count.matches for count in counts):
        with dst.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE {progress_t.name}"))
            conn.execute(sa.text(f"DROP TABLE {index_t.name}"))
    if not dst.separate_events:
        from katsuo.analytics import slices

        slices.rebuild(dst)
    return counts


def _prepare_target(dst: Database, *, force: bool, resume: bool) -> None:
    started = _exists(dst, progress_t)
    if resume:
        if not started:
            raise OperatorError("nothing to resume: no copy was started into this target")
        return
    held = {
        name: rows for name, rows in ((t.name, _count(dst, t)) for t in copied_tables()) if rows
    }
    if _only_the_first_account(dst, held):
        held = {}
    if (held or started) and not force:
        listed = ", ".join(f"{name} {rows}" for name, rows in sorted(held.items()))
        hint = "--resume to finish the copy that was interrupted, or " if started else ""
        raise OperatorError(
            f"the target already holds data ({listed or 'an unfinished copy'}): use {hint}"
            "--force to replace everything in it"
        )
    for table in (*copied_tables(), *DERIVED):
        home = _home(dst, table)
        with home.begin() as conn:
            home.engines.delete_rows(conn, table, sa.true(), home.settings)
    with dst.begin() as conn:
        if started:
            _restore_indexes(conn, None)
            conn.execute(sa.text(f"DROP TABLE {progress_t.name}"))
            conn.execute(sa.text(f"DROP TABLE {index_t.name}"))
        dst.engines.create_tables(conn, [progress_t, index_t])


def _only_the_first_account(dst: Database, held: dict[str, int]) -> bool:
    """A fresh target holds the default account its first migration created, and nothing else."""
    if held != {"user": 1}:
        return False
    with dst.connect() as conn:
        only = conn.execute(sa.select(schema.user.c.user_id, schema.user.c.username)).one()
    return str(only.user_id) == migrations.DEFAULT_ADMIN_ID and only.username == "admin"


def _copy_table(
    src: Database, dst: Database, table: sa.Table, recorded, batch_rows: int, bar: tqdm
) -> None:
    if recorded is not None and recorded.done:
        bar.update(recorded.copied)
        return
    key = _key(table)
    last = uuid.UUID(recorded.last_key) if recorded is not None and recorded.last_key else None
    copied = recorded.copied if recorded is not None else 0
    bar.update(copied)
    source, target = _home(src, table), _home(dst, table)
    as_csv = table.name in EVENT_TABLE_NAMES and source.engines.CSV_COPY and target.engines.CSV_COPY
    # Into another store than the progress's, a batch may be in while its progress is not.
    skip_existing = recorded is not None and target is not dst
    with source.connect() as conn:
        ends = _batch_ends(conn, key, last, batch_rows)
    if as_csv and target is dst and not umami.level_of(dst).adopted:
        with dst.begin() as conn:
            _set_indexes_aside(dst, conn, table)
    with tempfile.TemporaryDirectory(prefix="katsuo-copy-") as folder:
        for end in ends:
            batch = sa.select(table)
            if last is not None:
                batch = batch.where(key > last)
            if end is not None:
                batch = batch.where(key <= end)
            with target.begin() as conn:
                if as_csv:
                    rows = _move_csv(source, target, conn, table, batch, Path(folder))
                else:
                    rows = _move_rows(source, target, conn, table, batch, skip_existing)
                last = end if end is not None else _largest(conn, key, last)
                if target is dst:
                    _record(conn, table.name, _text(last), copied + rows, done=False)
            if target is not dst:
                with dst.begin() as conn:
                    _record(conn, table.name, _text(last), copied + rows, done=False)
            copied, skip_existing = copied + rows, False
            bar.update(rows)
    with dst.begin() as conn:
        _restore_indexes(conn, table.name)
        _record(conn, table.name, _text(last), copied, done=True)


def _set_indexes_aside(dst: Database, conn: sa.Connection, table: sa.Table) -> None:
    """A bulk load into an indexed table is many times faster without its secondary indexes,
    built afterwards in one sorted pass each: they are dropped, and their definitions kept in
    `katsuo_copy_index` in the same transaction, to be created again when the table is done (or
    when a forced copy starts over). Only in a database Katsuo created: on an adopted Umami
    database no Umami-named object is ever dropped."""
    for name, definition in dst.engines.secondary_indexes(conn, table.name).items():
        conn.execute(
            index_t.insert().values(index_name=name, table_name=table.name, definition=definition)
        )
        conn.execute(sa.text(f'DROP INDEX "{name}"'))


def _restore_indexes(conn: sa.Connection, table: str | None) -> None:
    """Create again the indexes set aside for `table` (None: for every table)."""
    where = sa.true() if table is None else index_t.c.table_name == table
    kept = conn.execute(sa.select(index_t.c.index_name, index_t.c.definition).where(where)).all()
    for name, definition in kept:
        log.info("copy: creating index %s again", name)
        conn.exec_driver_sql(definition)
        conn.execute(index_t.delete().where(index_t.c.index_name == name))


def _batch_ends(conn: sa.Connection, key: sa.Column, last, batch_rows: int) -> list:
    """Where the batches after `last` end: every `batch_rows`-th key, found in one sorted pass
    over the keys (each batch is then a range of keys, not a sort of its own), and a last batch
    without an end, which takes whatever else the table holds."""
    numbered = sa.select(key.label("key"), sa.func.row_number().over(order_by=key).label("n"))
    if last is not None:
        numbered = numbered.where(key > last)
    numbered = numbered.subquery()
    every = sa.select(numbered.c.key).where(numbered.c.n % batch_rows == 0).order_by(numbered.c.n)
    return [*conn.execute(every).scalars(), None]


def _largest(conn: sa.Connection, key: sa.Column, last):
    """The largest key the target holds now (the end of an open-ended last batch)."""
    largest = sa.select(key).order_by(key.desc()).limit(1)  # PostgreSQL has no max() of UUIDs
    return conn.execute(largest).scalar() or last


def _text(key) -> str | None:
    return None if key is None else str(key)


def _move_csv(
    source: Database,
    target: Database,
    conn: sa.Connection,
    table: sa.Table,
    batch: sa.Select,
    folder: Path,
) -> int:
    """The batch through a CSV file the two engines write and read themselves."""
    path = folder / f"{table.name}.csv"
    with source.connect() as read:
        source.engines.export_csv(read, literal_sql(read, batch), path)
    if path.stat().st_size == 0:  # the open-ended last batch may be empty
        return 0
    return target.engines.import_csv(conn, table, path)


def _move_rows(
    source: Database,
    target: Database,
    conn: sa.Connection,
    table: sa.Table,
    batch: sa.Select,
    skip_existing: bool,
) -> int:
    """The batch fetched as rows and inserted (ClickHouse, and the management tables)."""
    with source.connect() as read:
        rows = _unique(read.execute(batch).all(), _key(table).name)
    if rows:  # the open-ended last batch may be empty
        _insert(target, conn, table, rows, skip_existing)
    return len(rows)


def _unique(rows: list, key: str) -> list:
    """One row per key (a ClickHouse source may hold a session twice until it merges)."""
    seen: set = set()
    kept = []
    for row in rows:
        value = getattr(row, key)
        if value not in seen:
            seen.add(value)
            kept.append(row)
    return kept


def _insert(
    db: Database, conn: sa.Connection, table: sa.Table, rows: list, skip_existing: bool
) -> None:
    if table.name in EVENT_TABLE_NAMES:
        columns = tuple(rows[0]._fields)
        db.engines.insert_rows(
            conn, table.name, columns, [tuple(row) for row in rows], skip_existing=skip_existing
        )
    elif skip_existing:
        raise AssertionError("only collected data lives outside the progress's store")
    else:
        conn.execute(table.insert(), [row._asdict() for row in rows])


def _record(conn: sa.Connection, table: str, last: str | None, copied: int, *, done: bool) -> None:
    conn.execute(progress_t.delete().where(progress_t.c.table_name == table))
    conn.execute(
        progress_t.insert().values(table_name=table, last_key=last, copied=copied, done=done)
    )


def _carry_secret(source: Settings, target: Settings) -> None:
    """The embedded store's generated secret (config.py) goes with it to an embedded target, so
    that logins, share links and visitor ids carry on; other targets are told (see report())."""
    secret = source.data_dir / "app_secret"
    carried = target.data_dir / "app_secret"
    if source.engine == target.engine == "duckdb" and secret.exists() and not carried.exists():
        shutil.copy2(secret, target.data_dir / "app_secret")


def report(counts: list[TableCount], source: Settings, target: Settings) -> str:
    """The per-table counts as a text table, and what to do next."""
    width = max(len(count.table) for count in counts)
    lines = [f"{'table':<{width}}  {'source':>12}  {'target':>12}"]
    for count in counts:
        mark = "" if count.matches else "  MISMATCH"
        lines.append(f"{count.table:<{width}}  {count.source:>12,}  {count.target:>12,}{mark}")
    secret = source.data_dir / "app_secret"
    if source.engine == "duckdb" and target.engine != "duckdb" and secret.exists():
        lines.append(
            f"\nThe source's server used the secret generated in {secret}: give the new server "
            "the same APP_SECRET to keep its logins, share links and visitor ids."
        )
    return "\n".join(lines)

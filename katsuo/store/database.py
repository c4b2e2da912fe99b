"""The store handle: an SQLAlchemy engine for the configured engine, plus query logging."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from katsuo.config import Settings
from katsuo.logs import logs_queries
from katsuo.store import engines

log = logging.getLogger("katsuo.store")
sql_log = logging.getLogger("katsuo.sql")
_AFTER_COMMIT = "katsuo.after_commit"


class Database:
    """One store. `events` is where the collected data (sessions, events, event and session data,
    revenue) lives: this same store, or a ClickHouse store when CLICKHOUSE_URL is set."""

    def __init__(self, settings: Settings, module=None):
        self.settings = settings
        self.engines = module or engines.module_for(settings)
        self.kind: str = self.engines.NAME
        self.engine: sa.Engine = self.engines.create_engine(settings)
        if logs_queries(settings):
            sa.event.listen(self.engine, "before_cursor_execute", _log_statement)
        events_module = None if module else engines.events_module(settings)
        self.events: Database = Database(settings, events_module) if events_module else self
        # Called before `begin()` and `connect()` hand out a connection. With a collect journal
        # the server sets it to the writer's `sync`, so every read sees each acknowledged hit.
        self.before_connect: Callable[[], None] = _nothing

    @property
    def separate_events(self) -> bool:
        return self.events is not self

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A connection inside one transaction, committed on success; then the actions queued
        with `after_commit` run, in order (none run when the transaction rolls back). The change
        is stored by then: an action that fails is logged, and the others still run."""
        actions: list[Callable[[], None]] = []
        self.before_connect()
        with self.engine.begin() as conn:
            conn.info[_AFTER_COMMIT] = actions
            try:
                yield conn
            finally:
                del conn.info[_AFTER_COMMIT]
        for action in actions:
            try:
                action()
            except Exception:
                log.exception("an action after a commit failed")

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        self.before_connect()
        with self.engine.connect() as conn:
            yield conn

    def check(self) -> None:
        """Fail early with a readable message when the database cannot be reached."""
        with self.connect() as conn:
            conn.execute(sa.text("select 1"))
        if self.separate_events:
            self.events.check()

    def close(self) -> None:
        if self.separate_events:
            self.events.close()
        self.engine.dispose()


def _nothing() -> None:
    pass


def after_commit(conn: sa.Connection, action: Callable[[], None]) -> None:
    """Run `action` once the transaction of `conn` (from `Database.begin`) has committed: for
    work outside it that must not happen unless the change is stored (another store, caches)."""
    try:
        conn.info[_AFTER_COMMIT].append(action)
    except KeyError:
        raise RuntimeError("after_commit needs a connection from Database.begin()") from None


def _log_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    sql_log.info("%s %s", " ".join(statement.split()), parameters)


def literal_sql(conn: sa.Connection, statement: sa.Executable) -> str:
    """`statement` as SQL text with its constants written in, for a statement that takes no
    parameters (a COPY) or one that plans better without them (analytics/slices.py)."""
    sql = str(statement.compile(conn.engine, compile_kwargs={"literal_binds": True}))
    return sql.replace("%%", "%") if conn.dialect.paramstyle in ("format", "pyformat") else sql

"""The one writer of collected rows: it group-commits.

Requests hand their rows to `Writer.write()` and wait. A single thread takes everything that is
queued, inserts it in one transaction, runs the registered hooks inside that transaction, commits,
and only then releases the waiting requests. Under load the queue fills while a commit runs, so
batches grow by themselves and throughput comes from batching, never from acknowledging rows that
are not yet committed. `close()` drains the queue before the process exits.

Session rows: first write wins, and `INSERT … ON CONFLICT DO NOTHING` was the costliest statement
of a batch on DuckDB. So the writer remembers the session ids it has written (bounded), and where
one process owns the database (the engine module's ONE_WRITER_PROCESS) it loads the stored ids at
start; while that set holds every stored id, a session it does not know is new and goes in with a
plain INSERT. Should a row appear behind its back anyway (a plain INSERT fails on the key), the
batch is retried with ON CONFLICT and the ids are loaded again: a conflict costs time, never a hit.

If a batch still fails, each hit of it is retried in its own transaction, so one bad hit fails
alone.

Hooks: `writer.hooks.append(fn)` with `fn(conn: sqlalchemy.Connection, batch: rows.Batch)`; they
run after the batch's inserts, before the commit, and an exception fails the batch.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from uuid import UUID

import sqlalchemy as sa

from katsuo.collect import runtime
from katsuo.collect.rows import (
    Batch,
    EventDataRow,
    EventRow,
    RevenueRow,
    SessionDataRow,
    SessionRow,
)
from katsuo.store import schema
from katsuo.store.database import Database

log = logging.getLogger("katsuo.collect")

Hook = Callable[[sa.Connection, Batch], None]

# Upper bound of rows per transaction: big enough for ~1k hits, small enough to keep latency low.
MAX_BATCH_ROWS = 5000
# ClickHouse makes a part per INSERT and merges them later: it wants few, large inserts.
CLICKHOUSE_BATCH_ROWS = 50_000
# Session ids known to be stored (see the module's docstring). Bounded: past this many the set
# stops being complete and new sessions go through ON CONFLICT again. forget_sessions() has it
# reloaded when sessions are deleted (website reset/delete).
KNOWN_SESSIONS = 200_000

_STOP = object()


class WriterClosed(RuntimeError):
    """The writer no longer accepts rows (the server is shutting down)."""


class _Pending:
    """One caller's rows and how to tell it the outcome."""

    __slots__ = ("batch", "future", "loop")

    def __init__(self, batch: Batch, future, loop: asyncio.AbstractEventLoop | None):
        self.batch, self.future, self.loop = batch, future, loop


class Writer:
    def __init__(self, db: Database, hooks: list[Hook] | None = None, max_batch_rows: int = MAX_BATCH_ROWS):
        self.db = db
        self.hooks: list[Hook] = list(hooks or [])
        self.max_batch_rows = max_batch_rows
        runtime.tune()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="katsuo-writer", daemon=True)
        self._thread.start()
        self.batches = 0  # committed transactions, for the benchmark's report
        self.rows = 0
        self._known_sessions: dict[str, None] = {}
        # Whether _known_sessions holds every stored session id; (re)loaded in the writer thread.
        self._all_sessions_known = False
        self._reload_sessions = True

    # --- callers -------------------------------------------------------------------------

    async def write(self, batch: Batch) -> None:
        """Return once the rows are committed; raise what the database raised otherwise."""
        if self._closed:
            raise WriterClosed("the server is shutting down")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put(_Pending(batch, future, loop))
        await future

    def write_blocking(self, batch: Batch, timeout: float | None = None) -> None:
        """The same for code outside the event loop (CLI, imports, tests)."""
        if self._closed:
            raise WriterClosed("the server is shutting down")
        future: Future = Future()
        self._queue.put(_Pending(batch, future, None))
        future.result(timeout)

    def forget_sessions(self) -> None:
        """Call after deleting session rows, so returning visitors get theirs written again."""
        self._known_sessions = {}
        self._all_sessions_known = False
        self._reload_sessions = True

    def delete_website(self, website_id) -> None:
        """A website was deleted or reset: with the events in a store of their own (ClickHouse),
        its collected rows go there too (the management transaction deletes them otherwise)."""
        events = self.db.events
        if self.db.separate_events:
            with events.connect() as conn:
                for table in events.engines.TABLES:
                    events.engines.delete_rows(
                        conn, table, table.c.website_id == website_id, events.settings
                    )
        self.forget_sessions()

    def close(self, timeout: float = 30.0) -> None:
        """Stop accepting rows, commit everything already queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    # --- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        conn: sa.Connection | None = None
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            pending = [item]
            rows = len(item.batch)
            while rows < self.max_batch_rows:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                pending.append(item)
                rows += len(item.batch)
            conn = self._commit_all(conn, pending)
        if conn is not None:
            conn.close()

    def _connection(self, conn: sa.Connection | None) -> sa.Connection:
        if conn is None or conn.closed or conn.invalidated:
            conn = self.db.events.engine.connect()
        return conn

    def _commit_all(self, conn: sa.Connection | None, pending: list[_Pending]) -> sa.Connection | None:
        batch = Batch()
        for item in pending:
            batch.extend(item.batch)
        try:
            conn = self._connection(conn)
            if self._reload_sessions:
                self._load_known_sessions(conn)
            try:
                self._commit(conn, batch, careful=False)
            except Exception:  # noqa: BLE001 - perhaps a session stored behind the writer's back
                if not self._all_sessions_known:
                    raise
                conn = self._connection(self._reset(conn))
                self._commit(conn, batch, careful=True)
                # It was a stored session after all: learn the stored ids again.
                log.warning("collect: a session row was already stored; reloading the known ids")
                self._reload_sessions = True
        except Exception as error:  # noqa: BLE001 - any failure: isolate, then report per caller
            conn = self._reset(conn)
            if len(pending) == 1:
                log.error("collect: could not store a hit: %s", error)
                _settle([(pending[0], error)])
                return conn
            log.warning("collect: batch of %d hits failed (%s); retrying one by one", len(pending), error)
            outcomes = []
            for item in pending:
                try:
                    conn = self._connection(conn)
                    self._commit(conn, item.batch, careful=True)
                    outcomes.append((item, None))
                except Exception as single_error:  # noqa: BLE001
                    log.error("collect: could not store a hit: %s", single_error)
                    conn = self._reset(conn)
                    outcomes.append((item, single_error))
            _settle(outcomes)
            return conn
        _settle([(item, None) for item in pending])
        return conn

    @staticmethod
    def _reset(conn: sa.Connection | None) -> None:
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception as error:  # noqa: BLE001 - the connection is being thrown away anyway
                log.debug("collect: closing a failed connection: %s", error)

    def _load_known_sessions(self, conn: sa.Connection) -> None:
        """Remember the stored session ids when one process owns the database and they fit."""
        self._reload_sessions = False
        self._known_sessions, self._all_sessions_known = {}, False
        if not self.db.events.engines.ONE_WRITER_PROCESS:
            return
        t = schema.session
        with conn.begin():
            if conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() > KNOWN_SESSIONS:
                return
            ids = conn.execute(sa.select(t.c.session_id)).scalars().all()
        self._known_sessions = dict.fromkeys(map(str, ids))
        self._all_sessions_known = True

    def _commit(self, conn: sa.Connection, batch: Batch, *, careful: bool) -> None:
        """One transaction for the batch; `careful`: session rows through ON CONFLICT whatever
        the writer believes is stored."""
        insert = self.db.events.engines.insert_rows
        known = self._known_sessions
        sessions = [row for row in _first_per_key(batch.sessions) if row.session_id not in known]
        with conn.begin():
            if sessions:
                insert(conn, "session", SessionRow._fields, sessions,
                       skip_existing=careful or not self._all_sessions_known)
            if batch.events:
                insert(conn, "website_event", EventRow._fields, batch.events)
            if batch.event_data:
                insert(conn, "event_data", EventDataRow._fields, batch.event_data)
            if batch.revenue:
                insert(conn, "revenue", RevenueRow._fields, batch.revenue)
            if batch.session_data:
                _upsert_session_data(conn, batch.session_data, self.db.events)
            for hook in self.hooks:
                hook(conn, batch)
        self.batches += 1
        self.rows += len(batch)
        if len(known) + len(sessions) > KNOWN_SESSIONS:
            known = self._known_sessions = {}
            self._all_sessions_known = False
        known.update(dict.fromkeys(row.session_id for row in sessions))


def _first_per_key(sessions: list[SessionRow]) -> list[SessionRow]:
    """One row per session id, the earliest-queued one (first write wins within a batch too)."""
    seen: dict[str, SessionRow] = {}
    for row in sessions:
        seen.setdefault(row.session_id, row)
    return list(seen.values())


def _upsert_session_data(conn: sa.Connection, rows: list[SessionDataRow], store: Database) -> None:
    """Replace the stored row of each (session, key), else insert one (no unique key to lean on,
    as in Umami's schema): the last row of each key in the batch wins. Identify calls are rare,
    so plain statements do; delete-then-insert rather than UPDATE, which ClickHouse has only as
    a costly mutation."""
    t = schema.session_data
    latest = {(row.session_id, row.data_key): row for row in rows}
    for session_id, data_key in latest:
        match = sa.and_(t.c.session_id == UUID(str(session_id)), t.c.data_key == data_key)
        found = conn.execute(sa.select(sa.func.count()).select_from(t).where(match)).scalar()
        if found:
            store.engines.delete_rows(conn, t, match, store.settings)
    store.engines.insert_rows(conn, "session_data", SessionDataRow._fields, list(latest.values()))


def _settle(outcomes: list[tuple[_Pending, BaseException | None]]) -> None:
    """Release the callers: one hop into each event loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list] = {}
    for item, error in outcomes:
        if item.loop is None:
            if error is None:
                item.future.set_result(None)
            else:
                item.future.set_exception(error)
        else:
            by_loop.setdefault(item.loop, []).append((item.future, error))
    for loop, results in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, results)
        except RuntimeError:  # the loop is gone: nobody is waiting any more
            pass


def _resolve(results: list) -> None:
    for future, error in results:
        if future.done():  # the request was cancelled (client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)

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

With a journal (embedded DuckDB, where one process owns the store): a DuckDB INSERT costs
milliseconds whatever its size, so a transaction per group of requests caps throughput. There the
writer thread only appends each group to the journal (journal.py) and fsyncs it, then releases the
requests: an acknowledged hit is on disk. A second thread, the applier, inserts what the journal
holds into DuckDB in large transactions (every APPLY_SECONDS or APPLY_ROWS), each storing the
journal position it reached, and at start the hits after that position are applied again before
anything else. Reads must see every acknowledged hit, so the server has the store call `sync()`
before it hands out a connection (`Database.before_connect`, set in services.py): it waits until
the applier has caught up, so a read after a write pays for one apply, a read while nothing is
pending pays nothing.

Hooks: `writer.hooks.append(fn)` with `fn(conn: sqlalchemy.Connection, batch: rows.Batch)`; they
run after the batch's inserts, before the commit, and an exception fails the batch (with a
journal, the hits were acknowledged already: each is tried alone, twice more, then dropped with
an error in the log).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa

from katsuo.collect.journal import Journal, Position
from katsuo.collect.rows import (
    Batch,
    EventDataRow,
    EventRow,
    RevenueRow,
    SessionDataRow,
    SessionRow,
)
from katsuo.store import schema, umami
from katsuo.store.database import Database

log = logging.getLogger("katsuo.collect")

Hook = Callable[[sa.Connection, Batch], None]

# Upper bound of rows per transaction: big enough for ~1k hits, small enough to keep latency low.
MAX_BATCH_ROWS = 5000
# ClickHouse makes a part per INSERT and runs every materialized view over it (its fixed cost
# was 24-55 ms of CPU per insert of ~30 hits on chdb): it wants few, large inserts, so its journal
# is applied at most every CLICKHOUSE_APPLY_SECONDS, up to this many rows at once.
CLICKHOUSE_BATCH_ROWS = 50_000
CLICKHOUSE_APPLY_SECONDS = 0.5
# Session ids known to be stored (see the module's docstring). Bounded: past this many the set
# stops being complete and new sessions go through ON CONFLICT again. forget_sessions() has it
# reloaded when sessions are deleted (website reset/delete).
KNOWN_SESSIONS = 200_000
# With a journal: how long acknowledged hits may wait for the applier, and how many rows make it
# apply at once. Reads never wait for the timer (see sync()). Applies are kept short and
# frequent: when DuckDB still read its rows from Python lists, holding the GIL, applies every
# 0.5 s stalled the event loop long enough to double the p99 latency at 64 connections. (Rows now
# reach DuckDB as JSON, store/engines/duckdb.py; at 0.1 s against 0.3 s the difference was lost
# in the run-to-run spread.)
APPLY_SECONDS = 0.1
APPLY_ROWS = 5_000
# Event ids per look-up when a replay checks which events ClickHouse has already.
REPLAY_LOOKUP = 10_000
# How long a read waits for the applier before it goes on with what is stored.
SYNC_TIMEOUT = 60.0

_STOP = object()
_SYNC = object()


class WriterClosed(RuntimeError):
    """The writer no longer accepts rows (the server is shutting down)."""


class _Pending:
    """One caller's rows and how to tell it the outcome."""

    __slots__ = ("batch", "future", "loop")

    def __init__(self, batch: Batch, future, loop: asyncio.AbstractEventLoop | None):
        self.batch, self.future, self.loop = batch, future, loop


class Writer:
    def __init__(
        self,
        db: Database,
        hooks: list[Hook] | None = None,
        max_batch_rows: int = MAX_BATCH_ROWS,
        journal_dir: Path | None = None,
        apply_seconds: float = APPLY_SECONDS,
        apply_rows: int = APPLY_ROWS,
    ):
        self.db = db
        self.hooks: list[Hook] = list(hooks or [])
        self.max_batch_rows = max_batch_rows
        self.apply_seconds, self.apply_rows = apply_seconds, apply_rows
        # Where the applied journal position is kept: in the store, in the transaction of the
        # rows it covers; with the events in ClickHouse, which has no such transaction, in a file
        # beside the journal, written once the rows are in (a replay skips stored events).
        self._position_file = (
            journal_dir / "applied" if journal_dir is not None and db.separate_events else None
        )
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self.batches = 0  # committed transactions, for the benchmark's report
        self.rows = 0
        self._conn: sa.Connection | None = None
        self._known_sessions: dict[str, None] = {}
        # Whether _known_sessions holds every stored session id; (re)loaded by the committing thread.
        self._all_sessions_known = False
        self._reload_sessions = True
        # An Umami 3.0 database has no performance columns: beacons are stored without values.
        self._event_fields = EventRow._fields
        if not db.separate_events and not umami.level_of(db).has(umami.PERFORMANCE):
            self._event_fields = tuple(
                f for f in EventRow._fields if f not in umami.PERFORMANCE_COLUMNS
            )
        self._journal = Journal(journal_dir) if journal_dir is not None else None
        if self._journal is None:
            self._threads = [threading.Thread(target=self._run, name="katsuo-writer", daemon=True)]
        else:
            self._applies: queue.SimpleQueue = queue.SimpleQueue()
            self._journaled = self._applied = 0  # records handed to / applied by the applier
            self._caught_up = threading.Condition()
            self._applier = threading.Thread(
                target=self._run_applier, name="katsuo-applier", daemon=True
            )
            self._applier.start()
            # Before any request: what an unclean stop left in the journal goes in first.
            self._journal.open(self._recover())
            self._threads = [
                threading.Thread(target=self._run_journal, name="katsuo-writer", daemon=True),
                self._applier,
            ]
        self._threads[0].start()

    # --- callers -------------------------------------------------------------------------

    async def write(self, batch: Batch) -> None:
        """Return once the rows are durable (committed, or in the journal); raise what the
        store raised otherwise."""
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

    def stores_session(self, session_id: str) -> bool:
        """Whether a session row with this id is known to be stored: the collector then builds
        none (the first write wins, so it would be left out anyway)."""
        return session_id in self._known_sessions

    @property
    def journaled(self) -> bool:
        """Whether hits are acknowledged once in the journal (else once committed)."""
        return self._journal is not None

    def sync(self, timeout: float | None = SYNC_TIMEOUT) -> None:
        """Return once every hit acknowledged so far is in the store (with a journal; without
        one an acknowledged hit is committed already)."""
        if self._journal is None or threading.current_thread() is self._applier:
            return
        target = self._journaled
        if self._applied >= target:
            return
        with self._caught_up:
            self._applies.put(_SYNC)
            if not self._caught_up.wait_for(
                lambda: self._applied >= target or not self._applier.is_alive(), timeout
            ):
                log.error(
                    "collect: reading without the last %d journal records: the applier "
                    "did not catch up in %.0f s",
                    target - self._applied,
                    timeout,
                )

    def forget_sessions(self) -> None:
        """Call after deleting session rows, so returning visitors get theirs written again."""
        self._known_sessions = {}
        self._all_sessions_known = False
        self._reload_sessions = True

    def close(self, timeout: float = 30.0) -> None:
        """Stop accepting rows, commit everything already queued, then stop the threads."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)
        if self._journal is not None:
            self._journal.close()
        if self._conn is not None:
            self._conn.close()

    # --- the writer thread ---------------------------------------------------------------

    def _take(self) -> tuple[list[_Pending], bool]:
        """Block for the next hit, then take whatever else is queued (up to max_batch_rows);
        also tells whether close() asked to stop."""
        item = self._queue.get()
        if item is _STOP:
            return [], True
        pending, rows = [item], len(item.batch)
        while rows < self.max_batch_rows:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return pending, True
            pending.append(item)
            rows += len(item.batch)
        return pending, False

    def _run(self) -> None:
        """Without a journal: commit each group of hits, then release its requests."""
        stopping = False
        while not stopping:
            pending, stopping = self._take()
            if pending:
                outcomes = self._commit_all([item.batch for item in pending])
                _settle(list(zip(pending, outcomes)))

    def _run_journal(self) -> None:
        """With a journal: append each group of hits to it, hand it to the applier, then release
        its requests."""
        stopping = False
        while not stopping:
            pending, stopping = self._take()
            if not pending:
                continue
            batches = [item.batch for item in pending]
            try:
                position = self._journal.append(batches)
            except Exception as error:  # noqa: BLE001 - e.g. a full disk: nothing acknowledged
                log.error(
                    "collect: could not write %d hits to the journal: %s", len(pending), error
                )
                _settle([(item, error) for item in pending])
                continue
            # Counted once handed over, and answered after that: a sync() that sees the count
            # queues its request behind these records.
            self._applies.put((batches, position))
            self._journaled += 1
            _settle([(item, None) for item in pending])
        self._applies.put(_STOP)

    def _run_applier(self) -> None:
        """Insert the journal's records into the store in large transactions."""
        batches: list[Batch] = []
        rows, records, position, due = 0, 0, None, None
        while True:
            timeout = None if due is None else max(0.0, due - time.monotonic())
            try:
                item = self._applies.get(timeout=timeout)
            except queue.Empty:
                item = None
            if isinstance(item, tuple):
                batches.extend(item[0])
                rows += sum(map(len, item[0]))
                records, position = records + 1, item[1]
                due = due or time.monotonic() + self.apply_seconds
                if rows < self.apply_rows:
                    continue
            if batches:
                try:
                    self._apply(batches, position)
                except Exception:
                    log.exception("collect: applying %d journal records failed", records)
                    if item is _STOP:
                        return  # they stay in the journal: the next start applies them
                    time.sleep(0.5)
                    continue
                with self._caught_up:
                    self._applied += records
                    self._caught_up.notify_all()
                batches, rows, records, due = [], 0, 0, None
            elif item is _SYNC:
                with self._caught_up:
                    self._caught_up.notify_all()
            if item is _STOP:
                # Everything is applied: no segment is needed any more.
                self._journal.discard_before(self._journal.segment + 1)
                return

    def _apply(self, batches: list[Batch], position: Position) -> None:
        outcomes = self._commit_all(batches, position)
        # Hits that failed even alone (the others are in, and so is the position): tried twice
        # more in case the cause passes, then given up with an error in the log.
        for attempt in (1, 2):
            failed = [batch for batch, error in zip(batches, outcomes) if error is not None]
            if not failed:
                break
            time.sleep(0.1 * attempt)
            batches, outcomes = failed, [self._commit_one(batch) for batch in failed]
        else:
            errors = [error for error in outcomes if error is not None]
            if errors:
                log.error(
                    "collect: %d acknowledged hits could not be stored and are dropped, e.g.: %s",
                    len(errors),
                    errors[0],
                )
        self._journal.discard_before(position.segment)

    def _recover(self) -> Position | None:
        """Hand the applier the journal's records after the stored position and wait until they
        are in; returns the position then applied."""
        position = self._applied_position()
        replayed = list(self._journal.replay(position))
        if self._position_file is not None:
            stored = self._stored_events([record for record, _ in replayed])
            replayed = [(_without(record, stored), at) for record, at in replayed]
        for record, at in replayed:
            self._applies.put((record, at))
            self._journaled += 1
            position = at
        if self._journaled:
            self.sync(timeout=None)
            log.warning(
                "collect: applied %d journal records left by an unclean stop", self._journaled
            )
        return position

    def _applied_position(self) -> Position | None:
        if self._position_file is not None:
            if not self._position_file.exists():
                return None
            segment, offset = self._position_file.read_text().split()
            return Position(int(segment), int(offset))
        with self.db.events.connect() as conn:
            stored = conn.execute(sa.select(schema.collect_journal)).first()
        return Position(stored.segment, stored.offset) if stored else None

    def _save_position_alone(self, position: Position) -> None:
        """Record `position` after the rows it covers went in by other commits: in the position
        file, or in a transaction of its own."""
        if self._position_file is not None:
            self._save_position_file(position)
        else:
            with self._connection().begin():
                self._save_position(self._conn, position)

    def _save_position_file(self, position: Position) -> None:
        temporary = self._position_file.with_suffix(".new")
        with open(temporary, "w") as file:
            file.write(f"{position.segment} {position.offset}")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self._position_file)

    def _stored_events(self, records: list[list[Batch]]) -> set[str]:
        """The replayed events the store has already: without a transaction, the rows of a
        record may be in while its position is not. Looked up in chunks, not per record."""
        ids = [UUID(str(row.event_id)) for batches in records for b in batches for row in b.events]
        e = schema.website_event
        stored: set[str] = set()
        with self.db.events.connect() as conn:
            for i in range(0, len(ids), REPLAY_LOOKUP):
                chunk = ids[i : i + REPLAY_LOOKUP]
                found = conn.execute(sa.select(e.c.event_id).where(e.c.event_id.in_(chunk)))
                stored.update(str(UUID(str(event_id))) for event_id in found.scalars())
        return stored

    def _connection(self) -> sa.Connection:
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._conn = self.db.events.engine.connect()
        return conn

    def _commit_all(
        self, batches: list[Batch], position: Position | None = None
    ) -> list[BaseException | None]:
        """Commit the hits' rows (and the journal position) in one transaction; on failure, each
        hit alone. Returns each hit's outcome."""
        batch = Batch()
        for item in batches:
            batch.extend(item)
        try:
            conn = self._connection()
            if self._reload_sessions:
                self._load_known_sessions(conn)
            try:
                self._commit(conn, batch, position, careful=False)
            except Exception:
                if not self._all_sessions_known:
                    raise
                self._reset()
                self._commit(self._connection(), batch, position, careful=True)
                # It was a stored session after all: learn the stored ids again.
                log.warning("collect: a session row was already stored; reloading the known ids")
                self._reload_sessions = True
        except Exception as error:  # noqa: BLE001 - any failure: isolate, then report per hit
            self._reset()
            if len(batches) == 1:
                log.error("collect: could not store a hit: %s", error)
                return [error]
            log.warning(
                "collect: batch of %d hits failed (%s); retrying one by one", len(batches), error
            )
            outcomes = [self._commit_one(item) for item in batches]
            if position is not None:
                self._save_position_alone(position)
            return outcomes
        return [None] * len(batches)

    def _commit_one(self, batch: Batch) -> BaseException | None:
        try:
            self._commit(self._connection(), batch, None, careful=True)
            return None
        except Exception as error:  # noqa: BLE001
            log.error("collect: could not store a hit: %s", error)
            self._reset()
            return error

    def _reset(self) -> None:
        conn, self._conn = self._conn, None
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

    def _commit(
        self, conn: sa.Connection, batch: Batch, position: Position | None, *, careful: bool
    ) -> None:
        """One transaction for the batch (and the journal position it reaches); `careful`:
        session rows through ON CONFLICT whatever the writer believes is stored."""
        insert = self.db.events.engines.insert_rows
        known = self._known_sessions
        sessions = [row for row in _first_per_key(batch.sessions) if row.session_id not in known]
        with conn.begin():
            if sessions:
                insert(
                    conn,
                    "session",
                    SessionRow._fields,
                    sessions,
                    skip_existing=careful or not self._all_sessions_known,
                )
            if batch.events:
                insert(conn, "website_event", *self._event_rows(batch.events))
            if batch.event_data:
                insert(conn, "event_data", EventDataRow._fields, batch.event_data)
            if batch.revenue:
                insert(conn, "revenue", RevenueRow._fields, batch.revenue)
            if batch.session_data:
                _upsert_session_data(conn, batch.session_data, self.db.events)
            for hook in self.hooks:
                hook(conn, batch)
            if position is not None and self._position_file is None:
                self._save_position(conn, position)
        if position is not None and self._position_file is not None:
            self._save_position_file(position)  # once the rows are in
        self.batches += 1
        self.rows += len(batch)
        if len(known) + len(sessions) > KNOWN_SESSIONS:
            known = self._known_sessions = {}
            self._all_sessions_known = False
        known.update(dict.fromkeys(row.session_id for row in sessions))

    def _event_rows(self, events: list[EventRow]) -> tuple[tuple[str, ...], list[tuple]]:
        """The events' columns that the database has, and the rows with just those."""
        if self._event_fields is EventRow._fields:
            return EventRow._fields, events
        keep = [EventRow._fields.index(f) for f in self._event_fields]
        return self._event_fields, [tuple(row[i] for i in keep) for row in events]

    @staticmethod
    def _save_position(conn: sa.Connection, position: Position) -> None:
        conn.execute(schema.collect_journal.delete())
        conn.execute(
            schema.collect_journal.insert().values(segment=position.segment, offset=position.offset)
        )


def _without(batches: list[Batch], stored: set[str]) -> list[Batch]:
    """`batches` without the `stored` events, their event data and their revenue."""
    if not stored:
        return batches

    def kept(event_id) -> bool:
        return str(UUID(str(event_id))) not in stored

    return [
        Batch(
            sessions=batch.sessions,
            events=[row for row in batch.events if kept(row.event_id)],
            event_data=[row for row in batch.event_data if kept(row.website_event_id)],
            session_data=batch.session_data,
            revenue=[row for row in batch.revenue if kept(row.event_id)],
        )
        for batch in batches
    ]


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

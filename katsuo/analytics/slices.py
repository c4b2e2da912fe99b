"""Visit slices: the derived table that makes dashboards fast, and how it is kept up to date.

A slice is one visit's occurrences of one dimension value inside one UTC half hour: page views
(`dim` 0, value ''), views of a path (1), views from a countable referrer (2, self-referrals and
empty referrers excluded, as the referrer metric excludes them), and custom events by name (3).
The journey dimension (4) is the exception: one slice per whole visit, whose value is the visit's
first steps in order (`journey_text`), for the journey report.
Each carries its count and first/last time, the time of the previous occurrence of the same
(session, dim, value) — so "distinct sessions in a range" becomes "slices whose previous
occurrence lies before the range", a plain count — the whole visit's totals for the value, and
the session's attributes. `summary.py` answers the dashboard's queries from it.

Umami's tables stay the source of truth. The slices are rebuilt from them part by part (at
start-up when missing or unfinished, and by `katsuo slices rebuild`), and maintained
incrementally: the write path appends each committed event to `katsuo_slice_pending` in its own
transaction (`catchup.Maintainer.write_hook`), reads add pending events to what the slices say,
and `settle` folds them in every few seconds by recomputing the affected sessions' slices from the
events. What other writers change is found and repaired by catchup.py, from per-hour counts
(`katsuo_slice_count`) that every step here keeps equal to the events it folded in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa

from katsuo.analytics import timeframe as T
from katsuo.analytics.dialects import Dialect
from katsuo.analytics.sql import CUSTOM_EVENT, VIEW_TYPES_EXCLUDED
from katsuo.store import schema
from katsuo.store.database import Database, literal_sql

log = logging.getLogger("katsuo.slices")

DIM_VIEW, DIM_PATH, DIM_REFERRER, DIM_EVENT, DIM_JOURNEY = schema.SLICE_DIMENSIONS  # 0 … 4
JOURNEY_STEPS = schema.JOURNEY_STEPS
# Journey values are the labels with this before each. It sorts before every printable
# character, so values order as the label lists do. Paths come from URLs and hold no control
# characters; an event name containing this one (a client could send it) would be split in two.
JOURNEY_SEP = "\x1f"
SLOT_US = 30 * T.US_PER_MINUTE
HOURS_PER_WEEK = 168
STATE_NAME = "visit_slice"
# The session's attributes each slice carries: constant for a session (first write wins), so
# distinct sessions per attribute can be counted from slices. `screen` is a metrics type only.
SESSION_ATTRS = (*schema.SESSION_ATTRIBUTES, "distinct_id")

slice_t = schema.visit_slice
pending_t = schema.slice_pending
span_t = schema.slice_session
state_t = schema.slice_state
count_t = schema.slice_count
stale_t = schema.slice_stale


def _mapped(dialect: Dialect, events: sa.Subquery) -> sa.Select:
    """(website, session, visit, dim, value, t) for every slice-worthy occurrence of `events`."""
    e = events.c
    view = e.event_type.not_in(VIEW_TYPES_EXCLUDED)
    countable_referrer = sa.and_(
        view,
        e.referrer_domain != "",
        e.referrer_domain != dialect.strip_www(e.hostname),
    )
    parts = [
        (DIM_VIEW, sa.literal("", sa.String), view),
        (DIM_PATH, e.url_path, view),
        (DIM_REFERRER, e.referrer_domain, countable_referrer),
        (DIM_EVENT, e.event_name, e.event_type == CUSTOM_EVENT),
    ]
    return sa.union_all(
        *(
            sa.select(
                e.website_id,
                e.session_id,
                e.visit_id,
                e.t,
                sa.literal(dim, sa.SmallInteger).label("dim"),
                sa.cast(value, sa.String).label("value"),
            ).where(where)
            for dim, value, where in parts
        )
    )


def journey_label(c: sa.ColumnCollection) -> sa.ColumnElement:
    """A journey step: the event's name, or its path when it has none."""
    return sa.func.coalesce(sa.func.nullif(c.event_name, ""), c.url_path)


def journey_text(labels: sa.ColumnElement) -> sa.ColumnElement:
    """A list of journey labels as one comparable value (see JOURNEY_SEP)."""
    return sa.literal(JOURNEY_SEP, sa.String) + sa.func.array_to_string(
        labels, JOURNEY_SEP, type_=sa.String
    )


def _journeys(dialect: Dialect, events: sa.FromClause) -> sa.Select:
    """One row per visit: its first JOURNEY_STEPS labels over events of every type, spanning
    the whole visit, in the chained slices' shape (no previous occurrence: nothing reads it)."""
    e = events.c
    first, last, hits = (
        sa.func.min(e.t),
        sa.func.max(e.t),
        sa.cast(sa.func.count(), sa.Integer),
    )
    return sa.select(
        e.website_id,
        sa.literal(DIM_JOURNEY, sa.SmallInteger).label("dim"),
        journey_text(dialect.first_values(journey_label(e), e.t, JOURNEY_STEPS)).label("value"),
        e.session_id,
        e.visit_id,
        first.label("first_us"),
        last.label("last_us"),
        hits.label("hits"),
        sa.null().label("prev_us"),
        sa.null().label("prev_how_us"),
        first.label("group_first_us"),
        last.label("group_last_us"),
        hits.label("group_hits"),
    ).group_by(e.website_id, e.session_id, e.visit_id)


def _among(column: sa.ColumnElement, ids: list) -> sa.ColumnElement:
    """`column IN ids`, the ids bound as one array: bound one by one, 5,000 ids cost DuckDB
    ~60 ms per statement to bind, whatever the size of the table."""
    return column.in_(sa.select(sa.func.unnest(sa.bindparam(None, ids, type_=sa.ARRAY(sa.Uuid)))))


# Which sessions a computation covers: a clause over (website_id, session_id) columns.
Scope = Callable[[sa.ColumnElement, sa.ColumnElement], sa.ColumnElement]


def of_sessions(sessions: list) -> Scope:
    """The sessions of the ids, bound as one list: engines then filter the scans with them,
    where a subquery would have DuckDB hash the whole event or session table."""
    return lambda website_id, session_id: _among(session_id, sessions)


def slices_select(
    dialect: Dialect,
    scope: Scope,
    since_us: int | None = None,
    until_us: int | None = None,
    *,
    few: bool,
) -> sa.Select:
    """Slices computed from Umami's tables for the sessions of `scope` (`few`: a short list of
    them), from their events since `since_us` (which must precede each session's first event)
    and until `until_us` (which must follow each session's last event)."""
    w = schema.website_event
    events = sa.select(
        w.c.website_id,
        w.c.session_id,
        w.c.visit_id,
        dialect.epoch_us(w.c.created_at).label("t"),
        w.c.event_type,
        w.c.url_path,
        w.c.referrer_domain,
        w.c.hostname,
        w.c.event_name,
    ).where(scope(w.c.website_id, w.c.session_id))
    if since_us is not None:
        events = events.where(w.c.created_at >= T.from_us(since_us))
    if until_us is not None:
        events = events.where(w.c.created_at <= T.from_us(until_us))
    # Recomputing a few sessions: read their events once (a CTE), not once per dimension.
    source = dialect.materialized(events, "ev") if few else events.subquery("ev")
    mapped = _mapped(dialect, source).subquery("mapped")
    m = mapped.c
    slot = dialect.div(m.t, SLOT_US)
    grouped = (
        sa.select(
            m.website_id,
            m.dim,
            m.value,
            m.session_id,
            m.visit_id,
            sa.func.min(m.t).label("first_us"),
            sa.func.max(m.t).label("last_us"),
            sa.cast(sa.func.count(), sa.Integer).label("hits"),
        )
        .group_by(m.website_id, m.dim, m.value, m.session_id, m.visit_id, slot)
        .subquery("grouped")
    )
    g = grouped.c
    pair = (g.website_id, g.session_id, g.dim, g.value)
    order = (g.first_us, g.visit_id)
    earlier = (None, -1)  # ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    hour_of_week = dialect.div(g.first_us, T.US_PER_HOUR) % HOURS_PER_WEEK
    group = (g.website_id, g.session_id, g.visit_id, g.dim, g.value)
    chained = sa.select(
        *g,
        sa.func.max(g.last_us)
        .over(partition_by=pair, order_by=order, rows=earlier)
        .label("prev_us"),
        sa.case(
            (
                g.dim == DIM_VIEW,
                sa.func.max(g.last_us).over(
                    partition_by=(*pair, hour_of_week), order_by=order, rows=earlier
                ),
            ),
            else_=sa.null(),
        ).label("prev_how_us"),
        sa.func.min(g.first_us).over(partition_by=group).label("group_first_us"),
        sa.func.max(g.last_us).over(partition_by=group).label("group_last_us"),
        sa.cast(sa.func.sum(g.hits).over(partition_by=group), sa.Integer).label("group_hits"),
    )
    chained = sa.union_all(chained, _journeys(dialect, source)).subquery("chained")
    c = chained.c
    s = schema.session
    s = sa.select(s).where(scope(s.c.website_id, s.c.session_id)).subquery("session")
    return sa.select(
        *(c[col.name] for col in slice_t.columns if col.name not in SESSION_ATTRS),
        *(s.c[name] for name in SESSION_ATTRS),
    ).select_from(
        chained.outerjoin(
            s, sa.and_(s.c.session_id == c.session_id, s.c.website_id == c.website_id)
        )
    )


def insert_slices(dialect: Dialect, select: sa.Select, *, ordered: bool) -> sa.Insert:
    if ordered:
        sub = select.subquery("slices")
        select = sa.select(*sub.c).order_by(sub.c.website_id, sub.c.dim, sub.c.first_us)
    return slice_t.insert().from_select([c.name for c in slice_t.columns], select)


_process_lock = threading.Lock()
_LOCK_KEY = 4715  # the slices' upkeep, across processes where the engine needs it


@contextmanager
def upkeep(db: Database, *, wait: bool) -> Iterator[bool]:
    """One upkeep step at a time: a rebuild, a settle or a repair must not interleave with
    another (in this process, and with PostgreSQL across processes, e.g. two servers or the CLI
    beside a server). The lock is held outside the steps' transactions, so their snapshots are
    taken after the wait."""
    if not _process_lock.acquire(blocking=wait):
        yield False
        return
    try:
        with db.connect() as conn, db.engines.exclusive(conn, _LOCK_KEY, wait=wait) as got:
            yield got
    finally:
        _process_lock.release()


# --- what the slices reflect: per website and hour, a count and fingerprint of the events ------


def hour_us(dialect: Dialect, us: sa.ColumnElement) -> sa.ColumnElement:
    return dialect.div(us, T.US_PER_HOUR) * T.US_PER_HOUR


def event_counts(db: Database, where: sa.ColumnElement) -> sa.Select:
    """(website_id, hour_us, events, fingerprint) of website_event's rows matching `where`."""
    w = schema.website_event
    hour = hour_us(db.engines.DIALECT, db.engines.DIALECT.epoch_us(w.c.created_at)).label("h")
    return (
        sa.select(
            w.c.website_id, hour, sa.func.count(), sa.func.sum(db.engines.id_hash(w.c.event_id))
        )
        .where(where)
        .group_by(w.c.website_id, hour)
    )


def pending_counts(db: Database, where: sa.ColumnElement) -> sa.Select:
    """The same figures for the pending events matching `where`."""
    p = pending_t
    hour = hour_us(db.engines.DIALECT, p.c.created_us).label("h")
    return (
        sa.select(
            p.c.website_id, hour, sa.func.count(), sa.func.sum(db.engines.id_hash(p.c.event_id))
        )
        .where(where)
        .group_by(p.c.website_id, hour)
    )


def add_counts(conn: sa.Connection, db: Database, counts: sa.Select) -> None:
    """Add `counts` (rows of event_counts or pending_counts) to what the slices reflect."""
    added = conn.execute(counts).all()
    by_website: dict = {}
    for website_id, hour, events, fingerprint in added:
        by_website.setdefault(website_id, {})[hour] = (events, int(fingerprint))
    c = count_t
    for website_id, hours in by_website.items():
        mine = sa.and_(c.c.website_id == website_id, c.c.hour_us.in_(list(hours)))
        for hour, events, fingerprint in conn.execute(
            sa.select(c.c.hour_us, c.c.events, c.c.fingerprint).where(mine)
        ):
            more, extra = hours[hour]
            hours[hour] = (more + events, extra + fingerprint)
        conn.execute(c.delete().where(mine))
        rows = [(website_id, hour, n, f) for hour, (n, f) in hours.items() if n]
        if rows:
            db.engines.insert_rows(conn, c.name, COUNT_COLUMNS, rows)


def spans_from_events(db: Database, scope: Scope) -> sa.Select:
    """Each session's first and last event (the span of its slices), for the sessions of scope."""
    w = schema.website_event
    us = db.engines.DIALECT.epoch_us(w.c.created_at)
    return (
        sa.select(w.c.website_id, w.c.session_id, sa.func.min(us), sa.func.max(us))
        .where(scope(w.c.website_id, w.c.session_id))
        .group_by(w.c.website_id, w.c.session_id)
    )


# --- the full rebuild, part by part ------------------------------------------------------------

# A part of a rebuild is a website's sessions whose first event falls in one stretch of time, cut
# so that it holds about this many events. It reads only the events from the stretch's start to
# its sessions' last event, so each event is read about once: the rebuild's time grows with the
# events (not with events × parts), and its memory and temporary disk with the part. A part holds
# whole sessions, because a session's slices chain its visits over its whole life.
PART_EVENTS = 1_000_000
# A part's working memory per event on DuckDB, measured under its memory_limit at 10 M events:
# parts of 1 M events fit in 1 GB, parts of 4 M do not fit in 2 GB (the window operators fail
# to pin a block rather than spill). Under KATSUO_DUCKDB_MEMORY parts are made to fit.
PART_BYTES_PER_EVENT = 1_000
part_t = schema.slice_part
PART_COLUMNS = tuple(c.name for c in part_t.columns)


def part_events(db: Database) -> int:
    """Events per part of a rebuild on this database."""
    limit = db.settings.duckdb_memory_bytes if db.kind == "duckdb" else None
    if limit is None:
        return PART_EVENTS
    return max(1, min(PART_EVENTS, limit // PART_BYTES_PER_EVENT))


Progress = Callable[[int, int], None]


def rebuild(
    db: Database,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    *,
    resuming: bool = False,
) -> int:
    """Recompute every slice from Umami's tables, part by part (each its own transaction), and
    return the number of slices. `resuming`: finish a rebuild that was stopped instead of
    starting over. `progress(done, total)` is told after each part; `stop` ends the rebuild
    after the current part. A website's queries read the raw tables until its last part is in."""
    with upkeep(db, wait=True):
        with db.connect() as conn:
            resuming = resuming and is_built(conn) and _parts_left(conn)
        if not resuming:
            _start_rebuild(db)
        return _rebuild_parts(db, progress, stop)


def resume(db: Database, stop: threading.Event | None = None) -> None:
    """Finish a rebuild that a stop interrupted; start one when the slices were never built."""
    with db.connect() as conn:
        built = is_built(conn)
        unfinished = built and _parts_left(conn)
    if not built or unfinished:
        rebuild(db, _log_progress, stop, resuming=unfinished)


def _parts_left(conn: sa.Connection) -> bool:
    stmt = sa.select(stale_t.c.website_id).where(stale_t.c.parts.is_not(None)).limit(1)
    return conn.execute(stmt).first() is not None


def _start_rebuild(db: Database) -> None:
    """Empty the derived tables, record every session's span (one pass over the events), cut
    each website's sessions into parts by the time of their first event, and list every website
    with events as stale, with its parts."""
    with db.begin() as conn:
        for table in (slice_t, span_t, pending_t, count_t, stale_t, part_t):
            conn.execute(table.delete())
        spans = spans_from_events(db, lambda website, session: sa.true())
        conn.execute(inlined(conn, span_t.insert().from_select(SPAN_COLUMNS, spans)))
        parts = _cut_parts(db, conn)
        if parts:
            db.engines.insert_rows(conn, part_t.name, PART_COLUMNS, parts)
        counts: dict = {}
        for website_id, *_ in parts:
            counts[website_id] = counts.get(website_id, 0) + 1
        rows = [(website_id, n, 0) for website_id, n in counts.items()]
        if rows:
            db.engines.insert_rows(conn, stale_t.name, STALE_COLUMNS, rows)
        _mark_built(conn)
    log.info("visit slices: rebuilding %d websites in %d parts", len(rows), len(parts))


def _cut_parts(db: Database, conn: sa.Connection) -> list[tuple]:
    """(website, part, first_from_us, first_to_us, events_to_us) rows: consecutive minutes of
    first events, each part with about part_events() events (counted by sessions, at the
    website's events per session). A part is at least one minute's sessions."""
    w, s = schema.website_event, span_t
    events = dict(
        conn.execute(sa.select(w.c.website_id, sa.func.count()).group_by(w.c.website_id)).all()
    )
    minute = (db.engines.DIALECT.div(s.c.first_us, T.US_PER_MINUTE) * T.US_PER_MINUTE).label("m")
    minutes = conn.execute(
        sa.select(s.c.website_id, minute, sa.func.count(), sa.func.max(s.c.last_us))
        .group_by(s.c.website_id, minute)
        .order_by(s.c.website_id, minute)
    ).all()
    sessions: dict = {}
    for website_id, _, n, _ in minutes:
        sessions[website_id] = sessions.get(website_id, 0) + n
    per_part = part_events(db)
    parts: list[tuple] = []
    current = None  # [website, part, from, to, events_to, sessions so far]
    for website_id, m, n, last_us in minutes:
        target = max(1, sessions[website_id] * per_part // max(1, events.get(website_id, 0)))
        if current is None or current[0] != website_id or current[5] >= target:
            if current is not None:
                parts.append(tuple(current[:5]))
            number = current[1] + 1 if current is not None and current[0] == website_id else 0
            current = [website_id, number, m, m, last_us, 0]
        current[3] = m + T.US_PER_MINUTE
        current[4] = max(current[4], last_us)
        current[5] += n
    if current is not None:
        parts.append(tuple(current[:5]))
    return parts


def _rebuild_parts(db: Database, progress: Progress | None, stop: threading.Event | None) -> int:
    started = time.monotonic()
    with db.connect() as conn:
        todo = conn.execute(
            sa.select(stale_t.c.website_id, stale_t.c.parts, stale_t.c.done).where(
                stale_t.c.parts.is_not(None)
            )
        ).all()
    total = sum(parts for _, parts, _ in todo)
    done = sum(finished for _, _, finished in todo)
    for website_id, parts, finished in todo:
        for part in range(finished, parts):
            if stop is not None and stop.is_set():
                log.info("visit slices: rebuild stopped after %d of %d parts", done, total)
                return 0
            _rebuild_part(db, website_id, parts, part)
            done += 1
            if progress is not None:
                progress(done, total)
    with db.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(slice_t)).scalar_one()
        db.engines.analyze(conn, ["session", "website_event", slice_t.name, pending_t.name])
    log.info("visit slices rebuilt: %d rows in %.1f s", count, time.monotonic() - started)
    return count


def _log_progress(done: int, total: int) -> None:
    log.info("visit slices: rebuilt %d of %d parts", done, total)


def _rebuild_part(db: Database, website_id, parts: int, part: int) -> None:
    """One part in one transaction: the slices and counts of its sessions' events between the
    part's bounds. Their pending events inside the bounds are in what it reads, so they are
    removed; any outside them (written after the spans were taken, or late with old
    timestamps) stay pending, to be folded in by `settle` once the website is complete."""
    dialect = db.engines.DIALECT
    p, w = pending_t, schema.website_event
    with db.connect() as conn:
        first_from, first_to, events_to = conn.execute(
            sa.select(part_t.c.first_from_us, part_t.c.first_to_us, part_t.c.events_to_us).where(
                part_t.c.website_id == website_id, part_t.c.part == part
            )
        ).one()
    sessions = sa.select(span_t.c.session_id).where(
        span_t.c.website_id == website_id,
        span_t.c.first_us >= first_from,
        span_t.c.first_us < first_to,
    )

    def scope(website, session):
        return sa.and_(website == website_id, session.in_(sessions))

    in_bounds = w.c.created_at.between(T.from_us(first_from), T.from_us(events_to))
    with db.connect() as conn:
        db.engines.snapshot(conn)
        with db.engines.stored_in_order(conn), conn.begin():
            chosen = slices_select(dialect, scope, first_from, events_to, few=False)
            conn.execute(inlined(conn, insert_slices(dialect, chosen, ordered=True)))
            counted = sa.and_(scope(w.c.website_id, w.c.session_id), in_bounds)
            add_counts(conn, db, inlined(conn, event_counts(db, counted)))
            conn.execute(
                p.delete().where(
                    scope(p.c.website_id, p.c.session_id),
                    p.c.created_us.between(first_from, events_to),
                )
            )
            if part + 1 == parts:
                conn.execute(stale_t.delete().where(stale_t.c.website_id == website_id))
                conn.execute(part_t.delete().where(part_t.c.website_id == website_id))
            else:
                conn.execute(
                    stale_t.update().where(stale_t.c.website_id == website_id).values(done=part + 1)
                )


def inlined(conn: sa.Connection, statement: sa.Executable) -> sa.TextClause:
    """`statement` with its constants written in: DuckDB plans a part of the rebuild 2x slower
    with the same constants bound as parameters (bench/dashboard/upkeep.py)."""
    return sa.text(literal_sql(conn, statement).replace(":", "\\:"))  # a colon is no parameter


def forget_before(conn: sa.Connection, dialect: Dialect, website_id, before: datetime) -> None:
    """Retention: the website's slices and pending events from before `before` go. Sessions with
    events on both sides are recomputed from the events they keep: those become pending (and
    their slices go), so reads count them from the events until a settle folds them in."""
    cutoff = T.to_us(before)
    s, p, e = span_t, pending_t, schema.website_event
    straddling = sa.select(s.c.session_id).where(
        s.c.website_id == website_id, s.c.first_us < cutoff, s.c.last_us >= cutoff
    )
    conn.execute(
        p.delete().where(
            p.c.website_id == website_id,
            sa.or_(p.c.created_us < cutoff, p.c.session_id.in_(straddling)),
        )
    )
    kept = sa.select(
        e.c.event_id,
        e.c.website_id,
        e.c.session_id,
        e.c.visit_id,
        dialect.epoch_us(e.c.created_at),
        e.c.event_type,
        e.c.url_path,
        e.c.referrer_domain,
        e.c.hostname,
        e.c.event_name,
    ).where(e.c.website_id == website_id, e.c.created_at >= before, e.c.session_id.in_(straddling))
    conn.execute(p.insert().from_select(PENDING_COLUMNS, kept))
    conn.execute(
        slice_t.delete().where(
            slice_t.c.website_id == website_id,
            sa.or_(slice_t.c.first_us < cutoff, slice_t.c.session_id.in_(straddling)),
        )
    )
    conn.execute(s.delete().where(s.c.website_id == website_id, s.c.first_us < cutoff))
    # The catch-up's per-hour counts of the deleted hours go too, so it sees nothing to repair.
    conn.execute(
        count_t.delete().where(count_t.c.website_id == website_id, count_t.c.hour_us < cutoff)
    )


def _mark_built(conn: sa.Connection) -> None:
    conn.execute(state_t.delete().where(state_t.c.name == STATE_NAME))
    conn.execute(state_t.insert().values(name=STATE_NAME, built_at=datetime.now(UTC)))


def is_built(conn: sa.Connection) -> bool:
    return (
        conn.execute(sa.select(state_t.c.built_at).where(state_t.c.name == STATE_NAME)).first()
        is not None
    )


def stale_websites(conn: sa.Connection) -> set:
    """Websites whose slices are incomplete (being rebuilt or repaired): read their raw tables."""
    return set(conn.execute(sa.select(stale_t.c.website_id)).scalars())


def mark_stale(conn: sa.Connection) -> None:
    """Make the read path ignore the slices until the next rebuild (after an import, say)."""
    conn.execute(state_t.delete().where(state_t.c.name == STATE_NAME))


# --- folding in the writer's pending events ------------------------------------------------------


def _widened_spans(sessions: list) -> sa.Select:
    """The spans of the pending events' sessions once those events are in: the old span (if
    any) widened by the pending events' times — small tables only."""
    p, o = pending_t, span_t
    pending = (
        sa.select(
            p.c.website_id,
            p.c.session_id,
            sa.func.min(p.c.created_us).label("first_us"),
            sa.func.max(p.c.created_us).label("last_us"),
        )
        .where(_among(p.c.session_id, sessions))
        .group_by(p.c.website_id, p.c.session_id)
        .subquery("p")
    )
    old = sa.select(o).where(_among(o.c.session_id, sessions)).subquery("o")
    return sa.select(
        pending.c.website_id,
        pending.c.session_id,
        sa.func.least(pending.c.first_us, sa.func.coalesce(old.c.first_us, pending.c.first_us)),
        sa.func.greatest(pending.c.last_us, sa.func.coalesce(old.c.last_us, pending.c.last_us)),
    ).select_from(pending.outerjoin(old, old.c.session_id == pending.c.session_id))


def settle(db: Database) -> int:
    """Fold pending events into the slices: recompute the slices of every session that has a
    pending event, from its events since the earliest start among those sessions (so only
    recent data is read when the sessions are recent). Returns the number of events folded in;
    0 too when another upkeep step is running (the events stay pending for the next round)."""
    with upkeep(db, wait=False) as mine:
        return _settle(db) if mine else 0


# Sessions folded in per transaction: bound id lists stay far below the engines' parameter limits
# (PostgreSQL: 65,535) however far behind the upkeep is.
SETTLE_SESSIONS = 5000


def _settle(db: Database) -> int:
    with db.connect() as conn:
        backlog = conn.execute(
            sa.select(sa.func.count(sa.distinct(pending_t.c.session_id)))
        ).scalar_one()
    folded = 0
    # As many rounds as the backlog seen now needs: events arriving meanwhile wait for next time.
    for _ in range(-(-backlog // SETTLE_SESSIONS)):
        done = _settle_sessions(db)
        if not done:
            break
        folded += done
    return folded


def _settle_sessions(db: Database) -> int:
    """Fold in the pending events of up to SETTLE_SESSIONS sessions, in one transaction."""
    dialect = db.engines.DIALECT
    p = pending_t
    with db.connect() as conn:
        db.engines.snapshot(conn)
        with conn.begin():
            sessions = (
                conn.execute(sa.select(p.c.session_id).distinct().limit(SETTLE_SESSIONS))
                .scalars()
                .all()
            )
            if not sessions:
                return 0
            theirs = _among(p.c.session_id, sessions)
            count, earliest = conn.execute(
                sa.select(sa.func.count(), sa.func.min(p.c.created_us)).where(theirs)
            ).one()
            known = conn.execute(
                sa.select(sa.func.min(span_t.c.first_us)).where(
                    _among(span_t.c.session_id, sessions)
                )
            ).scalar()
            since = min(earliest, known if known is not None else earliest) // SLOT_US * SLOT_US
            mine = sa.and_(_among(slice_t.c.session_id, sessions), slice_t.c.first_us >= since)
            conn.execute(slice_t.delete().where(mine))
            select = slices_select(dialect, of_sessions(sessions), since, few=True)
            conn.execute(insert_slices(dialect, select, ordered=False))
            spans = conn.execute(_widened_spans(sessions)).all()
            conn.execute(span_t.delete().where(_among(span_t.c.session_id, sessions)))
            if spans:
                db.engines.insert_rows(conn, span_t.name, SPAN_COLUMNS, spans)
            add_counts(conn, db, pending_counts(db, theirs))
            conn.execute(p.delete().where(theirs))
    return count


PENDING_COLUMNS = tuple(c.name for c in pending_t.columns)
SPAN_COLUMNS = tuple(c.name for c in span_t.columns)
COUNT_COLUMNS = tuple(c.name for c in count_t.columns)
STALE_COLUMNS = tuple(c.name for c in stale_t.columns)


def pending_rows(events: Iterable) -> list[tuple]:
    """website_event rows (objects with the column names as attributes, e.g. the writer's
    EventRow) as pending rows. Every type: performance beacons (5) are journey steps."""
    rows = []
    for event in events:
        created = event.created_at
        rows.append(
            (
                event.event_id,
                event.website_id,
                event.session_id,
                event.visit_id,
                T.to_us(created) if isinstance(created, datetime) else int(created),
                event.event_type,
                event.url_path,
                event.referrer_domain,
                event.hostname,
                event.event_name,
            )
        )
    return rows

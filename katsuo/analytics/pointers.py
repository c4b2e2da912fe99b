"""Pointer rows on ClickHouse: the distinct sessions of a path, referrer, hostname, title or
session attribute as a sum instead of a merge of session sets (docs/clickhouse.md#pointer-rows).

`katsuo_pointer_hourly` holds one row per website and whole UTC hour. For each column of
KINDS, each non-empty value of the hour's views and each earlier hour, it counts the (value,
session) pairs of the hour whose previous occurrence lies in that earlier hour (1970: none).
Over a range that starts on an hour S, each pair's first hour in range is the one whose
previous hour lies before S, so a value's distinct sessions are a sum: the visit slices' rule
(summary.py) at hour grain.

A pair's previous occurrence lies in earlier inserts, which a materialized view does not see,
so the rows are kept here, by rounds in the server process (`Keeper`). Each round compares, per
website and hour, the number of events and the sum of a hash of their ids in website_event with
the figures each row records: its own hour's, and all earlier hours' together. An hour that is
over and whose row is missing or differs (a new hour, another writer's late rows, a delete) is
computed again from the events, with every later hour (their earlier-hours figures changed too),
a day of hours per insert, in order. Rows are a function of the events alone, so two processes keeping
them write the same rows; the table keeps the last one written per hour, and a row written from
an older view of the events differs from the events' figures and is replaced next round.

Reads (`by_value`) sum the rows of the range's whole hours up to the last one kept, and add the
pairs of the rest of the range (the hours not kept yet, a partial last hour) that have no view
in the range before it, looking their sessions up in website_event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa

from katsuo.analytics import registry as R
from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.background import BackgroundJob
from katsuo.store import schema
from katsuo.store.database import Database
from katsuo.store.engines import clickhouse_io as io
from katsuo.store.engines import clickhouse_layout as layout

log = logging.getLogger("katsuo.pointers")

# The columns whose metric counts distinct sessions of views, each view with its own row's
# value: the rollup columns but custom events' names (counted as events), and the session
# attributes but the language (its metric keys several values as one), region and city (keyed
# with the country). A change here needs a new layout.KATSUO_POINTERS version.
KINDS = (
    *(c for c in layout.ROLLUP_COLUMNS if c != "event_name"),
    *(a for a in layout.SESSION_ATTRIBUTES if a not in ("language", "region", "city")),
)
# Seconds between rounds, at least (Keeper).
ROUND_SECONDS = 10
# An hour is kept once it has been over this long: writers' batches of its events are in.
SETTLE_US = 2 * T.US_PER_MINUTE
# How much of a range the rows may leave to the events (the hours not kept yet, after a stalled
# round for example) before the rollups answer instead (decider.decide_pointers).
MAX_REST_US = 6 * T.US_PER_HOUR
# Sessions of the range's unkept part looked up by a list (the primary key prunes by it);
# more are looked up by a subquery, which scans the range.
MAX_LISTED_SESSIONS = 2000
CHUNK_HOURS = 24  # hours computed and written at a time
NO_HOUR = 0  # the previous hour of a pair seen for the first time (1970-01-01)
_MASK = (1 << 64) - 1
POINTER_COLUMNS = tuple(name for name, _ in layout.KATSUO_POINTERS.columns)

_rows = sa.table(
    layout.KATSUO_POINTERS.name,
    *(sa.column(name) for name, _ in layout.KATSUO_POINTERS.columns),
)
_stored = sa.table(
    layout.WEBSITE_EVENT.name,
    *(sa.column(name) for name in ("website_id", "session_id", "event_type")),
    *(sa.column(name, sa.String) for name in KINDS),
    sa.column("created_at", schema.Timestamp),
)


def covers(query: Query, dimensions) -> bool:
    """Whether the rows could answer `query` grouped by `dimensions` (the decider then asks
    `kept_until`; it also leaves out the visits' entry and exit paths): one dimension of KINDS
    counted by its values, no filter or cohort, a range starting on an hour."""
    return (
        len(dimensions) == 1
        and dimensions[0].column in KINDS
        and dimensions[0].key is None
        and not query.filters.items
        and query.cohort is None
        and not query.exclude_bounce
        and not query.empty
        and query.start_us % T.US_PER_HOUR == 0
    )


def kept_until(conn: sa.Connection, website_id) -> int | None:
    """µs of the end of the last hour kept for the website (None: none kept)."""
    found = conn.execute(
        sa.select(sa.func.max(_rows.c.hour)).where(_rows.c.website_id == website_id)
    ).scalar()
    if found is None or found.year < 2000:
        return None
    return T.to_us(found.replace(tzinfo=UTC)) + T.US_PER_HOUR


# --- reads ---------------------------------------------------------------------------------------


def _hour(us: int) -> sa.ColumnElement:
    return sa.func.toDateTime(sa.literal(us // T.US_PER_SECOND, sa.BigInteger), "UTC")


def _value(column: str) -> sa.ColumnElement:
    return sa.literal_column(layout.rollup_value(column), sa.String)


def _at(us: int) -> sa.ColumnElement:
    """A time to compare website_event's `created_at` with as it is stored (seconds in an
    adopted Umami database): the bare column lets its primary key prune."""
    return sa.func.toDateTime64(Q.at(us), 6, "UTC", type_=schema.Timestamp)


def _views(query: Query, column: str, since_us: int, until_us: int) -> list[sa.ColumnElement]:
    """Website_event's views in [since, until] with a value of `column` its metric counts."""
    return [
        _stored.c.website_id == query.website_id,
        _stored.c.created_at.between(_at(since_us), _at(until_us)),
        _stored.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
        _value(column) != "",
    ]


def by_value(reader: Reader, query: Query, dimension: R.Dimension, until_us: int) -> sa.Select:
    """Per value `x` of the dimension's column: its distinct sessions `y`. The kept rows answer
    the whole hours before `until_us` (decider.decide_pointers); the range's views from there on
    add the pairs with no view in the range before."""
    sessions = []
    if until_us <= query.end_us:
        rest = sa.select(_stored.c.session_id).distinct()
        rest = rest.where(*_views(query, dimension.column, until_us, query.end_us))
        sessions = [row["session_id"] for row in reader.rows(rest, query)]
    listed = sessions if len(sessions) <= MAX_LISTED_SESSIONS else None
    return _select(query, dimension, until_us, listed)


def _select(
    query: Query, dimension: R.Dimension, until_us: int, sessions: list | None
) -> sa.Select:
    """by_value's statement; `sessions`: those of the views from `until_us` on (none: no such
    views), None when too many to list."""
    column = dimension.column
    start = _hour(query.start_us)
    # The last row written per hour (FINAL), one line per element (ARRAY JOIN).
    elements = sa.text(
        f"`{layout.KATSUO_POINTERS.name}` FINAL "
        "ARRAY JOIN kind AS e_kind, value AS e_value, prev_hour AS e_prev, pairs AS e_pairs"
    )
    e_value = sa.literal_column("e_value", sa.String)
    body = (
        sa.select(e_value.label("x"), sa.func.sum(sa.literal_column("e_pairs")).label("y"))
        .select_from(elements)
        .where(
            sa.literal_column("website_id") == sa.literal(query.website_id, sa.Uuid),
            sa.literal_column("hour") >= start,
            sa.literal_column("hour") < _hour(until_us),
            sa.literal_column("e_kind") == column,
            sa.literal_column("e_prev") < start,
        )
        .group_by(e_value)
    )
    parts = [body]
    if sessions is None or sessions:
        value = _value(column)
        pairs = (
            sa.select(value.label("x"), _stored.c.session_id)
            .distinct()
            .where(*_views(query, column, until_us, query.end_us))
            .subquery("rest")
        )
        listed = (
            _stored.c.session_id.in_(sessions)
            if sessions is not None
            else _stored.c.session_id.in_(sa.select(pairs.c.session_id))
        )
        before = sa.select(value, _stored.c.session_id).where(
            *_views(query, column, query.start_us, until_us - 1), listed
        )
        parts.append(
            sa.select(pairs.c.x, sa.func.count().label("y"))
            .where(sa.tuple_(pairs.c.x, pairs.c.session_id).not_in(before))
            .group_by(pairs.c.x)
        )
    both = sa.union_all(*parts).subquery("both")
    return sa.select(both.c.x, sa.func.sum(both.c.y).label("y")).group_by(both.c.x)


# --- upkeep --------------------------------------------------------------------------------------

Figures = dict[int, tuple[int, int]]  # hour (seconds) -> (events, fingerprint)


def _figures(conn: sa.Connection, before_s: int) -> dict[object, Figures]:
    """Per website and hour before `before_s`: website_event's events and id-hash sum."""
    found: dict = defaultdict(dict)
    rows = conn.exec_driver_sql(
        "SELECT website_id, toUInt32(toStartOfHour(toDateTime(created_at, 'UTC'))) AS h, "
        "count(), sum(cityHash64(event_id)) FROM website_event "
        f"WHERE created_at < toDateTime({before_s}, 'UTC') GROUP BY website_id, h"
    )
    for website_id, hour, events, fingerprint in rows:
        found[website_id][hour] = (events, fingerprint)
    return found


def _recorded(conn: sa.Connection) -> dict[object, dict[int, tuple]]:
    """Per website and hour: the figures its kept row records (the last one written)."""
    found: dict = defaultdict(dict)
    rows = conn.exec_driver_sql(
        "SELECT website_id, toUInt32(hour), (events, fingerprint, events_before, "
        f"fingerprint_before) FROM `{layout.KATSUO_POINTERS.name}` FINAL"
    )
    for website_id, hour, figures in rows:
        found[website_id][hour] = tuple(figures)
    return found


def stale_hours(figures: Figures, recorded: dict[int, tuple], last_hour: int) -> list[tuple]:
    """(hour, events, fingerprint, events before, fingerprint before) of each hour up to
    `last_hour` whose row is missing or records other figures, in order. Hours without events
    need no row, except one that records figures of earlier events, and `last_hour`'s, which
    says how far the rows are kept."""
    hours = sorted({*figures, *recorded, last_hour})
    events_before = fingerprint_before = 0
    stale = []
    for hour in hours:
        if hour > last_hour:
            break
        events, fingerprint = figures.get(hour, (0, 0))
        wanted = (events, fingerprint, events_before, fingerprint_before)
        needed = events or hour in recorded or hour == last_hour
        if needed and recorded.get(hour) != wanted:
            stale.append((hour, *wanted))
        events_before += events
        fingerprint_before = (fingerprint_before + fingerprint) & _MASK
    return stale


def _elements(conn: sa.Connection, website_id, hours: list[int]) -> dict[int, list[tuple]]:
    """Per hour of `hours`: (kind, value, previous hour, pairs) of its views, the previous
    hours over every earlier event of their sessions."""
    last = max(hours) + 3600
    kinds = ", ".join(f"'{kind}'" for kind in KINDS)
    values = ", ".join(layout.rollup_value(kind) for kind in KINDS)
    hour = "toUInt32(toStartOfHour(toDateTime(created_at, 'UTC')))"
    views = (
        f"website_id = %(w)s AND event_type NOT IN {tuple(Q.VIEW_TYPES_EXCLUDED)} "
        f"AND created_at < toDateTime({last}, 'UTC')"
    )
    sessions = (
        f"AND session_id IN (SELECT session_id FROM website_event WHERE {views} "
        f"AND {hour} IN %(hours)s)"
    )
    statement = f"""
SELECT hour, kind, value, prev, count()
FROM (
  SELECT kind, value, hour,
    lagInFrame(hour, 1, toUInt32({NO_HOUR})) OVER (PARTITION BY kind, value, session_id
      ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS prev
  FROM (
    SELECT kind, value, session_id, {hour} AS hour
    FROM website_event ARRAY JOIN [{kinds}] AS kind, [{values}] AS value
    WHERE {views} {sessions} AND value != ''
    GROUP BY kind, value, session_id, hour
  )
)
WHERE hour IN %(hours)s
GROUP BY hour, kind, value, prev"""
    found: dict[int, list[tuple]] = {h: [] for h in hours}
    for row in conn.exec_driver_sql(statement, {"w": website_id, "hours": tuple(hours)}):
        found[row[0]].append(tuple(row[1:]))
    return found


def _write(conn: sa.Connection, website_id, stale: list[tuple]) -> None:
    """The rows of `stale` hours (stale_hours' tuples), computed from the events, in one
    insert."""
    elements = _elements(conn, website_id, [hour for hour, *_ in stale])
    rows = []
    for hour, events, fingerprint, events_before, fingerprint_before in stale:
        found = elements[hour]
        rows.append(
            (
                website_id,
                datetime.fromtimestamp(hour, UTC),
                [kind for kind, *_ in found],
                [value for _, value, _, _ in found],
                [datetime.fromtimestamp(prev, UTC) for _, _, prev, _ in found],
                [pairs for *_, pairs in found],
                events,
                fingerprint,
                events_before,
                fingerprint_before,
            )
        )
    io.insert_rows(conn, layout.KATSUO_POINTERS.name, POINTER_COLUMNS, rows)


def keep(db: Database, now_us: int | None = None, stop: threading.Event | None = None) -> int:
    """One round: bring every website's rows up to the last hour over; returns the number of
    hours written. `stop` ends the round after the day of hours being written."""
    now_us = T.to_us(datetime.now(UTC)) if now_us is None else now_us
    end_s = (now_us - SETTLE_US) // T.US_PER_HOUR * 3600  # hours before this are over
    written = 0
    with db.events.connect() as conn:
        figures = _figures(conn, end_s)
        recorded = _recorded(conn)
        for website_id in sorted({*figures, *recorded}, key=str):
            stale = stale_hours(
                figures.get(website_id, {}), recorded.get(website_id, {}), end_s - 3600
            )
            # A day at a time, in order: the events read (the day's sessions, their whole
            # history) stay bounded, and the rows kept stay contiguous from the first hour.
            for first in range(0, len(stale), CHUNK_HOURS):
                if stop is not None and stop.is_set():
                    return written
                _write(conn, website_id, stale[first : first + CHUNK_HOURS])
                written += len(stale[first : first + CHUNK_HOURS])
    return written


class Keeper(BackgroundJob):
    """The rounds in the server process, every `interval` seconds or longer after a long round."""

    thread_name = "katsuo-pointers"

    def __init__(self, db: Database, interval: float):
        super().__init__(interval)
        self.db = db

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.wait(wait):
            started = time.monotonic()
            try:
                written = keep(self.db, stop=self._stop)
                if written:
                    log.info("pointer rows: %d hours written", written)
            except Exception:  # an outage or a conflict: the next round tries again
                log.warning("pointer rows: the round failed, retrying", exc_info=True)
            wait = self.pace(started)

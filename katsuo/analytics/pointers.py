"""Pointer rows on ClickHouse: the distinct sessions of a path, referrer, hostname, title or
session attribute, and the totals of /stats, as sums instead of merges of session and visit sets
(docs/clickhouse.md#pointer-rows).

`katsuo_pointer_hourly` holds one row per website and whole UTC hour: entries (kind, value, start
hour, previous hour, amount). An entry of the row of hour H counts over a range that starts on
an hour S and holds H when its previous hour lies before S and its start hour does not:
previous < S <= start.
- A value's sessions (KINDS): per (value, session) pair of the hour's views, 1 keyed by the hour
  itself and the pair's previous hour (1970: none). Each pair's first hour in range is the one
  whose previous hour lies before S: the visit slices' rule (summary.py) at hour grain.
- Visitors: the same, per session of the hour's views.
- The visit totals (VISIT_TOTALS): a visit's part of a range is that of its hours in range, j to
  k. Each hour i of a visit adds, for every earlier or same hour j of the visit, an entry keyed
  by j and j's previous hour: what hour i adds to the part of hours j..i. Only the j that is the
  range's first counts (previous < S <= start), and its amounts add up to the part of j..k.

A pair's previous occurrence lies in earlier inserts, which a materialized view does not see,
so the rows are kept here, by rounds in the server process (`Keeper`). Each round compares, per
website and hour, the number of events and the sum of a hash of their ids in website_event with
the figures each row records: its own hour's, and all earlier hours' together. An hour that is
over and whose row is missing or differs (a new hour, another writer's late rows, a delete) is
computed again from the events, with every later hour (their earlier-hours figures changed too),
a day of hours per insert, in order. A row depends on its hour and earlier ones only. Rows are a
function of the events alone, so two processes keeping them write the same rows; the table keeps
the last one written per hour, and a row written from an older view of the events differs from
the events' figures and is replaced next round.

Reads sum the entries of the range's whole hours up to the last one kept (`by_value`, `totals`),
and add those of the rest of the range (the hours not kept yet, a partial last hour) from its
events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
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
# The totals of /stats (registry.METRICS): visitors from the sessions' hours, the rest from the
# visits' hours. A metric registered beyond these is answered by the rollups.
VISIT_TOTALS = ("pageviews", "visits", "bounces", "totaltime")
TOTALS = ("visitors", *VISIT_TOTALS)
_SERIES = {"pageviews": "n", "visitors": "sessions"}  # the series' entries and their columns
# The weekly grid's entries: per session of the hour's views, keyed by the session's previous
# hour with views at the same UTC hour of the week.
WEEKLY = "weekly"
_WEEK_S = 7 * 24 * 3600
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
    *(sa.column(name) for name in ("website_id", "session_id", "visit_id", "event_type")),
    *(sa.column(name, sa.String) for name in KINDS),
    sa.column("created_at", schema.Timestamp),
)


def covers(query: Query, dimensions, *, bucketed: bool = False, weekly: bool = False) -> bool:
    """Whether the rows could answer `query` (the decider then asks `kept_until`; it also leaves
    out the visits' entry and exit paths): the totals (no dimension; `bucketed`: per bucket of
    whole UTC hours; `weekly`: the weekly grid, in a zone of one whole-hour offset over the
    range, which maps UTC hours of the week one-to-one onto its cells), or one dimension of
    KINDS counted by its values; no filter, cohort or excludeBounce, a range starting on an
    hour."""
    if dimensions:
        one = len(dimensions) == 1 and dimensions[0].key is None
        if not (one and dimensions[0].column in KINDS):
            return False
    elif not set(R.METRICS) <= set(TOTALS):
        return False
    offsets = query.offsets
    if bucketed and (query.unit == "minute" or not offsets.aligned_to(T.US_PER_HOUR)):
        return False
    if weekly and not (offsets.constant and offsets.aligned_to(T.US_PER_HOUR)):
        return False
    return (
        not query.filters.items
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


def _views(query: Query, since_us: int, until_us: int) -> list[sa.ColumnElement]:
    """Website_event's views in [since, until]."""
    return [
        _stored.c.website_id == query.website_id,
        _stored.c.created_at.between(_at(since_us), _at(until_us)),
        _stored.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
    ]


# The last row written per hour (FINAL), one line per entry (ARRAY JOIN).
_ENTRIES = sa.text(
    f"`{layout.KATSUO_POINTERS.name}` FINAL ARRAY JOIN kind AS e_kind, value AS e_value, "
    "start_hour AS e_start, prev_hour AS e_prev, amount AS e_amount"
)
_kind = sa.literal_column("e_kind", sa.String)
_amount = sa.literal_column("e_amount", sa.BigInteger)


def _counting(query: Query, until_us: int, kinds, bucket=None) -> list[sa.ColumnElement]:
    """The kept entries of `kinds` that count over the range: in its whole hours before
    `until_us`, with previous < start of the range <= start hour. With `bucket` (of an hour
    column, as sql.bucket), they count over their hour's bucket within the range instead: the
    start hour in range and in that bucket, the previous hour before the range or the bucket."""
    start = _hour(query.start_us)
    column = sa.literal_column
    found = [
        column("website_id") == sa.literal(query.website_id, sa.Uuid),
        column("hour") >= start,
        column("hour") < _hour(until_us),
        _kind.in_(kinds),
        column("e_start") >= start,
    ]
    if bucket is None:
        return [*found, column("e_prev") < start]
    b = bucket(column("hour"))
    return [
        *found,
        bucket(column("e_start")) == b,
        sa.or_(column("e_prev") < start, bucket(column("e_prev")) != b),
    ]


def _rest_sessions(reader: Reader, query: Query, until_us: int, *where) -> list | None:
    """The sessions of the range's views from `until_us` on (matching `where`): a list, empty
    for none, None when too many to list (the callers then look them up by a subquery)."""
    if until_us > query.end_us:
        return []
    rest = sa.select(_stored.c.session_id).distinct()
    sessions = reader.rows(rest.where(*_views(query, until_us, query.end_us), *where), query)
    return [r["session_id"] for r in sessions] if len(sessions) <= MAX_LISTED_SESSIONS else None


def by_value(reader: Reader, query: Query, dimension: R.Dimension, until_us: int) -> sa.Select:
    """Per value `x` of the dimension's column: its distinct sessions `y`. The kept rows answer
    the whole hours before `until_us` (decider.decide_pointers); the range's views from there on
    add the pairs with no view in the range before."""
    sessions = _rest_sessions(reader, query, until_us, _value(dimension.column) != "")
    return _select(query, dimension, until_us, sessions)


def _select(
    query: Query, dimension: R.Dimension, until_us: int, sessions: list | None
) -> sa.Select:
    """by_value's statement; `sessions`: those of the views from `until_us` on (none: no such
    views), None when too many to list."""
    column = dimension.column
    e_value = sa.literal_column("e_value", sa.String)
    body = (
        sa.select(e_value.label("x"), sa.func.sum(_amount).label("y"))
        .select_from(_ENTRIES)
        .where(*_counting(query, until_us, [column]))
        .group_by(e_value)
    )
    parts = [body]
    if sessions is None or sessions:
        value = _value(column)
        pairs = (
            sa.select(value.label("x"), _stored.c.session_id)
            .distinct()
            .where(*_views(query, until_us, query.end_us), value != "")
            .subquery("rest")
        )
        listed = (
            _stored.c.session_id.in_(sessions)
            if sessions is not None
            else _stored.c.session_id.in_(sa.select(pairs.c.session_id))
        )
        before = sa.select(value, _stored.c.session_id).where(
            *_views(query, query.start_us, until_us - 1), value != "", listed
        )
        parts.append(
            sa.select(pairs.c.x, sa.func.toInt64(sa.func.count()).label("y"))
            .where(sa.tuple_(pairs.c.x, pairs.c.session_id).not_in(before))
            .group_by(pairs.c.x)
        )
    both = sa.union_all(*parts).subquery("both")
    return sa.select(both.c.x, sa.func.sum(both.c.y).label("y")).group_by(both.c.x)


def totals(reader: Reader, query: Query, until_us: int) -> dict[str, int]:
    """Every metric of /stats (TOTALS) over the range: the kept entries of its whole hours before
    `until_us`, and those of the rest of the range (`_rest_entries`)."""
    kept = (
        sa.select(_kind.label("kind"), sa.func.sum(_amount).label("n"))
        .select_from(_ENTRIES)
        .where(*_counting(query, until_us, TOTALS))
        .group_by(_kind)
    )
    found = dict.fromkeys(TOTALS, 0)
    for row in reader.rows(kept, query):
        found[row["kind"]] += int(row["n"])
    start_s = query.start_us // T.US_PER_SECOND
    for entries in _rest_entries(reader, query, until_us).values():
        for (kind, start, prev), amount in entries.items():
            if kind in found and prev < start_s <= start:
                found[kind] += amount
    return found


def series(reader: Reader, query: Query, until_us: int) -> list[dict]:
    """Per bucket `b` of the query's unit (wall-clock µs, as sql.bucket): its views `n` and
    distinct sessions `sessions`, summed as `totals` sums the range's but over each bucket. A
    bucket must hold whole UTC hours (decider: offsets of whole hours)."""

    def bucket(hour: sa.ColumnElement) -> sa.ColumnElement:
        us = reader.dialect.epoch_us(sa.func.toDateTime64(hour, 6, "UTC"))
        return Q.bucket(reader.dialect, us, query.unit, query.offsets)

    b = bucket(sa.literal_column("hour"))
    kept = (
        sa.select(
            b.label("b"),
            *(sa.func.sumIf(_amount, _kind == kind).label(name) for kind, name in _SERIES.items()),
        )
        .select_from(_ENTRIES)
        .where(*_counting(query, until_us, tuple(_SERIES), bucket))
        .group_by(b)
    )
    found: dict[int, Counter] = defaultdict(Counter)
    for row in reader.rows(kept, query):
        found[row["b"]].update({name: int(row[name]) for name in _SERIES.values()})
    start_s = query.start_us // T.US_PER_SECOND

    def bucket_of(hour: int) -> int:
        return T.bucket_of(hour * T.US_PER_SECOND, query.unit, query.offsets)

    for hour, entries in _rest_entries(reader, query, until_us).items():
        b_ = bucket_of(hour)
        for (kind, start, prev), amount in entries.items():
            if kind not in _SERIES or start < start_s or bucket_of(start) != b_:
                continue
            if prev < start_s or bucket_of(prev) != b_:
                found[b_][_SERIES[kind]] += amount
    return [{"b": b_, "n": n["n"], "sessions": n["sessions"]} for b_, n in found.items()]


def weekly(reader: Reader, query: Query, until_us: int) -> list[dict]:
    """Per weekly cell `b` of the zone (sql.weekly_cell): its distinct sessions `n`, summed as
    `totals` sums the visitors (covers: the zone's one offset makes a cell one UTC hour of the
    week)."""
    us = reader.dialect.epoch_us(sa.func.toDateTime64(sa.literal_column("hour"), 6, "UTC"))
    cell = Q.weekly_cell(reader.dialect, us, query.offsets)
    kept = (
        sa.select(cell.label("b"), sa.func.sum(_amount).label("n"))
        .select_from(_ENTRIES)
        .where(*_counting(query, until_us, (WEEKLY,)))
        .group_by(cell)
    )
    found: Counter = Counter({row["b"]: int(row["n"]) for row in reader.rows(kept, query)})
    start_s = query.start_us // T.US_PER_SECOND
    for hour, entries in _rest_entries(reader, query, until_us).items():
        b = T.weekly_cell(hour * T.US_PER_SECOND, query.offsets)
        for (kind, _, prev), amount in entries.items():
            if kind == WEEKLY and prev < start_s:
                found[b] += amount
    return [{"b": b, "n": n} for b, n in found.items()]


def _rest_entries(reader: Reader, query: Query, until_us: int) -> dict[int, Counter]:
    """Per hour of the range from `until_us` on: the entries of TOTALS (total_entries), from the
    range's views of their sessions. Nothing before the range is read: an entry counts when its
    previous hour lies before the range, and that is all the range tells apart."""
    sessions = _rest_sessions(reader, query, until_us)
    if sessions == []:
        return {}
    rest = sa.select(_stored.c.session_id).where(*_views(query, until_us, query.end_us))
    listed = _stored.c.session_id.in_(sessions if sessions is not None else rest)
    rows = reader.rows(_visit_hours(*_views(query, query.start_us, query.end_us), listed), query)
    until_s = until_us // T.US_PER_SECOND
    return view_entries(rows, lambda hour: hour >= until_s)


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
    """Per hour of `hours`: the entries (kind, value, start hour, previous hour, amount) of
    KINDS, the pairs of its views by previous hour over every earlier event of their
    sessions."""
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
    for hour, kind, value, prev, pairs in conn.exec_driver_sql(
        statement, {"w": website_id, "hours": tuple(hours)}
    ):
        found[hour].append((kind, value, hour, prev, pairs))
    return found


def _hour_of(created_at: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.toUInt32(sa.func.toStartOfHour(sa.func.toDateTime(created_at, "UTC")))


def _visit_hours(*where: sa.ColumnElement) -> sa.Select:
    """Per session, visit and UTC hour (seconds) of website_event's rows matching `where`:
    their number `hits` and their first and last µs."""
    us = sa.func.toUnixTimestamp64Micro(sa.func.toDateTime64(_stored.c.created_at, 6, "UTC"))
    hour = _hour_of(_stored.c.created_at)
    return (
        sa.select(
            _stored.c.session_id,
            _stored.c.visit_id,
            hour.label("hour"),
            sa.func.count().label("hits"),
            sa.func.min(us).label("first_us"),
            sa.func.max(us).label("last_us"),
        )
        .where(*where)
        .group_by(_stored.c.session_id, _stored.c.visit_id, hour)
    )


def _part(hits: int, first_us: int, last_us: int) -> tuple[int, ...]:
    """A visit's part of VISIT_TOTALS from its views in a range, as registry.METRICS count it:
    the views, the visit, a bounce when it has one view, whole seconds from first to last."""
    return (hits, 1, int(hits == 1), (last_us - first_us) // T.US_PER_SECOND)


_NO_PART = (0, 0, 0, 0)


def view_entries(rows, wanted) -> dict[int, Counter]:
    """Per hour that `wanted` accepts: the entries of TOTALS and WEEKLY, (kind, start hour,
    previous hour) -> amount, from `_visit_hours` rows of its sessions' views up to that hour. A
    visit's hours are those of its id, whatever the session (as the rollups count visits)."""
    session_hours: dict = defaultdict(set)
    visit_hours: dict = defaultdict(dict)
    for r in rows:
        hour = r["hour"]
        session_hours[r["session_id"]].add(hour)
        hits, first, last = visit_hours[r["visit_id"]].get(hour, (0, r["first_us"], r["last_us"]))
        visit_hours[r["visit_id"]][hour] = (
            hits + r["hits"],
            min(first, r["first_us"]),
            max(last, r["last_us"]),
        )
    found: dict[int, Counter] = defaultdict(Counter)
    for hours in session_hours.values():
        prev, same_hour_of_week = NO_HOUR, {}
        for hour in sorted(hours):
            if wanted(hour):
                found[hour]["visitors", hour, prev] += 1
                found[hour][WEEKLY, hour, same_hour_of_week.get(hour % _WEEK_S, NO_HOUR)] += 1
            prev = same_hour_of_week[hour % _WEEK_S] = hour
    for hours in visit_hours.values():
        _visit_entries(sorted(hours.items()), wanted, found)
    return found


def _visit_entries(parts: list[tuple], wanted, found: dict[int, Counter]) -> None:
    """One visit's entries: for each of its hours i that `wanted` accepts and each of its hours
    j up to i, keyed by j and the hour before j, what hour i adds to the part of hours j..i."""
    before = [0]  # views of the hours before each
    for _, (hits, _, _) in parts:
        before.append(before[-1] + hits)
    for i, (hour, (_, _, last)) in enumerate(parts):
        if not wanted(hour):
            continue
        for j in range(i + 1):
            start, (_, first, _) = parts[j]
            prev = parts[j - 1][0] if j else NO_HOUR
            now = _part(before[i + 1] - before[j], first, last)
            earlier = _part(before[i] - before[j], first, parts[i - 1][1][2]) if j < i else _NO_PART
            for kind, amount, was in zip(VISIT_TOTALS, now, earlier, strict=True):
                if amount != was:
                    found[hour][kind, start, prev] += amount - was


def _totals_elements(conn: sa.Connection, website_id, hours: list[int]) -> dict[int, list]:
    """Per hour of `hours`: the entries of TOTALS, over every earlier view of its sessions."""
    views = [
        _stored.c.website_id == website_id,
        _stored.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
        _stored.c.created_at < _at((max(hours) + 3600) * T.US_PER_SECOND),
    ]
    sessions = sa.select(_stored.c.session_id).where(
        *views, _hour_of(_stored.c.created_at).in_(hours)
    )
    rows = conn.execute(_visit_hours(*views, _stored.c.session_id.in_(sessions))).mappings()
    wanted = set(hours)
    entries = view_entries(rows, lambda hour: hour in wanted)
    return {
        hour: [(kind, "", start, prev, amount) for (kind, start, prev), amount in found.items()]
        for hour, found in entries.items()
    }


def _write(conn: sa.Connection, website_id, stale: list[tuple]) -> None:
    """The rows of `stale` hours (stale_hours' tuples), computed from the events, in one
    insert."""
    hours = [hour for hour, *_ in stale]
    elements = _elements(conn, website_id, hours)
    totals_ = _totals_elements(conn, website_id, hours)
    rows = []
    for hour, events, fingerprint, events_before, fingerprint_before in stale:
        found = elements[hour] + totals_.get(hour, [])
        at = datetime.fromtimestamp
        rows.append(
            (
                website_id,
                at(hour, UTC),
                [kind for kind, *_ in found],
                [value for _, value, *_ in found],
                [at(start, UTC) for _, _, start, _, _ in found],
                [at(prev, UTC) for _, _, _, prev, _ in found],
                [amount for *_, amount in found],
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

"""Reads of ClickHouse's pointer rows (docs/clickhouse.md#pointer-rows): the distinct sessions of
a path, referrer, hostname, title or session attribute, the totals of /stats, the series of
views and sessions and the weekly grid, as sums of entries (pointer_entries.py) instead of
merges of session and visit sets.

Each read sums the entries that count over the range in its whole hours up to the last one kept
(pointer_upkeep.py keeps them), and adds those of the rest of the range (the hours not kept yet,
a partial last hour), computed from its events. The decider (decide_pointers) says when the rows
answer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC

import sqlalchemy as sa

from katsuo.analytics import registry as R
from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.pointer_entries import (
    KINDS,
    TOTALS,
    WEEKLY,
    at,
    stored,
    view_entries,
    visit_hours,
)
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.store.engines import clickhouse_layout as layout

# How much of a range the rows may leave to the events (the hours not kept yet, after a stalled
# round for example) before the rollups answer instead (decider.decide_pointers).
MAX_REST_US = 6 * T.US_PER_HOUR
# Sessions of the range's unkept part looked up by a list (the primary key prunes by it);
# more are looked up by a subquery, which scans the range.
MAX_LISTED_SESSIONS = 2000
_SERIES = {"pageviews": "n", "visitors": "sessions"}  # the series' entries and their columns
_rows = sa.table(
    layout.KATSUO_POINTERS.name,
    *(sa.column(name) for name, _ in layout.KATSUO_POINTERS.columns),
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


def _hour(us: int) -> sa.ColumnElement:
    return sa.func.toDateTime(sa.literal(us // T.US_PER_SECOND, sa.BigInteger), "UTC")


def _value(column: str) -> sa.ColumnElement:
    return sa.literal_column(layout.rollup_value(column), sa.String)


def _views(query: Query, since_us: int, until_us: int) -> list[sa.ColumnElement]:
    """Website_event's views in [since, until]."""
    return [
        stored.c.website_id == query.website_id,
        stored.c.created_at.between(at(since_us), at(until_us)),
        stored.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
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
    rest = sa.select(stored.c.session_id).distinct()
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
            sa.select(value.label("x"), stored.c.session_id)
            .distinct()
            .where(*_views(query, until_us, query.end_us), value != "")
            .subquery("rest")
        )
        listed = (
            stored.c.session_id.in_(sessions)
            if sessions is not None
            else stored.c.session_id.in_(sa.select(pairs.c.session_id))
        )
        before = sa.select(value, stored.c.session_id).where(
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
    """Per hour of the range from `until_us` on: the entries of TOTALS and WEEKLY (view_entries),
    from the range's views of their sessions. Nothing before the range is read: an entry counts when its
    previous hour lies before the range, and that is all the range tells apart."""
    sessions = _rest_sessions(reader, query, until_us)
    if sessions == []:
        return {}
    rest = sa.select(stored.c.session_id).where(*_views(query, until_us, query.end_us))
    listed = stored.c.session_id.in_(sessions if sessions is not None else rest)
    rows = reader.execute(visit_hours(*_views(query, query.start_us, query.end_us), listed), query)
    until_s = until_us // T.US_PER_SECOND
    return view_entries(rows, lambda hour: hour >= until_s)

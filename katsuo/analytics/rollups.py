"""Answers from ClickHouse's rollups (store/engines/clickhouse_layout.py ROLLUPS), exact for any
range: the range's whole UTC hours are read from the rollups, its partial hours at either end from
the stored events, and the two are combined before anything is counted — uniqExact states merge
into the exact number of distinct sessions, and a visit's hour rows into its whole part.

The decider (decider.py) sends a query here when it has no cohort or `excludeBounce`, covers a
whole hour, and groups only by columns the rollups carry (`COLUMNS`); bucketed series also need
zone offsets of whole hours. Filters are allowed on what the visit rollup answers (totals,
series, metrics per session attribute) when they are on the session attributes it keeps. The
edges read Umami's stored `website_event` (its text columns hold '' for a missing value, which
the rollups leave out for views), not Katsuo's view of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa

from katsuo.analytics import builder as B
from katsuo.analytics import registry as R
from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.dialects import BigInt, Dialect
from katsuo.analytics.query import Query
from katsuo.store import schema
from katsuo.store.engines import clickhouse_layout as layout

# The columns of website_event (Katsuo's names) whose values the rollups count.
COLUMNS = frozenset(layout.ROLLUP_COLUMNS)

_hourly = sa.table(
    layout.KATSUO_HOURLY.name,
    *(sa.column(name) for name in ("website_id", "kind", "value", "hits", "sessions")),
    sa.column("hour", schema.Timestamp),
)
# The session attributes the visit rollup keeps on its rows: metrics per attribute come from it.
ATTRIBUTES = frozenset(layout.SESSION_ATTRIBUTES)
# A key of by_attributes and sessions_by_attribute: (output name, session attribute, None or its
# key as a function of the attribute's value).
Key = tuple[str, str, Callable | None]
_visits = sa.table(
    layout.KATSUO_VISIT_HOURLY.name,
    *(sa.column(name) for name in ("website_id", "session_id", "visit_id", "hits")),
    *(sa.column(name, sa.String) for name in layout.SESSION_ATTRIBUTES),
    *(sa.column(name, schema.Timestamp) for name in ("hour", "first_at", "last_at")),
)
# Umami's stored events, not the katsuo_v_website_event view the schema's table is read through.
_stored = sa.table(
    layout.WEBSITE_EVENT.name,
    *(sa.column(name) for name in ("website_id", "session_id", "visit_id", "event_type")),
    *(sa.column(name, sa.String) for name in layout.SESSION_ATTRIBUTES),
    sa.column("created_at", schema.Timestamp),
)


def whole_hours(query: Query) -> tuple[int, int]:
    """[first, end) µs of the whole UTC hours inside the query's range (empty when first ≥ end)."""
    hour = T.US_PER_HOUR
    return -(-query.start_us // hour) * hour, (query.end_us + 1) // hour * hour


def covers(query: Query, *, bucketed: bool = False, filtered: bool = False) -> bool:
    """Whether the rollups answer `query` (grouping aside, which the decider checks).
    `filtered`: the visit rollup is read, which also applies filters on the session attributes
    it keeps."""
    if query.cohort is not None or query.exclude_bounce or query.empty:
        return False
    if query.filters.items and not (
        filtered and all(is_attribute(f.field) for f in query.filters.items)
    ):
        return False
    first, end = whole_hours(query)
    if first >= end:
        return False
    return not bucketed or (query.unit != "minute" and query.offsets.aligned_to(T.US_PER_HOUR))


def is_attribute(field: R.Dimension) -> bool:
    """Whether the field is a session attribute the visit rollup keeps."""
    return field.is_session and field.column in ATTRIBUTES


def dimension_keys(dimension: R.Dimension, name: str) -> list[Key]:
    """A session attribute's dimension as keys, its value under `name`; a region or a city with
    its country beside it, as their tables show them."""
    keys: list[Key] = [(name, dimension.column, dimension.keyed)]
    if dimension.column in ("region", "city"):
        keys.append(("country", "country", None))
    return keys


def _hour(us: int) -> sa.ColumnElement:
    """An hour as the rollups' DateTime (seconds)."""
    return sa.func.toDateTime(sa.literal(us // T.US_PER_SECOND, BigInt), "UTC")


def _in_hours(table, query: Query) -> list[sa.ColumnElement]:
    first, end = whole_hours(query)
    return [
        table.c.website_id == query.website_id,
        table.c.hour >= _hour(first),
        table.c.hour < _hour(end),
    ]


def _edges(query: Query, *, custom: bool = False) -> list[sa.ColumnElement]:
    """The stored events of the range's partial hours: views, or custom events."""
    first, end = whole_hours(query)
    created = _time(_stored.c.created_at)
    return [
        _stored.c.website_id == query.website_id,
        created.between(Q.at(query.start_us), Q.at(query.end_us)),
        sa.or_(created < Q.at(first), created >= Q.at(end)),
        _stored.c.event_type == Q.CUSTOM_EVENT
        if custom
        else _stored.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
    ]


def _filtered(dialect: Dialect, query: Query, table) -> list[sa.ColumnElement]:
    """The query's filters (on session attributes, `covers`) over `table`'s attribute columns,
    '' read as a missing value, as Katsuo's view of the events presents it."""

    def resolve(field: R.Dimension) -> sa.ColumnElement:
        return sa.func.nullIf(table.c[field.column], "", type_=sa.String)

    return Q.filters_clauses(dialect, query.filters, resolve)


def _time(column: sa.ColumnElement) -> sa.ColumnElement:
    """A stored time as DateTime64(6): an adopted Umami database keeps seconds."""
    return sa.func.toDateTime64(column, 6, "UTC", type_=schema.Timestamp)


def _us(dialect: Dialect, column: sa.ColumnElement) -> sa.ColumnElement:
    return dialect.epoch_us(_time(column))


# --- per value of one column: /metrics ----------------------------------------------------------


def by_value(query: Query, dimension: R.Dimension) -> sa.Select:
    """Per value `x` of the dimension's column: `y`, its distinct sessions (views), or its
    custom events (`event`), as /metrics ranks them."""
    column = dimension.column
    custom = column == "event_name"
    value = sa.literal_column(layout.rollup_value(column), sa.String)
    hourly = sa.select(_hourly.c.value.label("x"), _hourly.c.hits, _hourly.c.sessions).where(
        *_in_hours(_hourly, query), _hourly.c.kind == column
    )
    # The edges' rows as the rollup keeps them: a view's empty value is left out, a custom
    # event without a name kept (layout.hourly_select).
    edges = (
        sa.select(
            value.label("x"),
            sa.func.count().label("hits"),
            sa.func.uniqExactState(_stored.c.session_id).label("sessions"),
        )
        .where(*_edges(query, custom=custom), *([] if custom else [value != ""]))
        .group_by(value)
    )
    both = sa.union_all(hourly, edges).subquery("both")
    if custom:
        x = sa.func.nullIf(both.c.x, "")  # an event without a name, as the raw query keys it
        return sa.select(x.label("x"), sa.func.sum(both.c.hits).label("y")).group_by(x)
    x = dimension.keyed(both.c.x)
    return sa.select(x.label("x"), sa.func.uniqExactMerge(both.c.sessions).label("y")).group_by(x)


# --- per visit: /stats and /pageviews -----------------------------------------------------------


def _visit_rows(
    dialect: Dialect, query: Query, bucket: Callable | None, attributes: Sequence[str] = ()
) -> sa.Subquery:
    """The range's views as rows of (session_id, visit_id, hits, first_us, last_us[, b]
    [, attributes]): one per visit and whole hour from the rollup, one per visit of each partial
    hour's events; with `attributes`, per combination of those session attributes as well."""
    first_us, last_us = _us(dialect, _visits.c.first_at), _us(dialect, _visits.c.last_at)
    hour_keys = [bucket(_us(dialect, _visits.c.hour)).label("b")] if bucket else []
    hourly = sa.select(
        _visits.c.session_id,
        _visits.c.visit_id,
        _visits.c.hits,
        first_us.label("first_us"),
        last_us.label("last_us"),
        *hour_keys,
        *(_visits.c[name] for name in attributes),
    ).where(*_in_hours(_visits, query), *_filtered(dialect, query, _visits))
    us = _us(dialect, _stored.c.created_at)
    edge_keys = [bucket(us).label("b")] if bucket else []
    edge_attributes = [_stored.c[name] for name in attributes]
    edges = (
        sa.select(
            _stored.c.session_id,
            _stored.c.visit_id,
            *B.per_visit_columns(dialect, us),
            *edge_keys,
            *edge_attributes,
        )
        .where(*_edges(query), *_filtered(dialect, query, _stored))
        .group_by(
            _stored.c.session_id,
            _stored.c.visit_id,
            *(k.element for k in edge_keys),
            *edge_attributes,
        )
    )
    return sa.union_all(hourly, edges).subquery("visit_rows")


def totals(dialect: Dialect, query: Query) -> sa.Select:
    """One row of every metric (registry.METRICS) over the range's visits."""
    rows = _visit_rows(dialect, query, None)
    # Grouped by the visit alone, half the work of (session, visit): a visit id is derived from
    # its session's id (Umami's and Katsuo's writers), so a visit has one session. The sessions
    # are counted by a grouping of their own, which took 300 ms where counting them over the
    # visits took 500 (10 M events, docs/clickhouse.md#rollups).
    sessions = sa.select(rows.c.session_id).group_by(rows.c.session_id).subquery("sessions")
    visitors = sa.select(sa.func.count()).select_from(sessions).scalar_subquery()
    per_visit = (
        sa.select(
            rows.c.visit_id,
            sa.func.sum(rows.c.hits).label("hits"),
            sa.func.min(rows.c.first_us).label("first_us"),
            sa.func.max(rows.c.last_us).label("last_us"),
        )
        .group_by(rows.c.visit_id)
        .subquery("per_visit")
    )
    counted = {"session_id": visitors}
    return sa.select(*B.over_visits(dialect, per_visit.c, unique=("visit_id",), counted=counted))


def _keyed_rows(
    dialect: Dialect, query: Query, keys: Sequence[Key]
) -> tuple[sa.Subquery, list[sa.ColumnElement]]:
    """The range's visit rows with the attributes `keys` read, and each key's value over them
    (stored values: '' for a missing one)."""
    rows = _visit_rows(dialect, query, None, sorted({attribute for _, attribute, _ in keys}))
    return rows, [key(rows.c[attr]) if key else rows.c[attr] for _, attr, key in keys]


def by_attributes(dialect: Dialect, query: Query, keys: Sequence[Key]) -> sa.Select:
    """Every metric (registry.METRICS) per combination of `keys`. Each event counts with the
    attributes on its own row, as every ClickHouse read does (docs/clickhouse.md); a missing
    value is NULL.

    Rows are grouped on a hash of the combination rather than on its texts: ClickHouse groups
    millions of (text, text, visit) keys several times slower than (hash, visit) ones."""
    rows, values = _keyed_rows(dialect, query, keys)
    keyed = sa.select(
        rows.c.session_id,
        rows.c.visit_id,
        rows.c.hits,
        rows.c.first_us,
        rows.c.last_us,
        sa.func.cityHash64(*values).label("combination"),
        *(value.label(f"key{i}") for i, value in enumerate(values)),
    ).subquery("keyed")
    k = keyed.c
    per_visit = (
        sa.select(
            k.combination,
            *(sa.func.any(k[f"key{i}"]).label(f"key{i}") for i in range(len(keys))),
            sa.func.any(k.session_id).label("session_id"),
            k.visit_id,
            sa.func.sum(k.hits).label("hits"),
            sa.func.min(k.first_us).label("first_us"),
            sa.func.max(k.last_us).label("last_us"),
        )
        .group_by(k.combination, k.visit_id)
        .subquery("per_visit")
    )
    v = per_visit.c
    return sa.select(
        *(
            sa.func.nullIf(sa.func.any(v[f"key{i}"]), "").label(name)
            for i, (name, _, _) in enumerate(keys)
        ),
        *B.over_visits(dialect, v, unique=("visit_id",)),
    ).group_by(v.combination)


def sessions_by_attribute(dialect: Dialect, query: Query, keys: Sequence[Key]) -> sa.Select:
    """Per combination of `keys`: the distinct sessions `y` of its views, as /metrics counts a
    session attribute. Grouped on the stored values ('' for a missing one, which comes out
    NULL)."""
    rows, values = _keyed_rows(dialect, query, keys)
    return sa.select(
        *(sa.func.nullIf(v, "").label(name) for v, (name, _, _) in zip(values, keys, strict=True)),
        sa.func.count(sa.distinct(rows.c.session_id)).label("y"),
    ).group_by(*values)


def series(dialect: Dialect, query: Query, bucket: Callable | None = None) -> sa.Select:
    """Per bucket `b` (of the query's unit, or `bucket` of the µs): its views `n` and distinct
    sessions `sessions`. A bucket must hold whole UTC hours (decider: offsets of whole hours)."""
    rows = _visit_rows(dialect, query, bucket or _unit_bucket(dialect, query))
    return sa.select(
        rows.c.b.label("b"),
        sa.func.sum(rows.c.hits).label("n"),
        sa.func.count(sa.distinct(rows.c.session_id)).label("sessions"),
    ).group_by(rows.c.b)


def events_series(dialect: Dialect, query: Query) -> sa.Select:
    """Per custom event name `x` and bucket `b` of the query's unit: its events `n`."""
    bucket = _unit_bucket(dialect, query)
    name = sa.literal_column(layout.rollup_value("event_name"), sa.String)
    hourly = sa.select(
        _hourly.c.value.label("x"), bucket(_us(dialect, _hourly.c.hour)).label("b"), _hourly.c.hits
    ).where(*_in_hours(_hourly, query), _hourly.c.kind == "event_name")
    edge_bucket = bucket(_us(dialect, _stored.c.created_at))
    edges = (
        sa.select(name.label("x"), edge_bucket.label("b"), sa.func.count().label("hits"))
        .where(*_edges(query, custom=True))
        .group_by(name, edge_bucket)
    )
    both = sa.union_all(hourly, edges).subquery("both")
    x = sa.func.nullIf(both.c.x, "")  # an event without a name, as the raw query keys it
    return sa.select(x.label("x"), both.c.b, sa.func.sum(both.c.hits).label("n")).group_by(
        x, both.c.b
    )


def _unit_bucket(dialect: Dialect, query: Query) -> Callable:
    def bucket(us: sa.ColumnElement) -> sa.ColumnElement:
        return Q.bucket(dialect, us, query.unit, query.offsets)

    return bucket

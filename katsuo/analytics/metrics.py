"""`/metrics`: the distinct sessions (or events) per value of one metric type, by count
(docs/query-formulas.md#metrics).

Where the visit slices can answer (`Reader.from_slices`), they do; otherwise the query Umami runs
over the raw events."""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics.channels import channel_expr
from katsuo.analytics.metric_types import EVENT_TYPES, SESSION_TYPES, SLICE_DIMS
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader, as_int
from katsuo.analytics.slices import DIM_EVENT, DIM_VIEW
from katsuo.analytics.summary import attr_key, value_key
from katsuo.store import schema

e = schema.website_event
s = schema.session


def ranked(rows: list[dict], limit: int | None, offset: int, key: str = "y") -> list[dict]:
    rows.sort(key=lambda r: (-r[key], str(r.get("x", r.get("name", "")))))
    return rows[offset : offset + limit] if limit is not None else rows[offset:]


def metrics(reader: Reader, query: Query, metric_type: str, limit: int, offset: int) -> list[dict]:
    """`/metrics`: `[{x, y}]` by y desc (docs/query-formulas.md#metrics)."""
    if query.empty:
        return []
    if metric_type == "channel":
        return channels(reader, query)
    if metric_type == "event":
        return _event_metrics(reader, query, limit, offset)
    if metric_type in SESSION_TYPES:
        return _session_metrics(reader, query, metric_type, limit, offset)
    return _pageview_metrics(reader, query, metric_type, limit, offset)


def _session_key(column: str) -> tuple:
    if column == "language":
        return ("x", lambda c: sa.func.lower(sa.func.left(c.language, 2)))
    return attr_key(column)


def _session_metrics(
    reader: Reader, query: Query, metric_type: str, limit: int, offset: int
) -> list[dict]:
    column = SESSION_TYPES[metric_type]
    with_country = column in ("region", "city")
    keys = [_session_key(column)] + ([attr_key("country", "country")] if with_country else [])
    if reader.from_slices(query):
        found = reader.rows(
            reader.plan(query, DIM_VIEW, session_attrs=True).distinct_sessions(keys), query
        )
        rows = [
            {
                "x": r["x"],
                "y": as_int(r["n"]),
                **({"country": r["country"]} if with_country else {}),
            }
            for r in found
            if r["x"] not in (None, "")
        ]
        return ranked(rows, limit, offset)
    events = Q.Events(query, reader.dialect, types="views", join_session=True, exclude_bounce=True)
    x = keys[0][1](s.c).label("x")
    extra = [s.c.country] if with_country else []
    stmt = (
        events.select(x, sa.func.count(sa.distinct(e.c.session_id)).label("y"), *extra)
        .where(x != "")
        .group_by(x, *extra)
        .order_by(sa.desc("y"), x)
        .limit(limit)
        .offset(offset)
    )
    return [
        {"x": r["x"], "y": as_int(r["y"]), **({"country": r["country"]} if with_country else {})}
        for r in reader.rows(stmt, query)
    ]


def _entry_exit(dialect, query: Query, first: bool) -> sa.Subquery:
    """The url_path of each visit's first (entry) or last (exit) view in range, over the
    website's views ignoring the filters (docs/query-formulas.md#metrics)."""
    x = schema.website_event.alias("x_event")
    order = x.c.created_at.asc() if first else x.c.created_at.desc()
    first_views = (
        sa.select(x.c.visit_id, x.c.url_path)
        .where(
            x.c.website_id == query.website_id,
            x.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
            x.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
        )
        .order_by(x.c.visit_id, order, x.c.event_id)
    )
    return dialect.first_per(first_views, x.c.visit_id).subquery("x")


def _pageview_metrics(
    reader: Reader, query: Query, metric_type: str, limit: int, offset: int
) -> list[dict]:
    column = EVENT_TYPES[metric_type]
    dim = SLICE_DIMS.get(metric_type)
    if dim is not None and reader.from_slices(query, dim=dim):
        found = reader.rows(reader.plan(query, dim).distinct_sessions([value_key()]), query)
        rows = [{"x": r["x"], "y": as_int(r["n"])} for r in found if r["x"] not in (None, "")]
        return ranked(rows, limit, offset)
    events = Q.Events(query, reader.dialect, types="views", exclude_bounce=True)
    clauses = []
    if metric_type in ("entry", "exit"):
        visits = _entry_exit(reader.dialect, query, metric_type == "entry")
        x = visits.c.url_path.label("x")
        source = events.from_().join(visits, visits.c.visit_id == e.c.visit_id)
    else:
        x = e.c[column].label("x")
        source = events.from_()
        if column == "referrer_domain":
            clauses += [
                e.c.referrer_domain != reader.dialect.strip_www(e.c.hostname),
                e.c.referrer_domain != "",
            ]
    stmt = (
        sa.select(x, sa.func.count(sa.distinct(e.c.session_id)).label("y"))
        .select_from(source)
        .where(*events.where(), x != "", *clauses)
        .group_by(x)
        .order_by(sa.desc("y"), x)
        .limit(limit)
        .offset(offset)
    )
    return [{"x": r["x"], "y": as_int(r["y"])} for r in reader.rows(stmt, query)]


def event_query(query: Query) -> Query:
    """Event metrics force eventType = 2 (a request's own eventType filter is replaced)."""
    kept = tuple(f for f in query.filters.items if f.field.name != "eventType")
    return Query(**{**query.__dict__, "filters": F.Filters(kept, query.filters.match)})


def _event_metrics(reader: Reader, query: Query, limit: int, offset: int) -> list[dict]:
    query = event_query(query)
    if reader.from_slices(query, dim=DIM_EVENT):
        found = reader.rows(reader.plan(query, DIM_EVENT).counts([value_key()]), query)
        rows = [{"x": r["x"], "y": as_int(r["n"])} for r in found if r["n"]]
        return ranked(rows, limit, offset)
    events = Q.Events(query, reader.dialect, types="custom")
    x = e.c.event_name.label("x")
    stmt = (
        events.select(x, sa.func.count().label("y"))
        .group_by(x)
        .order_by(sa.desc("y"), x)
        .limit(limit)
        .offset(offset)
    )
    return [{"x": r["x"], "y": as_int(r["y"])} for r in reader.rows(stmt, query)]


def channels(reader: Reader, query: Query) -> list[dict]:
    """`/metrics?type=channel`: distinct sessions per channel; limit/offset ignored."""
    events = Q.Events(query, reader.dialect, types="views", exclude_bounce=True)
    rows = events.select(e.c.session_id, channel_expr(reader.dialect, e.c).label("x")).subquery(
        "channels"
    )
    stmt = (
        sa.select(rows.c.x, sa.func.count(sa.distinct(rows.c.session_id)).label("y"))
        .where(rows.c.x != "")
        .group_by(rows.c.x)
    )
    found = [{"x": r["x"], "y": as_int(r["y"])} for r in reader.rows(stmt, query)]
    return ranked(found, None, 0)

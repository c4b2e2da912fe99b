"""`/metrics`: the distinct sessions (or events) per value of one metric type, by count
(docs/query-formulas.md#metrics).

The decider (decider.py) picks ClickHouse's pointer rows or rollups (the visit rollup for a
session attribute) or the visit slices where they answer exactly, else the raw events; either way
the rows are ranked and cut in SQL."""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import builder as B
from katsuo.analytics import filters as F
from katsuo.analytics import pointers, rollups
from katsuo.analytics import registry as R
from katsuo.analytics import sql as Q
from katsuo.analytics.channels import channel_expr
from katsuo.analytics.decider import decide_attributes, decide_overview
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader, as_int
from katsuo.analytics.summary import attr_key
from katsuo.store import schema

e = schema.website_event
s = schema.session
RANKED = [("y", True), ("x", False)]  # by count, then by value


def metrics(reader: Reader, query: Query, metric_type: str, limit: int, offset: int) -> list[dict]:
    """`/metrics`: `[{x, y}]` by y desc, then x (docs/query-formulas.md#metrics): distinct
    sessions per value of the metric type (a dimension of registry.py), custom events per
    name for `event`."""
    if query.empty:
        return []
    dimension = R.DIMENSIONS[metric_type]
    if dimension.name == "channel":
        return channels(reader, query)
    counting_events = dimension.name == "event"
    if counting_events:
        query = event_query(query)
    with_country = dimension.column in ("region", "city")
    decision = decide_overview(reader, query, [dimension])
    if decision.pointers:
        rows = pointers.by_value(reader, query, dimension, decision.until_us)
        stmt, y = B.top(rows, RANKED, limit, offset), "y"
    elif decide_attributes(reader, query, [dimension]).rollups:
        keys = rollups.dimension_keys(dimension, "x")
        rows = rollups.sessions_by_attribute(reader.dialect, query, keys)
        stmt, y = B.top(rows, RANKED, limit, offset, where=[lambda c: c.x.is_not(None)]), "y"
    elif decision.rollups:
        stmt, y = B.top(rollups.by_value(query, dimension), RANKED, limit, offset), "y"
    elif decision.slices:
        plan = reader.plan(query, decision.dim, session_attrs=dimension.is_session)
        keys = [B.slice_key(dimension)] + ([attr_key("country", "country")] if with_country else [])
        if counting_events:
            rows, keep = plan.counts(keys), (lambda c: c.n != 0)
        else:
            rows, keep = plan.distinct_sessions(keys), (lambda c: c.x != "")
        stmt = B.top(rows, [("n", True), ("x", False)], limit, offset, where=[keep])
        y = "n"
    else:
        stmt, y = _raw(reader, query, dimension, with_country, limit, offset), "y"
    return [
        {"x": r["x"], "y": as_int(r[y]), **({"country": r["country"]} if with_country else {})}
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


def _raw(
    reader: Reader,
    query: Query,
    dimension: R.Dimension,
    with_country: bool,
    limit: int,
    offset: int,
) -> sa.Select:
    """The query Umami runs over the raw events, ranked in SQL."""
    if dimension.name == "event":
        events = Q.Events(query, reader.dialect, types="custom")
        x = e.c.event_name.label("x")
        return (
            events.select(x, sa.func.count().label("y"))
            .group_by(x)
            .order_by(sa.desc("y"), x)
            .limit(limit)
            .offset(offset)
        )
    events = Q.Events(
        query,
        reader.dialect,
        types="views",
        join_session=dimension.is_session,
        exclude_bounce=True,
    )
    clauses = []
    extra = [s.c.country] if with_country else []
    if dimension.name in ("entry", "exit"):
        visits = _entry_exit(reader.dialect, query, dimension.name == "entry")
        x = visits.c.url_path.label("x")
        source = events.from_().join(visits, visits.c.visit_id == e.c.visit_id)
    else:
        x = dimension.keyed(dimension.on(e, s)).label("x")
        source = events.from_()
        if dimension.column == "referrer_domain":
            clauses += [
                e.c.referrer_domain != reader.dialect.strip_www(e.c.hostname),
                e.c.referrer_domain != "",
            ]
    return (
        sa.select(x, sa.func.count(sa.distinct(e.c.session_id)).label("y"), *extra)
        .select_from(source)
        .where(*events.where(), x != "", *clauses)
        .group_by(x, *extra)
        .order_by(sa.desc("y"), x)
        .limit(limit)
        .offset(offset)
    )


def event_query(query: Query) -> Query:
    """Event metrics force eventType = 2 (a request's own eventType filter is replaced)."""
    kept = tuple(f for f in query.filters.items if f.field.name != "eventType")
    return Query(**{**query.__dict__, "filters": F.Filters(kept, query.filters.match)})


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
    return [
        {"x": r["x"], "y": as_int(r["y"])} for r in reader.rows(B.top(stmt, RANKED, None), query)
    ]

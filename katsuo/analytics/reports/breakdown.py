"""Breakdown (docs: Breakdown; API › Reports › breakdown): views, visitors, visits, bounces and
visit time per combination of the chosen fields, top 500 by visitors (docs/query-formulas.md#breakdown).

As in Umami, rows are first grouped by (fields, session, visit) — a bounce is a visit with one
matching view — but the distinct counts are taken by aggregating twice more instead of counting
distinct ids: per (event fields, session), then per field combination, where a session is one
row. Session fields (browser, country, …) are joined after the first two steps, onto one row
per session instead of one per event.

When the fields are session attributes and/or `path` and the visit slices can answer the
query exactly, they do (`summary.Plan`, as the overview's expanded totals): visit totals and
distinct sessions per combination, keyed on the slices' session attributes and — with `path` —
the path dimension's value. Slices count every event type but custom events and performance
beacons as a view; only a website's events are all page views then (links and pixels store
their own hit types, `Query.target_kind`), so other targets keep the raw query. Every session
field is one of the slices' session attributes.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics.query import Query
from katsuo.analytics.reports.params import FIELDS, Parameters
from katsuo.analytics.reports.steps import PAGE_VIEW, with_event_type
from katsuo.analytics.runner import Reader
from katsuo.analytics.slices import DIM_PATH, DIM_VIEW
from katsuo.analytics.summary import Key, attr_key, value_key
from katsuo.errors import BadRequest
from katsuo.store import schema

TOTALS = ("views", "visitors", "visits", "bounces", "totaltime")
TOP = 500
e = schema.website_event
s = schema.session


def parse_fields(params: Parameters) -> list[F.Field]:
    raw = params.items("fields", 1, len(FIELDS))
    chosen: list[F.Field] = []
    for i, name in enumerate(raw):
        if name not in FIELDS:
            raise BadRequest(f"parameters.fields.{i}: must be one of {', '.join(FIELDS)}")
        if F.FIELDS[name] not in chosen:
            chosen.append(F.FIELDS[name])
    return chosen


def run(reader: Reader, query: Query, params: Parameters) -> list[dict]:
    fields = parse_fields(params)
    if query.empty:
        return []
    names = [f.name for f in fields]
    sliced = _from_slices(reader, query, fields)
    found = sliced if sliced is not None else _raw(reader, query, fields)
    return [
        {**{k: int(row[k] or 0) for k in TOTALS}, **{name: row[name] for name in names}}
        for row in found
    ]


def _ordered(fields: list[F.Field]) -> list[F.Field]:
    """The fields in the order rows are sorted on after the counts: event fields first."""
    return [f for f in fields if f.level == F.EVENT] + [f for f in fields if f.level == F.SESSION]


def _slice_dim(reader: Reader, query: Query, fields: list[F.Field]) -> int | None:
    """The slice dimension that answers the breakdown of `query` (already without its
    `eventType` filter) exactly, or None."""
    if query.target_kind != "website":
        return None
    if not all(f.level == F.SESSION or f.name == "path" for f in fields):
        return None
    dim = DIM_PATH if any(f.name == "path" for f in fields) else DIM_VIEW
    return dim if reader.from_slices(query, dim=dim) else None


def _from_slices(reader: Reader, query: Query, fields: list[F.Field]) -> list[dict] | None:
    """The rows from the visit slices, or None when they cannot answer exactly."""
    query = with_event_type(query)
    dim = _slice_dim(reader, query, fields)
    if dim is None:
        return None
    keys: list[Key] = [
        value_key(f.name) if f.name == "path" else attr_key(f.column, f.name) for f in fields
    ]
    plan = reader.plan(query, dim, session_attrs=any(f.level == F.SESSION for f in fields))
    found = plan.expanded(keys).subquery("expanded")
    b = found.c
    groups = [b[f.name] for f in _ordered(fields)]
    stmt = (
        sa.select(
            b.pageviews.label("views"),
            b.visitors,
            b.visits,
            b.bounces,
            b.totaltime,
            *(b[f.name] for f in fields),
        )
        .order_by(b.visitors.desc(), b.pageviews.desc(), *groups)
        .limit(TOP)
    )
    return reader.rows(stmt, query)


def _raw(reader: Reader, query: Query, fields: list[F.Field]) -> list[dict]:
    # The docs offer `event` as a field; over page views alone (Umami 3.1) it would always be
    # null, so with `event` chosen the rows are custom events, as the `event` metric counts them.
    event_type = Q.CUSTOM_EVENT if any(f.name == "event" for f in fields) else PAGE_VIEW
    events = Q.Events(with_event_type(query), reader.dialect, types=None)
    on_events = [f for f in fields if f.level == F.EVENT]
    on_sessions = [f for f in fields if f.level == F.SESSION]
    us = events.us()
    event_cols = [e.c[f.column].label(f.name) for f in on_events]
    per_visit = (
        events.select(
            *event_cols,
            e.c.session_id,
            e.c.visit_id,
            sa.func.count().label("hits"),
            sa.func.min(us).label("first_us"),
            sa.func.max(us).label("last_us"),
        )
        .where(e.c.event_type == event_type)
        .group_by(
            *(e.c[f.column] for f in on_events),
            e.c.session_id,
            e.c.visit_id,
        )
        .subquery("per_visit")
    )
    v = per_visit.c
    keys = [v[f.name] for f in on_events]
    per_session = (
        sa.select(
            *keys,
            v.session_id,
            sa.func.sum(v.hits).label("views"),
            sa.func.count().label("visits"),
            sa.func.sum(sa.case((v.hits == 1, 1), else_=0)).label("bounces"),
            sa.func.sum(Q.seconds_between(reader.dialect, v.first_us, v.last_us)).label(
                "totaltime"
            ),
        )
        .group_by(*keys, v.session_id)
        .subquery("per_session")
    )
    p = per_session.c
    source: sa.FromClause = per_session
    if on_sessions:
        source = per_session.join(
            s, sa.and_(s.c.session_id == p.session_id, s.c.website_id == query.website_id)
        )
    groups = [p[f.name] for f in on_events] + [s.c[f.column] for f in on_sessions]
    visitors = sa.func.count().label("visitors")
    views = sa.func.sum(p.views).label("views")
    stmt = (
        sa.select(
            views,
            visitors,
            sa.func.sum(p.visits).label("visits"),
            sa.func.sum(p.bounces).label("bounces"),
            sa.func.sum(p.totaltime).label("totaltime"),
            *(p[f.name].label(f.name) for f in on_events),
            *(s.c[f.column].label(f.name) for f in on_sessions),
        )
        .select_from(source)
        .group_by(*groups)
        .order_by(visitors.desc(), views.desc(), *groups)
        .limit(TOP)
    )
    return reader.rows(stmt, query)

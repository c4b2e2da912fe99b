"""Breakdown (docs: Breakdown; API › Reports › breakdown): views, visitors, visits, bounces and
visit time per combination of the chosen fields, top 500 by visitors (queries.md §15.8).

As in Umami, rows are first grouped by (fields, session, visit) — a bounce is a visit with one
matching view — but the distinct counts are taken by aggregating twice more instead of counting
distinct ids: per (event fields, session), then per field combination, where a session is one
row. Session fields (browser, country, …) are joined after the first two steps, onto one row
per session instead of one per event.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics.query import Query
from katsuo.analytics.reports.params import FIELDS, Parameters
from katsuo.analytics.reports.steps import PAGE_VIEW, with_event_type
from katsuo.analytics.runner import Reader
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
    names = [f.name for f in fields]
    return [
        {**{k: int(row[k] or 0) for k in TOTALS}, **{name: row[name] for name in names}}
        for row in reader.rows(stmt, query)
    ]

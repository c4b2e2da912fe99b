"""`/metrics/expanded`: per value of a metric type, the views, visitors, visits, bounces and
total time of its visits (docs/query-formulas.md#expanded-metrics)."""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics.channels import channel_expr, grouped_domain
from katsuo.analytics.metric_types import EVENT_TYPES, SESSION_TYPES
from katsuo.analytics.metrics import event_query
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader, as_int
from katsuo.store import schema

e = schema.website_event
s = schema.session


def expanded(reader: Reader, query: Query, metric_type: str, limit: int, offset: int) -> list[dict]:
    """`/metrics/expanded`: per value, pageviews, visitors, visits, bounces and total time of the
    (value, session, visit) groups (docs/query-formulas.md#expanded-metrics)."""
    if query.empty:
        return []
    dialect = reader.dialect
    extra: list = []
    clauses: list = []
    group_extra: list = []
    if metric_type == "channel":
        events = Q.Events(query, dialect, types="views", exclude_bounce=True)
        name = channel_expr(dialect, e.c)
        # Umami groups by the rule inputs before classifying, so one visit can count as
        # several bounces when its views differ in query (docs/query-formulas.md#channels).
        group_extra = [
            sa.func.coalesce(e.c.referrer_domain, ""),
            sa.func.coalesce(e.c.url_query, ""),
            e.c.utm_medium,
            e.c.utm_source,
            e.c.hostname,
        ]
        source = events.from_()
        limit, offset = None, 0
    elif metric_type == "event":
        events = Q.Events(event_query(query), dialect, types="custom")
        name = e.c.event_name
        source = events.from_()
    elif metric_type in SESSION_TYPES:
        events = Q.Events(query, dialect, types="views", join_session=True, exclude_bounce=True)
        column = SESSION_TYPES[metric_type]
        name = sa.func.lower(sa.func.left(s.c.language, 2)) if column == "language" else s.c[column]
        if column in ("region", "city"):
            extra = [s.c.country.label("country")]
        source = events.from_()
    else:
        events = Q.Events(query, dialect, types="views", exclude_bounce=True)
        column = EVENT_TYPES[metric_type]
        name = e.c[column]
        source = events.from_()
        if column == "referrer_domain":
            clauses += [
                e.c.referrer_domain != dialect.strip_www(e.c.hostname),
                e.c.referrer_domain != "",
            ]
            if metric_type == "domain":
                name = grouped_domain(dialect, e.c.referrer_domain)
        if metric_type in ("entry", "exit"):
            x = schema.website_event.alias("x_event")
            target = (
                sa.select(
                    x.c.visit_id,
                    (sa.func.min if metric_type == "entry" else sa.func.max)(x.c.created_at).label(
                        "target_created_at"
                    ),
                )
                .where(
                    x.c.website_id == query.website_id,
                    x.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
                    x.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
                )
                .group_by(x.c.visit_id)
                .subquery("x")
            )
            source = source.join(
                target,
                sa.and_(
                    target.c.visit_id == e.c.visit_id, target.c.target_created_at == e.c.created_at
                ),
            )
    us = dialect.epoch_us(e.c.created_at)
    name = name.label("name")
    groups = (
        sa.select(
            name,
            *extra,
            e.c.session_id,
            e.c.visit_id,
            sa.func.count().label("c"),
            sa.func.min(us).label("f"),
            sa.func.max(us).label("l"),
        )
        .select_from(source)
        .where(*events.where(), *clauses)
        .group_by(name, *extra, e.c.session_id, e.c.visit_id, *group_extra)
        .subquery("t")
    )
    t = groups.c
    extra_cols = [t.country] if extra else []
    stmt = (
        sa.select(
            t.name,
            *extra_cols,
            sa.func.sum(t.c).label("pageviews"),
            sa.func.count(sa.distinct(t.session_id)).label("visitors"),
            sa.func.count(sa.distinct(t.visit_id)).label("visits"),
            sa.func.sum(sa.case((t.c == 1, 1), else_=0)).label("bounces"),
            sa.func.sum(Q.seconds_between(dialect, t.f, t.l)).label("totaltime"),
        )
        .where(t.name != "")
        .group_by(t.name, *extra_cols)
    )
    rows = []
    for r in reader.rows(stmt, query):
        row = {"name": r["name"], **({"country": r["country"]} if extra else {})}
        row.update(
            {k: as_int(r[k]) for k in ("pageviews", "visitors", "visits", "bounces", "totaltime")}
        )
        rows.append(row)
    rows.sort(key=lambda r: (-r["visitors"], -r["visits"], str(r["name"])))
    return rows[offset : offset + limit] if limit is not None else rows

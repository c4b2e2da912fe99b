"""`/metrics/expanded`: per value of a metric type, the registry's metrics of its visits
(docs/query-formulas.md#expanded-metrics): from ClickHouse's visit rollup or the visit slices
where the decider says they answer exactly, else from the raw events; ranked and cut in SQL
either way."""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import builder as B
from katsuo.analytics import registry as R
from katsuo.analytics import rollups
from katsuo.analytics import sql as Q
from katsuo.analytics.channels import channel_expr, grouped_domain
from katsuo.analytics.decider import RAW, decide, decide_attributes
from katsuo.analytics.metrics import event_query
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader, as_int
from katsuo.analytics.summary import attr_key
from katsuo.store import schema

e = schema.website_event
s = schema.session


ORDER = [("visitors", True), ("visits", True), ("name", False)]


def expanded(reader: Reader, query: Query, metric_type: str, limit: int, offset: int) -> list[dict]:
    """`/metrics/expanded`: per value, every metric of the registry (pageviews, visitors, visits,
    bounces, total time …) of the (value, session, visit) groups, by visitors, then visits, then
    value (docs/query-formulas.md#expanded-metrics)."""
    if query.empty:
        return []
    dimension = R.DIMENSIONS[metric_type]
    if dimension.name == "channel":
        limit, offset = None, 0  # Umami answers every channel
    if dimension.name == "event":
        query = event_query(query)
    with_country = dimension.column in ("region", "city")
    decision = decide(reader, query, [dimension]) if dimension.name != "channel" else RAW
    if decide_attributes(reader, query, [dimension]).rollups:
        rows = rollups.by_attributes(
            reader.dialect, query, rollups.dimension_keys(dimension, "name")
        )
    elif decision.slices:
        name, key = B.slice_key(dimension, "name")
        if dimension.name == "domain":
            key = _grouped(reader.dialect, key)
        keys = [(name, key)] + ([attr_key("country", "country")] if with_country else [])
        plan = reader.plan(query, decision.dim, session_attrs=dimension.is_session)
        rows = plan.expanded(keys)
    else:
        rows = _raw(reader, query, dimension, with_country)
    stmt = B.top(rows, ORDER, limit, offset, where=[lambda c: c.name != ""])
    found = []
    for r in reader.rows(stmt, query):
        row = {"name": r["name"], **({"country": r["country"]} if with_country else {})}
        row.update({k: as_int(r[k]) for k in B.metric_names()})
        found.append(row)
    return found


def _grouped(dialect, key):
    """Referrer domains grouped by brand, as the expanded `domain` metric shows them."""
    return lambda c: grouped_domain(dialect, key(c))


def _raw(reader: Reader, query: Query, dimension: R.Dimension, with_country: bool) -> sa.Select:
    """Umami's query over the raw events: the (value, session, visit) groups, then the metrics
    per value."""
    dialect = reader.dialect
    clauses: list = []
    group_extra: list = []
    if dimension.name == "channel":
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
    elif dimension.name == "event":
        events = Q.Events(query, dialect, types="custom")
        name = e.c.event_name
        source = events.from_()
    else:
        events = Q.Events(
            query,
            dialect,
            types="views",
            join_session=dimension.is_session,
            exclude_bounce=True,
        )
        name = dimension.keyed(dimension.on(e, s))
        source = events.from_()
        if dimension.column == "referrer_domain":
            clauses += [
                e.c.referrer_domain != dialect.strip_www(e.c.hostname),
                e.c.referrer_domain != "",
            ]
            if dimension.name == "domain":
                name = grouped_domain(dialect, e.c.referrer_domain)
        if dimension.name in ("entry", "exit"):
            source = source.join(*_entry_exit(query, dimension.name == "entry"))
    extra = [s.c.country.label("country")] if with_country else []
    name = name.label("name")
    groups = (
        sa.select(
            name,
            *extra,
            e.c.session_id,
            e.c.visit_id,
            *B.per_visit_columns(dialect, dialect.epoch_us(e.c.created_at)),
        )
        .select_from(source)
        .where(*events.where(), *clauses)
        .group_by(name, *extra, e.c.session_id, e.c.visit_id, *group_extra)
        .subquery("t")
    )
    t = groups.c
    extra_cols = [t.country] if extra else []
    return sa.select(t.name, *extra_cols, *B.over_visits(dialect, t)).group_by(t.name, *extra_cols)


def _entry_exit(query: Query, first: bool) -> tuple[sa.Subquery, sa.ColumnElement]:
    """Each visit's first (entry) or last (exit) view in range, and the join onto it."""
    x = schema.website_event.alias("x_event")
    target = (
        sa.select(
            x.c.visit_id,
            (sa.func.min if first else sa.func.max)(x.c.created_at).label("target_created_at"),
        )
        .where(
            x.c.website_id == query.website_id,
            x.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
            x.c.event_type.not_in(Q.VIEW_TYPES_EXCLUDED),
        )
        .group_by(x.c.visit_id)
        .subquery("x")
    )
    on = sa.and_(target.c.visit_id == e.c.visit_id, target.c.target_created_at == e.c.created_at)
    return target, on

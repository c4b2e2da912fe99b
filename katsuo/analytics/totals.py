"""The totals and series of a website's views: `/stats` and `/pageviews`
(docs/query-formulas.md#stats, #pageviews).

Where ClickHouse's pointer rows or rollups or the visit slices can answer (decider.py), they do;
otherwise the query Umami runs over the raw events. The totals are the registry's metrics (registry.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from katsuo.analytics import builder as B
from katsuo.analytics import pointers, rollups
from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.decider import decide_overview
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader, as_int
from katsuo.store import schema
from katsuo.store.records import iso_ms

e = schema.website_event


def _totals(reader: Reader, query: Query) -> dict[str, int]:
    if query.empty:
        return dict.fromkeys(B.metric_names(), 0)
    decision = decide_overview(reader, query)
    if decision.pointers:
        row = pointers.totals(reader, query, decision.until_us)
    elif decision.rollups:
        row = reader.one(rollups.totals(reader.dialect, query), query)
    elif decision.slices:
        # The visit totals and distinct sessions in one statement, with no key: one row.
        row = reader.one(reader.plan(query, decision.dim).expanded([]), query)
    else:
        events = Q.Events(query, reader.dialect, types="views", exclude_bounce=True)
        per_visit = (
            events.select(
                e.c.session_id, e.c.visit_id, *B.per_visit_columns(reader.dialect, events.us())
            )
            .group_by(e.c.session_id, e.c.visit_id)
            .subquery("t")
        )
        row = reader.one(sa.select(*B.over_visits(reader.dialect, per_visit.c)), query)
    result = {k: as_int(row.get(k)) for k in B.metric_names()}
    if query.exclude_bounce:
        result["bounces"] = 0
    return result


def stats(reader: Reader, query: Query) -> dict:
    """`/stats`: totals of the range and of the comparison window (default `prev`)."""
    return {**_totals(reader, query), "comparison": _totals(reader, query.compared("prev"))}


# --- pageviews ----------------------------------------------------------------------------------


def series(reader: Reader, query: Query) -> tuple[list[dict], list[dict]]:
    """Views and distinct sessions per bucket, each `[{x, y}]` in bucket order."""
    if query.empty:
        return [], []
    offsets = query.offsets
    decision = decide_overview(reader, query, bucketed=True)
    if decision.pointers or decision.rollups:
        both = (
            pointers.series(reader, query, decision.until_us)
            if decision.pointers
            else reader.rows(rollups.series(reader.dialect, query), query)
        )
        views = [{"b": r["b"], "n": r["n"]} for r in both]
        sessions = [{"b": r["b"], "n": r["sessions"]} for r in both]
    elif decision.slices:
        plan = reader.plan(query, decision.dim)

        def bucket(us):
            return Q.bucket(reader.dialect, us, query.unit, offsets)

        # Both series in one statement (buckets with views are the buckets with sessions).
        counts = plan.counts([], bucket).subquery("views")
        distinct = plan.distinct_sessions([], bucket).subquery("sessions")
        both = reader.rows(
            sa.select(counts.c.b, counts.c.n, distinct.c.n.label("sessions")).select_from(
                counts.join(distinct, distinct.c.b == counts.c.b)
            ),
            query,
        )
        views = [{"b": r["b"], "n": r["n"]} for r in both]
        sessions = [{"b": r["b"], "n": r["sessions"]} for r in both]
    else:
        events = Q.Events(query, reader.dialect, types="views", exclude_bounce=True)
        b = events.bucket().label("b")
        views = reader.rows(events.select(b, sa.func.count().label("n")).group_by(b), query)
        sessions = reader.rows(
            events.select(b, sa.func.count(sa.distinct(e.c.session_id)).label("n")).group_by(b),
            query,
        )

    def points(found: list[dict]) -> list[dict]:
        return [
            {"x": T.bucket_label(r["b"], query.unit, query.timezone), "y": as_int(r["n"])}
            for r in sorted(found, key=lambda r: r["b"])
            if r["n"]
        ]

    return points(views), points(sessions)


def pageviews(reader: Reader, query: Query) -> dict:
    """`/pageviews`: views and distinct sessions per bucket; with `compare`, the same for the
    comparison window and both windows' dates."""
    views, sessions = series(reader, query)
    body: dict[str, Any] = {"pageviews": views, "sessions": sessions}
    compared = query.compared()
    if compared is not None:
        compare_views, compare_sessions = series(reader, compared)
        body.update(
            startDate=iso_ms(T.from_us(query.start_us)),
            endDate=iso_ms(T.from_us(query.end_us)),
            compare={
                "pageviews": compare_views,
                "sessions": compare_sessions,
                "startDate": iso_ms(T.from_us(compared.start_us)),
                "endDate": iso_ms(T.from_us(compared.end_us)),
            },
        )
    return body

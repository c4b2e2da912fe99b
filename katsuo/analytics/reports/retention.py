"""Retention (docs: Retention; API › Reports › retention): of the visitors first seen on a day,
how many come back 1, 2, … 31 days later (queries.md §15.5).

A session's cohort is the first day, in the request's zone, on which it has an event passing
the filters; its activity is every day with any event of the range. Both come from one scan that
groups the range's events by session and local day, the filters evaluated as a flag instead of
selecting rows. Days are counted in SQL as whole local days since the epoch (the zone's offsets
as a CASE, `sql.local_us`), so a cohort that starts before a DST change still counts calendar
days.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.query import Query
from katsuo.analytics.reports import output
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.runner import Reader
from katsuo.store import schema

MAX_DAY = 31
e = schema.website_event


def run(reader: Reader, query: Query, params: Parameters) -> list[dict]:
    if query.empty:
        return []
    dialect, offsets = reader.dialect, query.offsets
    local_day = dialect.div(Q.local_us(dialect.epoch_us(e.c.created_at), offsets), T.US_PER_DAY)
    # One scan: each session's days, and whether an event of that day passes the filters. The
    # joins the filters need (session attributes, the cohort's sessions) are Umami's inner joins:
    # a session they drop could never have a cohort day.
    events = Q.Events(query, dialect, types=None)
    passes = Q.filters_clauses(
        dialect, query.filters, events.resolve, referrer_side_effect=events.self_referral_clause
    )
    hit = sa.case((sa.and_(*passes), 1), else_=0) if passes else sa.literal(1, sa.Integer)
    active = (
        sa.select(e.c.session_id, local_day.label("day"), sa.func.max(hit).label("hit"))
        .select_from(events.from_())
        .where(
            e.c.website_id == query.website_id,
            e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
        )
        .group_by(e.c.session_id, local_day)
        .cte("active")
    )
    a = active.c
    first_day = sa.func.min(a.day).filter(a.hit == 1)
    cohorts = (
        sa.select(a.session_id, first_day.label("cohort"))
        .group_by(a.session_id)
        .having(first_day.is_not(None))
        .cte("cohorts")
    )
    c = cohorts.c
    day = (a.day - c.cohort).label("day")
    returns = (
        sa.select(c.cohort, day, sa.func.count().label("returning"))
        .select_from(active.join(cohorts, c.session_id == a.session_id))
        # Days before the cohort day (activity outside the filters) are not "returns": the
        # spec counts later days only, though Umami 3.1 lists them with negative numbers.
        .where(day.between(0, MAX_DAY))
        .group_by(c.cohort, day)
        .subquery("returns")
    )
    sizes = (
        sa.select(c.cohort, sa.func.count().label("visitors")).group_by(c.cohort).subquery("sizes")
    )
    stmt = (
        sa.select(returns.c.cohort, returns.c.day, sizes.c.visitors, returns.c.returning)
        .select_from(returns.join(sizes, sizes.c.cohort == returns.c.cohort))
        .order_by(returns.c.cohort, returns.c.day)
    )
    return [
        {
            "date": output.bucket_instant(int(row["cohort"]) * T.US_PER_DAY, query.timezone),
            "day": int(row["day"]),
            "visitors": int(row["visitors"]),
            "returnVisitors": int(row["returning"]),
            "percentage": output.number(int(row["returning"]) * 100 / int(row["visitors"])),
        }
        for row in reader.rows(stmt, query)
    ]

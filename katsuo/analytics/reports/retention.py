"""Retention (docs: Retention; API › Reports › retention): of the visitors first seen on a day,
how many come back 1, 2, … 31 days later (queries.md §15.5).

A session's cohort is the first day, in the request's zone, on which it has an event passing
the filters; its activity is every day with any event of the range. Days are counted in SQL as
whole local days since the epoch (the zone's offsets as a CASE, `sql.local_us`), so a cohort
that starts before a DST change still counts calendar days.
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
    us = dialect.epoch_us(e.c.created_at)
    local_day = dialect.div(Q.local_us(us, offsets), T.US_PER_DAY)
    events = Q.Events(query, dialect, types=None)
    cohorts = events.select(e.c.session_id, sa.func.min(local_day).label("cohort")).group_by(
        e.c.session_id).cte("cohorts")
    active = (
        sa.select(e.c.session_id, local_day.label("day"))
        .where(e.c.website_id == query.website_id,
               e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
               e.c.session_id.in_(sa.select(cohorts.c.session_id)))
        .group_by(e.c.session_id, local_day)
        .subquery("active")
    )
    day = (active.c.day - cohorts.c.cohort).label("day")
    returns = (
        sa.select(cohorts.c.cohort, day, sa.func.count().label("returning"))
        .select_from(active.join(cohorts, cohorts.c.session_id == active.c.session_id))
        # Days before the cohort day (activity outside the filters) are not "returns": the
        # spec counts later days only, though Umami 3.1 lists them with negative numbers.
        .where(day.between(0, MAX_DAY))
        .group_by(cohorts.c.cohort, day)
        .subquery("returns")
    )
    sizes = sa.select(cohorts.c.cohort, sa.func.count().label("visitors")).group_by(cohorts.c.cohort).subquery("sizes")
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

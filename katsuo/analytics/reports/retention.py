"""Retention (docs: Retention; API › Reports › retention): of the visitors first seen on a day,
how many come back 1, 2, … 31 days later (queries.md §15.5).

A session's cohort is the first day, in the request's zone, on which it has an event passing
the filters; its activity is every day with any event of the range. Both come from one table of
(session, local day, passes the filters), read from the visit slices' journey rows when the
filters allow, else from one scan of the range's events. Days are counted in SQL as whole local
days since the epoch (the zone's offsets as a CASE, `sql.local_us`), so a cohort that starts
before a DST change still counts calendar days.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics import visits
from katsuo.analytics.query import Query
from katsuo.analytics.reports import output
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.runner import Reader
from katsuo.analytics.slices import DIM_JOURNEY
from katsuo.store import schema

MAX_DAY = 31
e = schema.website_event
slice_t = schema.visit_slice


def run(reader: Reader, query: Query, params: Parameters) -> list[dict]:
    if query.empty:
        return []
    sliced = reader.from_slices(query, dim=DIM_JOURNEY)
    active = _active_from_slices(reader, query) if sliced else None
    if active is None:
        active = _active_from_events(reader, query)
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


def _local_day(reader: Reader, query: Query, us: sa.ColumnElement) -> sa.ColumnElement:
    return reader.dialect.div(Q.local_us(us, query.offsets), T.US_PER_DAY)


def _active_from_events(reader: Reader, query: Query) -> sa.CTE:
    """(session, day, hit) from one scan of the range's events, the filters evaluated as a flag
    instead of selecting rows. The joins the filters need (session attributes, the cohort's
    sessions) are Umami's inner joins: a session they drop could never have a cohort day."""
    local_day = _local_day(reader, query, reader.dialect.epoch_us(e.c.created_at))
    events = Q.Events(query, reader.dialect, types=None)
    passes = Q.filters_clauses(
        reader.dialect,
        query.filters,
        events.resolve,
        referrer_side_effect=events.self_referral_clause,
    )
    hit = sa.case((sa.and_(*passes), 1), else_=0) if passes else sa.literal(1, sa.Integer)
    return (
        sa.select(e.c.session_id, local_day.label("day"), sa.func.max(hit).label("hit"))
        .select_from(events.from_())
        .where(
            e.c.website_id == query.website_id,
            e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
        )
        .group_by(e.c.session_id, local_day)
        .cte("active")
    )


def _active_from_slices(reader: Reader, query: Query) -> sa.CTE | None:
    """(session, day, hit) from the journey rows (`visits.py`): a visit within two local days is
    active on its first and last event's days; longer ones are read from their events. The
    filters are on the session, so sessions failing them are simply left out (hit is 1)."""
    s = slice_t
    first_day = _local_day(reader, query, s.c.first_us)
    last_day = _local_day(reader, query, s.c.last_us)
    split = visits.whole_visits(reader, query, also_raw=last_day - first_day >= 2)
    if split is None:
        return None
    parts = [
        sa.select(s.c.session_id, first_day.label("day")).where(*split.whole),
        sa.select(s.c.session_id, last_day).where(*split.whole, last_day != first_day),
    ]
    if split.raw is not None:
        day = _local_day(reader, query, reader.dialect.epoch_us(e.c.created_at))
        events = Q.Events(query, reader.dialect, types=None)
        parts.append(events.select(e.c.session_id, day).where(*split.raw))
    days = sa.union_all(*parts).subquery("days")
    return (
        sa.select(days.c.session_id, days.c.day, sa.literal(1, sa.Integer).label("hit"))
        .group_by(days.c.session_id, days.c.day)
        .cte("active")
    )

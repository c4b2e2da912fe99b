"""Retention (docs: Retention; API › Reports › retention): of the visitors first seen on a day,
how many come back 1, 2, … 31 days later (docs/query-formulas.md#retention).

A session's cohort is the first day, in the request's zone, on which it has an event passing
the filters; its activity is every day with any event of the range. Both come from rows of
(session, local day, passes the filters), read from the visit slices' journey rows when the
filters allow, else from one scan of the range's events. Days are counted in SQL as whole local
days since the epoch (the zone's offsets as a CASE, `sql.local_us`), so a cohort that starts
before a DST change still counts calendar days. Over a month or two (MASK_DAYS) each session's
days become the bits of one number and the counting is done here from the few distinct
patterns; longer ranges count in SQL.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics import visits
from katsuo.analytics.decider import decide_journeys
from katsuo.analytics.query import Query
from katsuo.analytics.reports import output
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.runner import Reader
from katsuo.store import schema

MAX_DAY = 31
# Ranges of up to this many local days keep each session's active days as the bits of one bigint
# (bit 0 = the range's first day): one aggregation per session, then one per distinct pattern
# (a few hundred), expanded here. Longer ranges join each session's days to its cohort in SQL.
MASK_DAYS = 62
e = schema.website_event
slice_t = schema.visit_slice


def run(reader: Reader, query: Query, params: Parameters) -> list[dict]:
    if query.empty:
        return []
    sliced = decide_journeys(reader, query).slices
    active = _active_from_slices(reader, query) if sliced else None
    if active is None:
        active = _active_from_events(reader, query)
    first_day, last_day = _local_days(query)
    if last_day - first_day < MASK_DAYS:
        sizes, returning = _counted_by_patterns(reader, query, active, first_day)
    else:
        sizes, returning = _counted_by_join(reader, query, active)
    return [
        {
            "date": output.bucket_instant(cohort * T.US_PER_DAY, query.timezone),
            "day": day,
            "visitors": sizes[cohort],
            "returnVisitors": n,
            "percentage": output.number(n * 100 / sizes[cohort]),
        }
        for (cohort, day), n in sorted(returning.items())
    ]


def _local_days(query: Query) -> tuple[int, int]:
    """The first and last local day the range touches. Local time only jumps at an offset
    change, so the extremes are at the range's ends or next to a change (a fall-back at
    midnight repeats the previous day's last hour)."""
    o = query.offsets
    changes = [us for us in o.starts if query.start_us < us <= query.end_us]
    first = min(o.local(us) for us in (query.start_us, *changes))
    last = max(o.local(us) for us in (query.end_us, *(us - 1 for us in changes)))
    return first // T.US_PER_DAY, last // T.US_PER_DAY


def _counted_by_patterns(
    reader: Reader, query: Query, active: sa.Subquery, first_day: int
) -> tuple[Counter, Counter]:
    """Cohort sizes and (cohort, day) returns from the sessions' day patterns: `days` has a bit
    per active day, `hits` per day with an event passing the filters (the cohort is the first)."""
    a = active.c
    dialect = reader.dialect
    bit = dialect.bit(a.day - first_day)
    sessions = (
        sa.select(
            dialect.bit_or(bit).label("days"),
            dialect.bit_or(sa.case((a.hit == 1, bit), else_=0)).label("hits"),
        )
        .group_by(a.session_id)
        .subquery("sessions")
    )
    s = sessions.c
    patterns = sa.select(s.days, s.hits, sa.func.count().label("n")).group_by(s.days, s.hits)
    sizes, returning = Counter(), Counter()
    for row in reader.rows(patterns, query):
        days, hits, n = int(row["days"]), int(row["hits"]), int(row["n"])
        if not hits:
            continue
        start = (hits & -hits).bit_length() - 1
        cohort = first_day + start
        sizes[cohort] += n
        later = days >> start
        for day in range(min(MAX_DAY, later.bit_length() - 1) + 1):
            if later >> day & 1:
                returning[cohort, day] += n
    return sizes, returning


def _counted_by_join(reader: Reader, query: Query, rows: sa.Subquery) -> tuple[Counter, Counter]:
    """The same counts for any range: each session's cohort joined back to its days."""
    d = rows.c
    active = (
        sa.select(d.session_id, d.day, sa.func.max(d.hit).label("hit"))
        .group_by(d.session_id, d.day)
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
        # report's definition (docs/query-formulas.md#retention) counts later days only, though Umami 3.1 lists them with negative numbers.
        .where(day.between(0, MAX_DAY))
        .group_by(c.cohort, day)
        .subquery("returns")
    )
    per_cohort = (
        sa.select(c.cohort, sa.func.count().label("visitors")).group_by(c.cohort).subquery("sizes")
    )
    r = returns.c
    stmt = sa.select(r.cohort, r.day, per_cohort.c.visitors, r.returning).select_from(
        returns.join(per_cohort, per_cohort.c.cohort == r.cohort)
    )
    sizes, returning = Counter(), Counter()
    for row in reader.rows(stmt, query):
        cohort = int(row["cohort"])
        sizes[cohort] = int(row["visitors"])
        returning[cohort, int(row["day"])] = int(row["returning"])
    return sizes, returning


def _local_day(reader: Reader, query: Query, us: sa.ColumnElement) -> sa.ColumnElement:
    return reader.dialect.div(Q.local_us(us, query.offsets), T.US_PER_DAY)


def _active_from_events(reader: Reader, query: Query) -> sa.Subquery:
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
        sa.select(e.c.session_id, local_day.label("day"), hit.label("hit"))
        .select_from(events.from_())
        .where(
            e.c.website_id == query.website_id,
            e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
        )
        .subquery("active")
    )


def _active_from_slices(reader: Reader, query: Query) -> sa.Subquery | None:
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
    return sa.select(
        days.c.session_id, days.c.day, sa.literal(1, sa.Integer).label("hit")
    ).subquery("active")

"""Funnel (docs: Funnel; API › Reports › funnel): how many visitors reach each step in order,
each step within `window` minutes of the previous one (docs/query-formulas.md#funnel).

Level 1 is the step-1 events of the range that pass the request's filters; level k is the
step-k events of the same sessions at or after a level k−1 time and at most `window` after it.
Umami joins every level to all of its candidates (quadratic in a session's matching events);
here each level is one ordered pass: the candidates are interleaved with the previous level's
times per session, and a running maximum gives each candidate the latest earlier level time —
the event qualifies when that time lies within the window. Like Umami on PostgreSQL, the
filters select level 1 only; later steps are any events of the same sessions. On ClickHouse
the same levels come from per-session arrays (window functions are its weak spot); its
`windowFunnel` is not used because it measures the window from the first step, not the previous.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.dialects import BigInt
from katsuo.analytics.query import Query
from katsuo.analytics.reports import output
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.reports.steps import Step, column, data_clause, matches, parse_step
from katsuo.analytics.runner import Reader
from katsuo.store import schema

MIN_STEPS, MAX_STEPS = 2, 8
e = schema.website_event


def _condition(reader: Reader, query: Query, step: Step) -> sa.ColumnElement:
    clause = matches(reader.dialect, column(step.type), step.value)
    if step.type == "event" and step.data:
        # Event-data conditions apply to event steps only, as in Umami.
        clause = sa.and_(clause, *(data_clause(reader.dialect, query, c) for c in step.data))
    return clause


def _levels(reader: Reader, query: Query, steps: list[Step], window_us: int) -> sa.Select:
    dialect = reader.dialect
    events = Q.Events(query, dialect, types=None)
    level = (
        events.select(e.c.session_id, events.us().label("t"))
        .where(_condition(reader, query, steps[0]))
        .cte("level1")
    )
    levels = [level]
    # Every later step's candidates in one scan, a flag per step. (Restricting them to level-1
    # sessions first misleads PostgreSQL into an index lookup per session.)
    later = (
        sa.select(
            e.c.session_id,
            dialect.epoch_us(e.c.created_at).label("t"),
            *(
                _condition(reader, query, step).label(f"s{k}")
                for k, step in enumerate(steps[1:], 2)
            ),
        )
        .where(
            e.c.website_id == query.website_id,
            e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
            sa.or_(*(_condition(reader, query, step) for step in steps[1:])),
        )
        .cte("candidates")
    )
    for k in range(2, len(steps) + 1):
        merged = sa.union_all(
            sa.select(level.c.session_id, level.c.t, sa.literal(0, sa.SmallInteger).label("kind")),
            sa.select(
                later.c.session_id, later.c.t, sa.literal(1, sa.SmallInteger).label("kind")
            ).where(later.c[f"s{k}"]),
        ).subquery(f"merged{k}")
        m = merged.c
        # Previous-level rows sort before candidates at the same time: a step may follow the
        # previous one in the same instant (even be the same event).
        latest = sa.func.max(sa.case((m.kind == 0, m.t))).over(
            partition_by=m.session_id, order_by=(m.t, m.kind), rows=(None, 0)
        )
        ranked = sa.select(m.session_id, m.t, m.kind, latest.label("p")).subquery(f"ranked{k}")
        r = ranked.c
        level = (
            sa.select(r.session_id, r.t)
            .where(r.kind == 1, r.p.is_not(None), r.t - r.p <= sa.literal(window_us, BigInt))
            .cte(f"level{k}")
        )
        levels.append(level)
    return sa.union_all(
        *(
            sa.select(
                sa.literal(k, sa.Integer).label("level"),
                sa.func.count(sa.distinct(lv.c.session_id)).label("visitors"),
            )
            for k, lv in enumerate(levels, 1)
        )
    )


def _levels_by_session(
    reader: Reader, query: Query, steps: list[Step], window_us: int
) -> sa.Select:
    """The same levels for engines that prefer arrays to window functions (ClickHouse): per
    session, the times of each step's candidates in one pass, then level k keeps the step-k
    times with a level k−1 time at or before them and at most `window` earlier."""
    dialect = reader.dialect
    events = Q.Events(query, dialect, types=None)
    n = len(steps)
    no, yes = sa.literal(False, sa.Boolean), sa.literal(True, sa.Boolean)
    first = events.select(
        e.c.session_id,
        events.us().label("t"),
        yes.label("s1"),
        *(no.label(f"s{k}") for k in range(2, n + 1)),
    ).where(_condition(reader, query, steps[0]))
    later = sa.select(
        e.c.session_id,
        dialect.epoch_us(e.c.created_at).label("t"),
        no.label("s1"),
        *(_condition(reader, query, step).label(f"s{k}") for k, step in enumerate(steps[1:], 2)),
    ).where(
        e.c.website_id == query.website_id,
        e.c.created_at.between(Q.at(query.start_us), Q.at(query.end_us)),
        sa.or_(*(_condition(reader, query, step) for step in steps[1:])),
    )
    hits = sa.union_all(first, later).subquery("hits")
    times = [dialect.times_where(hits.c.t, hits.c[f"s{k}"]).label(f"c{k}") for k in range(1, n + 1)]
    sessions = sa.select(*times).group_by(hits.c.session_id).subquery("sessions")
    level = sessions.c.c1
    levels = [level]
    for k in range(2, n + 1):
        level = dialect.times_after(sessions.c[f"c{k}"], level, window_us)
        levels.append(level)
    return sa.select(*(dialect.count_nonempty(lv).label(f"v{k}") for k, lv in enumerate(levels, 1)))


def run(reader: Reader, query: Query, params: Parameters) -> list[dict]:
    steps = [
        parse_step(raw, f"parameters.steps.{i}")
        for i, raw in enumerate(params.items("steps", MIN_STEPS, MAX_STEPS))
    ]
    # Minutes, as the Funnel page and Umami's server have it (the API page's "days" is a slip).
    # A window longer than the range changes nothing, which also keeps it inside a bigint.
    window_us = min(
        round(params.number("window") * T.US_PER_MINUTE), max(0, query.end_us - query.start_us) + 1
    )
    counts = [0] * len(steps)
    if not query.empty and reader.dialect.prefers_arrays:
        row = reader.one(_levels_by_session(reader, query, steps, window_us), query)
        counts = [int(row[f"v{k}"]) for k in range(1, len(steps) + 1)]
    elif not query.empty:
        for row in reader.rows(_levels(reader, query, steps, window_us), query):
            counts[row["level"] - 1] = int(row["visitors"])
    result = []
    for i, step in enumerate(steps):
        visitors = counts[i]
        previous = counts[i - 1] if i > 0 else 0
        result.append(
            {
                **step.as_json(),
                "visitors": visitors,
                "previous": previous,
                "dropped": previous - visitors if previous > 0 else 0,
                # 1 − visitors/previous and visitors/first with JavaScript's non-finite → null.
                "dropoff": None if previous == 0 else output.number(1 - visitors / previous),
                "remaining": output.ratio(visitors, counts[0]),
            }
        )
    return result

"""Whole visits from the visit slices' journey rows (one per visit, spanning it: slices.py), for
the reports that need each visit's events together — journey and retention.

A visit lying wholly inside the range, with no pending events, is its journey row. The others
with events in range — crossing an end of the range, with pending events, or ruled out by the
caller (`also_raw`) — are "raw" visits: the caller reads their events, found by id within a few
time windows. With more raw visits than MAX_RAW_VISITS the caller reads all the range's events
instead.

Only session-level filters keep every event of a visit or none (`decider.decide_journeys`
decides); they and the cohort apply to journey rows through the session attributes
the rows carry.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.dialects import BigInt
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.analytics.slices import DIM_JOURNEY
from katsuo.store import schema

# Visits whose events are read, at most: beyond, the whole report reads the events.
MAX_RAW_VISITS = 5000
# Event-time windows read for those visits, at most (nearby ones are merged).
MAX_WINDOWS = 16

slice_t = schema.visit_slice
pending_t = schema.slice_pending
e = schema.website_event


@dataclass
class WholeVisits:
    """`whole`: the WHERE clauses selecting the journey rows that answer for their visits;
    `raw`: the WHERE clauses (on website_event) selecting the other visits' events in range —
    to be used with `sql.Events(query)`, which adds the range and the filters."""

    whole: list[sa.ColumnElement]
    raw: list[sa.ColumnElement] | None  # None: no visit needs its events read


def whole_visits(
    reader: Reader, query: Query, also_raw: sa.ColumnElement | None = None
) -> WholeVisits | None:
    """The split of the range's visits (see the module docstring), or None when too many
    visits would need their events read. `also_raw`: a condition on journey rows whose visits
    must be read from their events too."""
    dialect, s = reader.dialect, slice_t
    start, end = sa.literal(query.start_us, BigInt), sa.literal(query.end_us, BigInt)
    overlapping = [
        s.c.website_id == query.website_id,
        s.c.dim == DIM_JOURNEY,
        s.c.group_last_us >= start,
        s.c.first_us <= end,
    ]
    spans = _raw_spans(reader, query, overlapping, also_raw)
    if spans is None:
        return None
    ids = list(spans)
    whole = [
        *overlapping,
        s.c.first_us >= start,
        s.c.last_us <= end,
        *([s.c.visit_id.not_in(ids)] if ids else []),
        *Q.filters_clauses(dialect, query.filters, lambda f: s.c[f.column]),
        *(
            [s.c.session_id.in_(Q.cohort_sessions(dialect, query.website_id, query.cohort))]
            if query.cohort is not None
            else []
        ),
    ]
    if not ids:
        return WholeVisits(whole, None)
    windows = [e.c.created_at.between(Q.at(lo), Q.at(hi)) for lo, hi in _windows(query, spans)]
    return WholeVisits(whole, [e.c.visit_id.in_(ids), sa.or_(*windows)])


def _raw_spans(
    reader: Reader, query: Query, overlapping: list, also_raw: sa.ColumnElement | None
) -> dict | None:
    """The visits with events in range that their journey row cannot answer, with the span of
    their known events; None past MAX_RAW_VISITS."""
    s, p = slice_t, pending_t
    start, end = sa.literal(query.start_us, BigInt), sa.literal(query.end_us, BigInt)
    pending = (
        sa.select(p.c.visit_id)
        .where(p.c.website_id == query.website_id, p.c.created_us.between(start, end))
        .distinct()
        .subquery("pending_visits")
    )
    unanswered = [
        s.c.first_us < start,
        s.c.last_us > end,
        s.c.visit_id.in_(sa.select(pending.c.visit_id)),
        *([also_raw] if also_raw is not None else []),
    ]
    spans = sa.union_all(
        sa.select(s.c.visit_id, s.c.first_us.label("lo"), s.c.last_us.label("hi")).where(
            *overlapping, sa.or_(*unanswered)
        ),
        sa.select(p.c.visit_id, p.c.created_us, p.c.created_us).where(
            p.c.visit_id.in_(sa.select(pending.c.visit_id))
        ),
    ).subquery("spans")
    stmt = (
        sa.select(spans.c.visit_id, sa.func.min(spans.c.lo), sa.func.max(spans.c.hi))
        .group_by(spans.c.visit_id)
        .limit(MAX_RAW_VISITS + 1)
    )
    found = reader.execute(stmt)
    if len(found) > MAX_RAW_VISITS:
        return None
    return {visit: (lo, hi) for visit, lo, hi in found}


def _windows(query: Query, spans: dict) -> list[tuple[int, int]]:
    """The event times to read for the raw visits: their spans within the range, merged where
    they overlap or lie close, then widened to at most MAX_WINDOWS windows."""
    clipped = sorted((max(lo, query.start_us), min(hi, query.end_us)) for lo, hi in spans.values())
    merged: list[list[int]] = []
    for lo, hi in clipped:
        if merged and lo <= merged[-1][1] + T.US_PER_HOUR:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    while len(merged) > MAX_WINDOWS:
        gaps = [merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)]
        i = gaps.index(min(gaps))
        merged[i : i + 2] = [[merged[i][0], merged[i + 1][1]]]
    return [(lo, hi) for lo, hi in merged]

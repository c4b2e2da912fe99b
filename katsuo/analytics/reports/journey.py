"""Journey (docs: Journey; API › Reports › journey): the most common paths through the site —
each visit's first `steps` events in time order, labelled by event name or else page path,
counted per sequence (queries.md §15.4).

A visit's first events come from a bounded top-n aggregate per visit (`Dialect.first_values`)
rather than numbering every event of the range; `startStep` must be the first item, `endStep`
the last one present. The top 100 sequences by count come back as `items` in Umami's shape.

With the visit slices built and only session-level filters, the journeys come from the slices'
journey dimension instead (one row per visit holding its first steps): a visit wholly inside the
range is that row, cut to `steps`; the few visits crossing the range's ends or with events still
pending are computed from their events, found by id.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics import timeframe as T
from katsuo.analytics.dialects import BigInt
from katsuo.analytics.query import Query
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.reports.steps import with_event_type
from katsuo.analytics.runner import Reader
from katsuo.analytics.slices import (
    DIM_JOURNEY,
    JOURNEY_SEP,
    JOURNEY_STEPS,
    journey_label,
    journey_text,
)
from katsuo.store import schema

# The docs: "Range is between 3 to 7 steps" (Umami 3.1 also accepts 2; Katsuo follows the docs).
MIN_STEPS, MAX_STEPS = 3, 7
SLOTS = JOURNEY_STEPS  # the reference always reads e1 … e7
TOP = 100
# Visits computed from their events, at most: beyond, the whole report reads the events.
MAX_DIRTY_VISITS = 5000
# Event-time windows read for those visits, at most (nearby ones are merged).
MAX_WINDOWS = 16
e = schema.website_event
slice_t = schema.visit_slice
pending_t = schema.slice_pending

_ABSENT = object()  # a slot past `steps`: missing from the reference's row, unlike a SQL NULL


def items(sequence: list[str], steps: int) -> list[str | None]:
    """Umami's `items`: slots e1…e7 — the visit's events, SQL NULLs up to `steps`, then absent
    slots — with consecutive equal entries collapsed; NULL and absent both serialise as null, so
    up to two trailing nulls appear, as in the docs' example."""
    slots: list = [*sequence, *([None] * (steps - len(sequence))), *([_ABSENT] * (SLOTS - steps))]
    collapsed = [slot for i, slot in enumerate(slots) if i == 0 or slot != slots[i - 1]]
    return [None if slot is _ABSENT else slot for slot in collapsed]


def run(reader: Reader, query: Query, params: Parameters) -> list[dict]:
    steps = params.integer("steps", MIN_STEPS, MAX_STEPS)
    start_step = params.text("startStep", required=False)
    end_step = params.text("endStep", required=False)
    if params.get("eventType") not in (None, ""):
        # The UI's choice of views (1) or events (2) replaces an eventType filter, as in Umami.
        kind = params.integer("eventType", 1, 5)
        query = with_event_type(
            query, F.parse_value("parameters.eventType", "eventType", str(kind))
        )
    if query.empty:
        return []
    sequences = _from_slices(reader, query, steps) if _sliceable(reader, query) else None
    if sequences is not None:
        return _counted_texts(reader, query, sequences, steps, start_step, end_step)
    return _counted_lists(reader, query, steps, start_step, end_step)


def _counted_lists(
    reader: Reader, query: Query, steps: int, start_step: str | None, end_step: str | None
) -> list[dict]:
    """The journeys from the range's events: each visit's first labels as a list."""
    events = Q.Events(query, reader.dialect, types=None)
    visits = (
        events.select(
            reader.dialect.first_values(journey_label(e.c), e.c.created_at, steps).label("items"),
        )
        .group_by(e.c.visit_id)
        .subquery("visits")
    )
    sequence = visits.c["items"]
    conditions = []
    if start_step is not None:
        conditions.append(reader.dialect.element(sequence, 1) == start_step)
    if end_step is not None:
        conditions.append(reader.dialect.element(sequence, -1) == end_step)
    return [
        {"items": items(list(row["items"]), steps), "count": int(row["count"])}
        for row in reader.rows(_top(sequence, conditions), query)
    ]


def _top(sequence: sa.ColumnElement, conditions: list) -> sa.Select:
    """The TOP sequences meeting the step conditions, by count."""
    count = sa.func.count().label("count")
    return (
        sa.select(sequence.label("items"), count)
        .where(*conditions)
        .group_by(sequence)
        .order_by(count.desc(), sequence)
        .limit(TOP)
    )


# --- from the visit slices ----------------------------------------------------------------------


def _sliceable(reader: Reader, query: Query) -> bool:
    """The optimizer's rule for journeys: slices are built and every filter is on the session
    (an event filter changes which events make up a visit's steps)."""
    return reader.slices_ready and all(f.is_session for f in query.filters.items)


def _from_slices(reader: Reader, query: Query, steps: int) -> sa.Subquery | None:
    """Each visit's first `steps` labels as one text (slices.journey_text), one row per visit
    with an event in range; None when too many visits need their events read."""
    dialect, s = reader.dialect, slice_t
    start, end = sa.literal(query.start_us, BigInt), sa.literal(query.end_us, BigInt)
    overlapping = [
        s.c.website_id == query.website_id,
        s.c.dim == DIM_JOURNEY,
        s.c.group_last_us >= start,
        s.c.first_us <= end,
    ]
    dirty = _dirty_visits(reader, query, overlapping)
    if dirty is None:
        return None
    ids = list(dirty)
    whole = sa.select(_cut(dialect, s.c.value, steps).label("items")).where(
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
    )
    if not ids:
        return whole.subquery("sequences")
    events = Q.Events(query, dialect, types=None)
    windows = [e.c.created_at.between(Q.at(lo), Q.at(hi)) for lo, hi in _windows(query, dirty)]
    recomputed = (
        events.select(
            journey_text(dialect.first_values(journey_label(e.c), e.c.created_at, steps)).label(
                "items"
            )
        )
        .where(e.c.visit_id.in_(ids), sa.or_(*windows))
        .group_by(e.c.visit_id)
    )
    return sa.union_all(whole, recomputed).subquery("sequences")


def _dirty_visits(reader: Reader, query: Query, overlapping: list) -> dict | None:
    """Visits with events in range that their journey slice cannot answer — it crosses an end
    of the range, or the visit has pending events — with the span of their known events."""
    s, p = slice_t, pending_t
    pending = (
        sa.select(p.c.visit_id)
        .where(
            p.c.website_id == query.website_id,
            p.c.created_us.between(
                sa.literal(query.start_us, BigInt), sa.literal(query.end_us, BigInt)
            ),
        )
        .distinct()
        .subquery("pending_visits")
    )
    spans = sa.union_all(
        sa.select(s.c.visit_id, s.c.first_us.label("lo"), s.c.last_us.label("hi")).where(
            *overlapping,
            sa.or_(
                s.c.first_us < sa.literal(query.start_us, BigInt),
                s.c.last_us > sa.literal(query.end_us, BigInt),
                s.c.visit_id.in_(sa.select(pending.c.visit_id)),
            ),
        ),
        sa.select(p.c.visit_id, p.c.created_us, p.c.created_us).where(
            p.c.visit_id.in_(sa.select(pending.c.visit_id))
        ),
    ).subquery("spans")
    stmt = (
        sa.select(spans.c.visit_id, sa.func.min(spans.c.lo), sa.func.max(spans.c.hi))
        .group_by(spans.c.visit_id)
        .limit(MAX_DIRTY_VISITS + 1)
    )
    found = reader.conn.execute(stmt).all()
    if len(found) > MAX_DIRTY_VISITS:
        return None
    return {visit: (lo, hi) for visit, lo, hi in found}


def _windows(query: Query, dirty: dict) -> list[tuple[int, int]]:
    """The event times to read for the dirty visits: their spans within the range, merged
    where they overlap or lie close, then widened to at most MAX_WINDOWS windows."""
    spans = sorted((max(lo, query.start_us), min(hi, query.end_us)) for lo, hi in dirty.values())
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + T.US_PER_HOUR:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    while len(merged) > MAX_WINDOWS:
        gaps = [merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)]
        i = gaps.index(min(gaps))
        merged[i : i + 2] = [[merged[i][0], merged[i + 1][1]]]
    return [(lo, hi) for lo, hi in merged]


def _cut(dialect, value: sa.ColumnElement, steps: int) -> sa.ColumnElement:
    """A journey value cut to its first `steps` labels."""
    if steps >= JOURNEY_STEPS:
        return value
    sep = JOURNEY_SEP
    return dialect.leading_match(value, f"^(?:{sep}[^{sep}]*){{1,{steps}}}")


def _counted_texts(
    reader: Reader,
    query: Query,
    sequences: sa.Subquery,
    steps: int,
    start_step: str | None,
    end_step: str | None,
) -> list[dict]:
    text = sequences.c["items"]
    sep = JOURNEY_SEP
    conditions = []
    if start_step is not None:
        first = sep + start_step
        conditions.append(sa.or_(text == first, text.startswith(first + sep, autoescape=True)))
    if end_step is not None:
        conditions.append(text.endswith(sep + end_step, autoescape=True))
    found = [
        (row["items"].split(sep)[1:], int(row["count"]))
        for row in reader.rows(_top(text, conditions), query)
    ]
    found.sort(key=lambda pair: (-pair[1], pair[0]))
    return [{"items": items(labels, steps), "count": count} for labels, count in found]

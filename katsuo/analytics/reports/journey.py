"""Journey (docs: Journey; API › Reports › journey): the most common paths through the site —
each visit's first `steps` events in time order, labelled by event name or else page path,
counted per sequence (docs/query-formulas.md#journey).

A visit's first events come from a bounded top-n aggregate per visit (`Dialect.first_values`)
rather than numbering every event of the range; `startStep` must be the first item, `endStep`
the last one present. The top 100 sequences by count come back as `items` in Umami's shape.

With the visit slices built and only session-level filters, the journeys come from the slices'
journey rows instead (one per visit, holding its first steps; `visits.py`): a visit wholly inside
the range is that row, cut to `steps`; the few others are computed from their events.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics import visits
from katsuo.analytics.decider import decide_journeys
from katsuo.analytics.query import Query
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.reports.steps import with_event_type
from katsuo.analytics.runner import Reader
from katsuo.analytics.slices import (
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
e = schema.website_event
slice_t = schema.visit_slice

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
    sliced = decide_journeys(reader, query).slices
    sequences = _from_slices(reader, query, steps) if sliced else None
    if sequences is not None:
        return _counted_texts(reader, query, sequences, steps, start_step, end_step)
    return _counted_lists(reader, query, steps, start_step, end_step)


def _counted_lists(
    reader: Reader, query: Query, steps: int, start_step: str | None, end_step: str | None
) -> list[dict]:
    """The journeys from the range's events: each visit's first labels as a list."""
    events = Q.Events(query, reader.dialect, types=None)
    per_visit = (
        events.select(
            reader.dialect.first_values(journey_label(e.c), e.c.created_at, steps).label("items"),
        )
        .group_by(e.c.visit_id)
        .subquery("visits")
    )
    sequence = per_visit.c["items"]
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


def _from_slices(reader: Reader, query: Query, steps: int) -> sa.Subquery | None:
    """Each visit's first `steps` labels as one text (slices.journey_text), one row per visit
    with an event in range; None when too many visits need their events read."""
    split = visits.whole_visits(reader, query)
    if split is None:
        return None
    dialect, s = reader.dialect, slice_t
    whole = sa.select(_cut(dialect, s.c.value, steps).label("items")).where(*split.whole)
    if split.raw is None:
        return whole.subquery("sequences")
    recomputed = (
        Q.Events(query, dialect, types=None)
        .select(
            journey_text(dialect.first_values(journey_label(e.c), e.c.created_at, steps)).label(
                "items"
            )
        )
        .where(*split.raw)
        .group_by(e.c.visit_id)
    )
    return sa.union_all(whole, recomputed).subquery("sequences")


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
    """The journeys from `_from_slices`' texts: counted, split back into labels."""
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

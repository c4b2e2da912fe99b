"""Journey (docs: Journey; API › Reports › journey): the most common paths through the site —
each visit's first `steps` events in time order, labelled by event name or else page path,
counted per sequence (queries.md §15.4).

A visit's first events come from a bounded top-n aggregate per visit (`Dialect.first_values`)
rather than numbering every event of the range; `startStep` must be the first item, `endStep`
the last one present. The top 100 sequences by count come back as `items` in Umami's shape.
"""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import filters as F
from katsuo.analytics import sql as Q
from katsuo.analytics.query import Query
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.reports.steps import journey_label, with_event_type
from katsuo.analytics.runner import Reader
from katsuo.store import schema

# The docs: "Range is between 3 to 7 steps" (Umami 3.1 also accepts 2; Katsuo follows the docs).
MIN_STEPS, MAX_STEPS = 3, 7
SLOTS = 7  # the reference always reads e1 … e7
TOP = 100
e = schema.website_event

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
    events = Q.Events(query, reader.dialect, types=None)
    visits = (
        events.select(
            reader.dialect.first_values(journey_label(), e.c.created_at, steps).label("items"),
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
    count = sa.func.count().label("count")
    stmt = (
        sa.select(sequence.label("items"), count)
        .where(*conditions)
        .group_by(sequence)
        .order_by(count.desc(), sequence)
        .limit(TOP)
    )
    return [
        {"items": items(list(row["items"]), steps), "count": int(row["count"])}
        for row in reader.rows(stmt, query)
    ]

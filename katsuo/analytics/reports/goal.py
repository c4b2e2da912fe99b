"""Goal (docs: Goals; API › Reports › goals): how many of the range's visitors viewed a page or
triggered an event (docs/query-formulas.md#goal). `num` counts sessions with a matching page view (`path`)
or custom event (`event`), `total` every session with any event, both under the filters."""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics.query import Query
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.reports.steps import (
    PAGE_VIEW,
    PATH,
    STEP_TYPES,
    column,
    matches,
    with_event_type,
)
from katsuo.analytics.runner import Reader
from katsuo.store import schema

e = schema.website_event


def run(reader: Reader, query: Query, params: Parameters) -> dict:
    # The docs name the two goal types; Umami 3.1 treats anything but `path` as an event.
    goal_type = params.choice("type", STEP_TYPES)
    value = params.text("value")
    if query.empty:
        return {"num": 0, "total": 0}
    # The goal's own event type replaces an eventType filter, in both counts, as in Umami.
    query = with_event_type(query)
    events = Q.Events(query, reader.dialect, types=None)
    event_type = PAGE_VIEW if goal_type == PATH else Q.CUSTOM_EVENT
    converted = sa.and_(
        e.c.event_type == event_type, matches(reader.dialect, column(goal_type), value)
    )
    row = reader.one(
        events.select(
            sa.func.count(sa.distinct(sa.case((converted, e.c.session_id)))).label("num"),
            sa.func.count(sa.distinct(e.c.session_id)).label("total"),
        ),
        query,
    )
    return {"num": int(row.get("num") or 0), "total": int(row.get("total") or 0)}

"""UTM (docs: UTM; API › Reports › utm): page views per value of each of the five campaign
parameters, top 50 each (docs/query-formulas.md#utm). One scan of the range's campaign page views feeds
all five lists."""

from __future__ import annotations

import sqlalchemy as sa

from katsuo.analytics import sql as Q
from katsuo.analytics.query import Query
from katsuo.analytics.reports.params import Parameters
from katsuo.analytics.reports.steps import PAGE_VIEW, with_event_type
from katsuo.analytics.runner import Reader
from katsuo.store import schema

# Response keys in the documented order, with their columns.
UTM_COLUMNS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
TOP = 50
e = schema.website_event


def run(reader: Reader, query: Query, params: Parameters) -> dict:
    result: dict[str, list] = {name: [] for name in UTM_COLUMNS}
    if query.empty:
        return result
    # Page views only: Umami sets eventType to page views, replacing any eventType filter.
    events = Q.Events(with_event_type(query), reader.dialect, types=None)
    campaign = (
        events.select(*(e.c[name] for name in UTM_COLUMNS))
        .where(
            e.c.event_type == PAGE_VIEW,
            sa.or_(*(sa.func.coalesce(e.c[name], "") != "" for name in UTM_COLUMNS)),
        )
        .cte("campaign")
    )
    views = sa.func.count().label("views")
    parts = []
    for name in UTM_COLUMNS:
        column = campaign.c[name]
        parts.append(
            sa.select(sa.literal(name, sa.String).label("param"), column.label("utm"), views)
            .where(sa.func.coalesce(column, "") != "")
            .group_by(column)
        )
    for row in reader.rows(sa.union_all(*parts), query):
        result[row["param"]].append({"utm": row["utm"], "views": int(row["views"])})
    for name, found in result.items():
        found.sort(key=lambda item: (-item["views"], item["utm"]))
        del found[TOP:]
    return result

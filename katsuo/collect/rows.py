"""The rows a hit becomes, one typed tuple per table row, and `Batch`: the rows of many hits that
the writer commits together.

Hooks registered on the writer (`Writer.hooks`) receive the committed-to-be Batch inside the
writer's transaction, after its rows were inserted, so tables derived from these (per-visit
summaries and the like) stay in step with them. Field names are the column names; ids are UUID
strings, times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple


class SessionRow(NamedTuple):
    """`session`: inserted when a hit has no valid cache token; the first write wins."""

    session_id: str
    website_id: str
    browser: str | None
    os: str | None
    device: str | None
    screen: str | None
    language: str | None
    country: str | None
    region: str | None
    city: str | None
    distinct_id: str | None
    created_at: datetime


class EventRow(NamedTuple):
    """`website_event`: one per page view, custom event, link/pixel hit or performance beacon."""

    event_id: str
    website_id: str
    session_id: str
    visit_id: str
    created_at: datetime
    url_path: str
    url_query: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    referrer_path: str | None
    referrer_query: str | None
    referrer_domain: str | None
    page_title: str | None
    gclid: str | None
    fbclid: str | None
    msclkid: str | None
    ttclid: str | None
    li_fat_id: str | None
    twclid: str | None
    event_type: int
    event_name: str | None
    tag: str | None
    hostname: str | None
    lcp: float | None
    inp: float | None
    fcp: float | None
    ttfb: float | None
    cls: float | None


class EventDataRow(NamedTuple):
    """`event_data`: one per flattened property of an event's data."""

    event_data_id: str
    website_id: str
    website_event_id: str
    data_key: str
    string_value: str | None
    number_value: Decimal | None
    date_value: datetime | None
    data_type: int
    created_at: datetime


class SessionDataRow(NamedTuple):
    """`session_data`: one per flattened property of an identify call; upserted per
    (session_id, data_key), later calls overwriting earlier ones."""

    session_data_id: str
    website_id: str
    session_id: str
    data_key: str
    string_value: str | None
    number_value: Decimal | None
    date_value: datetime | None
    data_type: int
    distinct_id: str | None
    created_at: datetime


class RevenueRow(NamedTuple):
    """`revenue`: one per event whose data carries a positive `revenue` and a `currency`."""

    revenue_id: str
    website_id: str
    session_id: str
    event_id: str
    event_name: str
    currency: str
    revenue: Decimal
    created_at: datetime


@dataclass(slots=True)
class Batch:
    """Rows of one or more hits, per table, in arrival order."""

    sessions: list[SessionRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    event_data: list[EventDataRow] = field(default_factory=list)
    session_data: list[SessionDataRow] = field(default_factory=list)
    revenue: list[RevenueRow] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        self.sessions.extend(other.sessions)
        self.events.extend(other.events)
        self.event_data.extend(other.event_data)
        self.session_data.extend(other.session_data)
        self.revenue.extend(other.revenue)

    def __len__(self) -> int:
        return (
            len(self.sessions)
            + len(self.events)
            + len(self.event_data)
            + len(self.session_data)
            + len(self.revenue)
        )

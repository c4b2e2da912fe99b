"""The registry: every dimension (what the read path filters on and groups by) and every visit
metric (what it counts per visit), each defined once; docs/read-path.md says how to add one.

A Dimension holds its parameter name, display name, column and level (an event field of
website_event or a session field of session), which requests take it (filter, /metrics type,
report field, the filter dialog, a dashboard tab) and its SQL per source: the raw tables, or the
visit slices when they carry it (their value column for the slice dimension it is, or a session
attribute column of the slice table). A Metric holds its display name and its value per visit,
from the visit's occurrence count and first and last time; a query sums it over visits (visitors,
distinct sessions, is the one metric that is not a sum).

Everything else (filters.py, metric_types.py, reports/params.py, names.page_lists, the builders)
reads these tables at call time, so `register` adds a dimension or metric everywhere at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from katsuo.store import schema

EVENT, SESSION = "event", "session"
DIM_VIEW, DIM_PATH, DIM_REFERRER, DIM_EVENT, DIM_JOURNEY = schema.SLICE_DIMENSIONS

# The dashboard's metric tables come in these groups of tabs, in this order.
GROUPS = ("pages", "sources", "environment", "location", "events")


@dataclass(frozen=True)
class Dimension:
    """A field requests filter on or group by. `column` is None for a computed one (channel)."""

    name: str
    label: str
    column: str | None
    level: str  # EVENT: website_event; SESSION: the session row
    # As a filter: "plain" (`name=…`), "suffixed" (only `name1=…` or a metrics search), or None.
    filter: str | None = "plain"
    metric: bool = True  # a `/metrics` type
    report: bool = False  # a report's filter and breakdown field
    menu: bool = True  # offered by the dashboard's filter dialog (with a plain filter)
    slice_dim: int | None = None  # the visit-slice dimension whose `value` it is
    group: str | None = None  # the dashboard tab group it is shown in (GROUPS)
    tab: str | None = None  # that tab's title
    click: str | None = ""  # the filter a click on a row adds ("": its own name, None: none)
    counts: str = "Visitors"  # what the tab's numbers count
    # Its /metrics key from its column, where that differs from the column (language).
    key: Callable[[sa.ColumnElement], sa.ColumnElement] | None = None

    @property
    def is_session(self) -> bool:
        return self.level == SESSION

    def on(self, event: sa.FromClause, session: sa.FromClause) -> sa.ColumnElement:
        """Its column on the raw tables (website_event, session, or aliases of them)."""
        return (session if self.is_session else event).c[self.column]

    def keyed(self, column: sa.ColumnElement) -> sa.ColumnElement:
        """Its metrics key over its column."""
        return self.key(column) if self.key is not None else column

    @property
    def slice_column(self) -> str | None:
        """The visit slices' column holding it: `value` of its slice dimension, a session
        attribute the slices carry, or None when the slices do not carry it."""
        if self.slice_dim is not None:
            return "value"
        if self.is_session and self.column in schema.visit_slice.c:
            return self.column
        return None

    @property
    def carried_by(self) -> tuple[str, ...]:
        """The derived tables that carry it (the raw tables always do)."""
        return (schema.visit_slice.name,) if self.slice_column is not None else ()


@dataclass(frozen=True)
class Visit:
    """One visit's part in a query, as SQL over the rows of whichever source: its occurrences,
    their first and last time (µs). Metrics are written over this."""

    hits: sa.ColumnElement
    first_us: sa.ColumnElement
    last_us: sa.ColumnElement
    seconds: sa.ColumnElement  # ⌊last − first⌋ in whole seconds


@dataclass(frozen=True)
class Metric:
    """A number per visit, summed over the visits of a row (`per_visit`); or, with `distinct`,
    the distinct count of that id column where the raw queries count distinct ids as Umami
    does."""

    name: str
    label: str
    per_visit: Callable[[Visit], sa.ColumnElement] | None  # None: distinct sessions only
    distinct: str | None = None  # "session_id" or "visit_id"

    @property
    def summed(self) -> bool:
        return self.per_visit is not None


ONE = sa.literal_column("1", sa.BigInteger)
ZERO = sa.literal_column("0", sa.BigInteger)


def _flag(condition: sa.ColumnElement) -> sa.ColumnElement:
    return sa.case((condition, ONE), else_=ZERO)


def _language(column: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.lower(sa.func.left(column, 2))


def _dimensions(*items: Dimension) -> dict[str, Dimension]:
    return {d.name: d for d in items}


def _utm(name: str, column: str, label: str) -> Dimension:
    return Dimension(name, label, column, EVENT, report=True)


# In the filter dialog's order; a group's tabs in this order too.
DIMENSIONS: dict[str, Dimension] = _dimensions(
    Dimension(
        "path",
        "Path",
        "url_path",
        EVENT,
        report=True,
        slice_dim=DIM_PATH,
        group="pages",
        tab="Pages",
    ),
    Dimension(
        "entry",
        "Entry page",
        "url_path",
        EVENT,
        filter="suffixed",
        menu=False,
        group="pages",
        tab="Entry",
        click="path",
    ),
    Dimension(
        "exit",
        "Exit page",
        "url_path",
        EVENT,
        filter="suffixed",
        menu=False,
        group="pages",
        tab="Exit",
        click="path",
    ),
    Dimension(
        "referrer",
        "Referrer",
        "referrer_domain",
        EVENT,
        report=True,
        slice_dim=DIM_REFERRER,
        group="sources",
        tab="Referrers",
    ),
    Dimension(
        "channel",
        "Channel",
        None,
        EVENT,
        filter=None,
        menu=False,
        group="sources",
        tab="Channels",
        click=None,
    ),
    Dimension("title", "Title", "page_title", EVENT, report=True, group="pages", tab="Titles"),
    Dimension("query", "Query", "url_query", EVENT, report=True, group="pages", tab="Query"),
    Dimension(
        "browser",
        "Browser",
        "browser",
        SESSION,
        report=True,
        group="environment",
        tab="Browsers",
    ),
    Dimension("os", "OS", "os", SESSION, report=True, group="environment", tab="OS"),
    Dimension(
        "device", "Device", "device", SESSION, report=True, group="environment", tab="Devices"
    ),
    Dimension(
        "screen",
        "Screen",
        "screen",
        SESSION,
        filter=None,
        menu=False,
        group="environment",
        tab="Screens",
        click=None,
    ),
    Dimension(
        "country", "Country", "country", SESSION, report=True, group="location", tab="Countries"
    ),
    Dimension("region", "Region", "region", SESSION, report=True, group="location", tab="Regions"),
    Dimension("city", "City", "city", SESSION, report=True, group="location", tab="Cities"),
    Dimension(
        "language",
        "Language",
        "language",
        SESSION,
        report=True,
        group="location",
        tab="Languages",
        key=_language,
    ),
    Dimension(
        "hostname", "Hostname", "hostname", EVENT, report=True, group="sources", tab="Hostnames"
    ),
    Dimension("tag", "Tag", "tag", EVENT, report=True, group="sources", tab="Tags"),
    Dimension(
        "event",
        "Event",
        "event_name",
        EVENT,
        report=True,
        slice_dim=DIM_EVENT,
        group="events",
        tab="Events",
        counts="Events",
    ),
    Dimension("distinctId", "Distinct ID", "distinct_id", SESSION, report=True),
    _utm("utmSource", "utm_source", "UTM source"),
    _utm("utmMedium", "utm_medium", "UTM medium"),
    _utm("utmCampaign", "utm_campaign", "UTM campaign"),
    _utm("utmContent", "utm_content", "UTM content"),
    _utm("utmTerm", "utm_term", "UTM term"),
    Dimension(
        "domain",
        "Domain",
        "referrer_domain",
        EVENT,
        filter="suffixed",
        menu=False,
        slice_dim=DIM_REFERRER,
    ),
    Dimension("eventType", "Event type", "event_type", EVENT, metric=False, menu=False),
)

# The visit metrics, in the order responses list them.
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("pageviews", "Views", lambda v: v.hits),
        Metric("visitors", "Visitors", None, distinct="session_id"),
        Metric("visits", "Visits", lambda v: ONE, distinct="visit_id"),
        Metric("bounces", "Bounces", lambda v: _flag(v.hits == 1)),
        Metric("totaltime", "Visit time", lambda v: v.seconds),
    )
}


# --- the one way to add (and, for tests, remove) an entry -----------------------------------------


def register(entry: Dimension | Metric) -> None:
    """Add a dimension or a metric; every request, list and builder sees it from now on."""
    table: dict = DIMENSIONS if isinstance(entry, Dimension) else METRICS
    if entry.name in table:
        raise ValueError(f"{entry.name!r} is registered already")
    table[entry.name] = entry


def unregister(name: str) -> None:
    DIMENSIONS.pop(name, None)
    METRICS.pop(name, None)


# --- views of the tables ------------------------------------------------------------------------


def filters() -> dict[str, Dimension]:
    """The dimensions a filter parameter may name."""
    return {n: d for n, d in DIMENSIONS.items() if d.filter is not None}


def metric_types() -> dict[str, Dimension]:
    """The dimensions `/metrics?type=` may name."""
    return {n: d for n, d in DIMENSIONS.items() if d.metric}


def report_fields() -> tuple[str, ...]:
    """The fields a report can filter on and break down by."""
    return tuple(n for n, d in DIMENSIONS.items() if d.report)


def menu() -> list[Dimension]:
    """The fields the filter dialog offers."""
    return [d for d in DIMENSIONS.values() if d.menu and d.filter == "plain"]


def summed_metrics() -> list[Metric]:
    return [m for m in METRICS.values() if m.summed]


def metric_groups() -> list[dict]:
    """The dashboard's metric tables: per group, its tabs as [type, title, click filter, counts]."""
    groups = []
    for group in GROUPS:
        tabs = [
            [d.name, d.tab, d.name if d.click == "" else d.click, d.counts]
            for d in DIMENSIONS.values()
            if d.group == group
        ]
        groups.append({"id": group, "tabs": tabs})
    return groups

"""The table decider: which source answers a query — the visit slices, the raw events, or
ClickHouse's rollups. The one place that knows when derived data answers
exactly (docs/read-path.md#the-decider).

The slices answer when they are built and complete for the website, the query has no
`excludeBounce`, its filters are session fields plus at most one `path` equal to one value (the
dashboard's click-to-filter), the range spans at least one whole half hour, and every dimension
the query groups by is carried by one slice dimension (registry.Dimension.slice_column).
Bucketed series also need zone offsets that fall on half hours.

ClickHouse's rollups (rollups.py) answer first where the engine keeps them: the totals, the series
and one dimension's counts, for a query with no cohort or `excludeBounce` that covers a whole
hour, grouped by at most one column the rollups carry (not the visits' entry and exit), and
with no filters except on session attributes for what the visit rollup answers;
every metric per combination of session attributes comes from the visit rollup
(`decide_attributes`). Before them, ClickHouse's pointer rows (pointers.py) answer the totals and
the distinct sessions per value of one column (pointers.KINDS) over an unfiltered range starting
on an hour, where they are kept (`decide_pointers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from katsuo.analytics import pointers, rollups
from katsuo.analytics import registry as R
from katsuo.analytics import timeframe as T
from katsuo.analytics.query import Query
from katsuo.analytics.runner import Reader
from katsuo.analytics.slices import SLOT_US
from katsuo.analytics.summary import RAW_ONLY, body_bounds, path_restriction

DIM_VIEW, DIM_PATH, DIM_EVENT, DIM_JOURNEY = R.DIM_VIEW, R.DIM_PATH, R.DIM_EVENT, R.DIM_JOURNEY
# The slice dimensions that hold every view (the others keep only some: countable referrers).
EVERY_VIEW = (DIM_VIEW, DIM_PATH)


class Source(Enum):
    SLICES = "slices"
    RAW = "raw"
    # ClickHouse's rollups (rollups.py), on an engine that keeps them (Engine.ROLLUPS).
    ROLLUPS = "rollups"
    # ClickHouse's pointer rows (pointers.py): totals, series, weekly grid, sessions per value.
    POINTERS = "pointers"


@dataclass(frozen=True)
class Decision:
    source: Source
    dim: int | None = None  # the slice dimension, with Source.SLICES
    until_us: int | None = None  # with Source.POINTERS: the end of the hours they answer

    @property
    def slices(self) -> bool:
        return self.source is Source.SLICES

    @property
    def rollups(self) -> bool:
        return self.source is Source.ROLLUPS

    @property
    def pointers(self) -> bool:
        return self.source is Source.POINTERS


RAW = Decision(Source.RAW)


def decide(
    reader: Reader,
    query: Query,
    dimensions: Sequence[R.Dimension] = (),
    *,
    events: bool = False,
    every_view: bool = False,
    bucketed: bool = False,
) -> Decision:
    """The source for `query` grouped by `dimensions`. `events`: the query counts custom events
    (the event slices); `every_view`: its rows must hold every view, as the breakdown's do."""
    if reader.engine.ROLLUPS and _rollups_cover(
        query, dimensions, events=events, every_view=every_view, bucketed=bucketed
    ):
        return Decision(Source.ROLLUPS)
    if not _slices_ready(reader, query):
        return RAW
    dim = DIM_EVENT if events else DIM_VIEW
    for dimension in dimensions:
        if dimension.slice_column is None:
            return RAW
        if dimension.slice_dim is None:
            continue  # a session attribute: every slice carries it
        if dim not in (DIM_VIEW, dimension.slice_dim):
            return RAW  # two slice dimensions in one query
        dim = dimension.slice_dim
    if every_view and dim not in EVERY_VIEW:
        return RAW
    return Decision(Source.SLICES, dim) if plannable(query, dim, bucketed=bucketed) else RAW


def decide_pointers(
    reader: Reader,
    query: Query,
    dimensions: Sequence[R.Dimension] = (),
    *,
    bucketed: bool = False,
    weekly: bool = False,
) -> Decision:
    """ClickHouse's pointer rows answer the totals (no dimension; `bucketed`: the series of
    views and sessions; `weekly`: the weekly grid) or the distinct sessions per value of one
    column of pointers.KINDS over a range starting on an hour, with no filter, when they are
    kept for some of its hours and up to a few hours before its end or now, whichever comes
    first."""
    covered = pointers.covers(query, dimensions, bucketed=bucketed, weekly=weekly)
    if not (reader.engine.ROLLUPS and covered):
        return RAW
    if any(d.name in VISIT_PATHS for d in dimensions):
        return RAW
    until = pointers.kept_until(reader.conn, query.website_id)
    # What is read from the events is the range's part up to now: a range ending later (today
    # until midnight) holds no more events.
    rest_us = min(query.end_us, T.to_us(datetime.now(UTC))) - (until or 0)
    if until is None or until <= query.start_us or rest_us > pointers.MAX_REST_US:
        return RAW
    _, whole_end = rollups.whole_hours(query)
    return Decision(Source.POINTERS, until_us=min(until, whole_end))


def decide_overview(
    reader: Reader,
    query: Query,
    dimensions: Sequence[R.Dimension] = (),
    *,
    bucketed: bool = False,
    weekly: bool = False,
) -> Decision:
    """The source of a dashboard request (/stats, /pageviews, /sessions/weekly, /metrics):
    ClickHouse's pointer rows where they answer (`decide_pointers`), else `decide`'s choice
    (the weekly grid is bucketed by cells)."""
    decision = decide_pointers(reader, query, dimensions, bucketed=bucketed, weekly=weekly)
    if decision.pointers:
        return decision
    return decide(reader, query, dimensions, bucketed=bucketed or weekly)


def decide_journeys(reader: Reader, query: Query) -> Decision:
    """The journey slices hold whole visits (visits.py): any range, but only filters on the
    session, which keep every event of a visit or none."""
    if _slices_ready(reader, query) and all(f.is_session for f in query.filters.items):
        return Decision(Source.SLICES, DIM_JOURNEY)
    return RAW


def decide_attributes(
    reader: Reader,
    query: Query,
    dimensions: Sequence[R.Dimension],
    *,
    page_views: bool = False,
) -> Decision:
    """Metrics per value or combination of session attributes (their /metrics and expanded
    tables, the breakdown): ClickHouse's visit rollup answers a query that the rollups cover.
    Its views are every event but custom events and beacons, as the metrics count them; where
    the rows must be page views alone (`page_views`: the breakdown), only a website's query,
    whose views are all page views (links and pixels store their own hit types)."""
    if (
        reader.engine.ROLLUPS
        and (query.target_kind == "website" or not page_views)
        and rollups.covers(query, filtered=True)
        and all(rollups.is_attribute(d) for d in dimensions)
    ):
        return Decision(Source.ROLLUPS)
    return RAW


# Dimensions over a rollup column that count something else than its values' sessions: the
# first and last path of each visit.
VISIT_PATHS = ("entry", "exit")


def _rollups_cover(
    query: Query,
    dimensions: Sequence[R.Dimension],
    *,
    events: bool,
    every_view: bool,
    bucketed: bool,
) -> bool:
    """The rollups answer the totals, the series (of views or of custom events) and one
    dimension's counts per value; the totals and the series of views come from the visit
    rollup, which also applies filters on session attributes."""
    visits = not dimensions and not events
    if every_view or len(dimensions) > 1:
        return False
    if not rollups.covers(query, bucketed=bucketed, filtered=visits):
        return False
    return all(d.column in rollups.COLUMNS and d.name not in VISIT_PATHS for d in dimensions)


def _slices_ready(reader: Reader, query: Query) -> bool:
    return reader.slices_ready and query.website_id not in reader.stale


def plannable(query: Query, dim: int, *, bucketed: bool = False) -> bool:
    """Whether the slices of `dim` answer `query` exactly (analytics/summary.py). Views of one
    path are that path's slices, so a path filter keeps page-view measures plannable."""
    if query.exclude_bounce or query.empty:
        return False
    restriction = path_restriction(query)
    if restriction is RAW_ONLY or (restriction[0] is not None and dim not in EVERY_VIEW):
        return False
    body_start, body_end = body_bounds(query)
    if body_start >= body_end:
        return False
    return not bucketed or (query.unit != "minute" and query.offsets.aligned_to(SLOT_US))

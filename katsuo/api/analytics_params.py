"""The query parameters of the analytics routes, declared once with their types and bounds so
that they are checked before a handler runs and described in the OpenAPI schema.

The analytics parsers (`analytics/query.py`, `filters.py`, …) still read the request's whole
parameter mapping: numbered repeats of a filter (`path1`, `path2`, …) are not declared here and
are accepted as before; the parsers check them with the same rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, Field, create_model

from katsuo import checks
from katsuo.analytics import registry
from katsuo.analytics import timeframe as T
from katsuo.analytics.metric_types import MAX_ROWS
from katsuo.api.inputs import SafeText
from katsuo.api.paging import MAX_PAGE, MAX_PAGE_SIZE


def _blank_is_missing(value: Any) -> Any:
    return None if value == "" else value


def optional(kind: Any, **bounds: Any) -> Any:
    """An optional parameter of type `kind` within `bounds`; empty (`?unit=`) means missing."""
    return Annotated[Annotated[kind, Field(**bounds)] | None, BeforeValidator(_blank_is_missing)]


Text = optional(SafeText, max_length=checks.MAX_TEXT)
EpochMs = optional(
    int, ge=T.MIN_US // T.US_PER_MS, le=T.MAX_US // T.US_PER_MS, description="epoch milliseconds"
)
Rows = optional(int, ge=0, le=MAX_ROWS)


class _Range(BaseModel):
    startAt: EpochMs = None
    endAt: EpochMs = None
    unit: optional(Literal[T.UNITS]) = None  # type: ignore[valid-type]
    timezone: optional(SafeText, max_length=64) = None  # type: ignore[valid-type]
    compare: optional(Literal[T.COMPARES]) = None  # type: ignore[valid-type]
    type: optional(SafeText, max_length=50) = None  # type: ignore[valid-type]
    limit: Rows = None
    offset: Rows = None
    page: optional(int, ge=1, le=MAX_PAGE) = None  # type: ignore[valid-type]
    pageSize: optional(int, ge=1, le=MAX_PAGE_SIZE) = None  # type: ignore[valid-type]
    search: Text = None
    propertyName: Text = None
    segment: optional(UUID) = None  # type: ignore[valid-type]
    cohort: optional(UUID) = None  # type: ignore[valid-type]
    match: optional(Literal["all", "any"]) = None  # type: ignore[valid-type]
    # Any non-empty value turns it on, `false` included, as in Umami.
    excludeBounce: optional(SafeText, max_length=10) = None  # type: ignore[valid-type]


# Every filter field, plain (`path=…`); `eq.`, `neq.`, `c.`, `dnc.`, `re.` or `nre.` prefixes
# select the operator. `entry`, `exit` and `domain` arrive numbered only (the parsers' rule).
AnalyticsParams = create_model(
    "AnalyticsParams",
    __base__=_Range,
    __doc__="Date range, unit, zone, paging, segment or cohort, and filters of analytics routes.",
    **{name: (Text, None) for name, d in sorted(registry.filters().items()) if d.filter == "plain"},
)

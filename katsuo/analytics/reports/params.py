"""A report request: the documented envelope `{websiteId, type, filters, parameters}` turned into
one Query, and each report's own parameters read with a 400 that names them (docs/query-formulas.md#reports).

The envelope's dates (`parameters.startDate`/`endDate`, ISO strings or epoch milliseconds), zone,
unit and comparison become the same request mapping every analytics endpoint parses, so reports
get the range clamping, filters, segments and cohorts of `query.parse` and nothing of their own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from katsuo.analytics import query as analytics_query
from katsuo.analytics import registry
from katsuo.analytics import timeframe as T
from katsuo.analytics.query import Query, Target
from katsuo.errors import BadRequest


def fields() -> tuple[str, ...]:
    """The fields a report can filter on and break down by (registry.py)."""
    return registry.report_fields()


def filter_keys() -> frozenset[str]:
    """The keys a report body's `filters` may carry; others are dropped, and so are numeric
    suffixes, as Umami's validation strips them."""
    return frozenset({*fields(), "segment", "cohort", "eventType", "match"})


@dataclass(frozen=True)
class Parameters:
    """A report's `parameters` object, read one typed value at a time."""

    values: Mapping[str, Any]

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str, *, required: bool = True, max_length: int = 500) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise BadRequest(f"parameters.{name}: required")
            return None
        if not isinstance(value, str):
            raise BadRequest(f"parameters.{name}: must be a string")
        if len(value) > max_length:
            raise BadRequest(f"parameters.{name}: at most {max_length} characters")
        return value

    def choice(
        self, name: str, options: Mapping[str, str] | tuple[str, ...], *, default: str | None = None
    ) -> str:
        """One of `options` (a mapping also accepts its keys as spellings of its values)."""
        value = self.values.get(name)
        if value is None and default is not None:
            return default
        if isinstance(value, list) and len(value) == 1:  # the docs describe some as arrays
            value = value[0]
        allowed = options if isinstance(options, Mapping) else {o: o for o in options}
        if not isinstance(value, str) or value not in allowed:
            names = ", ".join(dict.fromkeys(allowed.values()))
            raise BadRequest(f"parameters.{name}: must be one of {names}")
        return allowed[value]

    def number(self, name: str) -> float:
        """A finite number greater than zero (a number or a numeric string)."""
        value = self.values.get(name)
        if value is None or value == "":
            raise BadRequest(f"parameters.{name}: required")
        if isinstance(value, bool):
            raise BadRequest(f"parameters.{name}: must be a number")
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise BadRequest(f"parameters.{name}: must be a number") from None
        if not math.isfinite(number) or number <= 0:
            raise BadRequest(f"parameters.{name}: must be a number greater than 0")
        return number

    def integer(self, name: str, low: int, high: int, *, default: int | None = None) -> int:
        value = self.values.get(name)
        if value is None or value == "":
            if default is not None:
                return default
            raise BadRequest(f"parameters.{name}: required")
        try:
            number = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        if not number.is_integer() or not low <= number <= high:
            raise BadRequest(f"parameters.{name}: must be an integer from {low} to {high}")
        return int(number)

    def items(self, name: str, low: int, high: int) -> list:
        value = self.values.get(name)
        if not isinstance(value, list):
            raise BadRequest(f"parameters.{name}: must be an array of {low} to {high} items")
        if not low <= len(value) <= high:
            raise BadRequest(
                f"parameters.{name}: must have {low} to {high} items (got {len(value)})"
            )
        return value


def parse_date(name: str, raw: Any) -> int:
    """An ISO 8601 date-time (a missing offset means UTC) or epoch milliseconds, as epoch ms."""
    if raw is None or raw == "":
        raise BadRequest(f"parameters.{name}: required (an ISO date or epoch milliseconds)")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise BadRequest(f"parameters.{name}: must be an ISO date or epoch milliseconds")
    if isinstance(raw, str) and not raw.strip().lstrip("-").replace(".", "", 1).isdigit():
        try:
            moment = datetime.fromisoformat(raw.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return T.to_us(moment) // T.US_PER_MS
        except (ValueError, OverflowError):  # not a date, or outside years 1 to 9999 in UTC
            raise BadRequest(f"parameters.{name}: not a valid date ({raw[:40]!r})") from None
    try:
        ms = float(raw)
    except (ValueError, OverflowError):
        raise BadRequest(f"parameters.{name}: not a valid date") from None
    # Inside what every engine can store (years 1 to 9999).
    if not math.isfinite(ms) or not -62_135_596_800_000 <= ms <= 253_402_300_799_999:
        raise BadRequest(f"parameters.{name}: out of range")
    return int(ms)


def _filter_params(filters: Any) -> dict[str, str]:
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise BadRequest("filters: must be an object")
    params = {}
    for key, value in filters.items():
        if key not in filter_keys() or value is None or value == "":
            continue
        if key == "eventType" and isinstance(value, int | float) and not isinstance(value, bool):
            value = (
                str(value) if isinstance(value, int) or not value.is_integer() else str(int(value))
            )
        if not isinstance(value, str):
            raise BadRequest(f"filters.{key}: must be a string")
        params[key] = value
    return params


def parse(
    report_type: str,
    body_type: Any,
    filters: Any,
    parameters: Any,
    target: Target,
    conn: sa.Connection,
    *,
    now_us: int,
) -> tuple[Query, Parameters]:
    """The Query and the parameters of a report request on `target` (already permitted)."""
    if body_type != report_type:
        raise BadRequest(f"type: must be {report_type!r} for this report")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise BadRequest("parameters: must be an object")
    start_ms = parse_date("startDate", parameters.get("startDate"))
    end_ms = parse_date("endDate", parameters.get("endDate"))
    if end_ms < start_ms:
        raise BadRequest("parameters.endDate: must not be before startDate")
    request = _filter_params(filters)
    request.update(startAt=str(start_ms), endAt=str(end_ms))
    for name in ("timezone", "unit", "compare"):
        value = parameters.get(name)
        if value is not None and value != "":
            if not isinstance(value, str):
                raise BadRequest(f"parameters.{name}: must be a string")
            request[name] = value
    query = analytics_query.parse(request, target, conn, now_us=now_us)
    return query, Parameters(parameters)

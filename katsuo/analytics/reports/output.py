"""How report values are written: numbers the way the reference (JavaScript) writes them, and
time buckets as the report docs show them."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from katsuo.analytics import timeframe as T


def number(value: float | None) -> float | int | None:
    """A ratio as JavaScript serialises it: non-finite → null, integral values without `.0`."""
    if value is None or not math.isfinite(value):
        return None
    return int(value) if float(value).is_integer() else float(value)


def ratio(numerator: float, denominator: float) -> float | int | None:
    """numerator / denominator with JavaScript's division by zero (then serialised as null)."""
    if denominator == 0:
        return None
    return number(numerator / denominator)


def bucket_instant(local_us: int, zone: str | None) -> str:
    """The UTC instant at which a bucket starting at wall-clock `local_us` in `zone` begins.

    The report docs show buckets this way (retention `date`, revenue `t`: the Los Angeles day
    2025-10-01 is "2025-10-01T07:00:00Z"), while Umami 3.1 on PostgreSQL writes the wall-clock
    time without offset for named zones (docs/query-formulas.md#bucket-labels); Katsuo follows the docs. In
    UTC both are the same string."""
    wall = T.EPOCH + timedelta(microseconds=local_us)
    if not T.is_utc_labels(zone):
        # A wall-clock time skipped by a DST change resolves with the offset before it.
        wall = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return datetime.strftime(wall, "%Y-%m-%dT%H:%M:%SZ")

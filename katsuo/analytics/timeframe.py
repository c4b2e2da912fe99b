"""Time: date ranges, units and their auto-upgrade, time zones, comparison windows, bucket labels.

Timestamps travel through the read path as integer microseconds since the epoch (UTC): exact,
cheap to compare on every engine, and the unit of the stored `timestamptz(6)` values. Buckets
are computed in SQL from a time zone's UTC offsets (see `ZoneOffsets`) instead of the engine's
time zone functions, which are slow on DuckDB and differ between engines.
"""

from __future__ import annotations

import calendar
import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from katsuo.errors import BadRequest

US_PER_MS = 1_000
US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR

MIN_US, MAX_US = -62_135_596_800 * US_PER_SECOND, 253_402_300_799_999_999  # years 1 … 9999

UNITS = ("minute", "hour", "day", "month", "year")
FIXED_UNITS = {"minute": US_PER_MINUTE, "hour": US_PER_HOUR, "day": US_PER_DAY}

# Umami's normalisation of a zone name the browser may report.
ZONE_ALIASES = {"Asia/Calcutta": "Asia/Kolkata"}
EPOCH = datetime(1970, 1, 1)


def to_us(value: datetime) -> int:
    delta = value.astimezone(UTC).replace(tzinfo=None) - EPOCH
    return (delta.days * 86400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def parse_ms(name: str, raw: str | None, *, required: bool = True) -> int | None:
    """An epoch-milliseconds parameter (`startAt`, `endAt`) as microseconds."""
    if raw is None or raw == "":
        if required:
            raise BadRequest(f"{name}: required (epoch milliseconds)")
        return None
    try:
        value = int(raw)
    except ValueError:
        try:
            as_float = float(raw)
        except ValueError:
            raise BadRequest(f"{name}: must be a number of epoch milliseconds") from None
        if not math.isfinite(as_float):
            raise BadRequest(f"{name}: must be a number of epoch milliseconds")
        value = int(as_float)
    # Inside what every engine can store (years 1 to 9999).
    if not MIN_US <= value * US_PER_MS <= MAX_US:
        raise BadRequest(f"{name}: out of range")
    return value * US_PER_MS


# --- time zones -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    # Umami validates with the runtime's Intl support, which matches names case-insensitively.
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(raw: str | None, *, required: bool = False) -> str | None:
    """A validated IANA zone name. Lower-case `utc` is kept as is: it selects Umami's UTC label
    format (`…Z`); any other zone, `UTC` included, gets local labels (docs/query-formulas.md#bucket-labels)."""
    if raw is None or raw == "":
        if required:
            raise BadRequest("timezone: required (an IANA time zone such as Europe/Paris)")
        return None
    if raw == "utc":
        return raw
    name = _zone_names().get(raw.lower())
    if name is None:
        raise BadRequest(f"timezone: unknown time zone {raw!r}")
    return ZONE_ALIASES.get(name, name)


def is_utc_labels(zone: str | None) -> bool:
    return zone is None or zone == "utc"


@lru_cache(maxsize=256)
def _zoneinfo(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo("UTC" if zone == "utc" else zone)
    except ZoneInfoNotFoundError:  # pragma: no cover - names come from available_timezones()
        raise BadRequest(f"timezone: unknown time zone {zone!r}") from None


@dataclass(frozen=True)
class ZoneOffsets:
    """A zone's UTC offset as a step function over a time range: offsets[i] applies from
    starts[i] (µs) on; starts[0] is -inf. Lets SQL turn UTC µs into local µs with a CASE."""

    starts: tuple[int, ...]
    offsets: tuple[int, ...]

    def at(self, us: int) -> int:
        return self.offsets[bisect_right(self.starts, us) - 1]

    def local(self, us: int) -> int:
        return us + self.at(us)

    @property
    def constant(self) -> bool:
        return len(self.offsets) == 1

    def aligned_to(self, step_us: int) -> bool:
        """Whether every offset is a whole multiple of `step_us` (e.g. 30 minutes)."""
        return all(offset % step_us == 0 for offset in self.offsets)


def _offset_us(zone: ZoneInfo, us: int) -> int:
    offset = from_us(us).astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds()) * US_PER_SECOND


_YEAR_2100 = 4_102_444_800 * US_PER_SECOND


@lru_cache(maxsize=1024)
def zone_offsets(zone: str | None, start_us: int, end_us: int) -> ZoneOffsets:
    """Offsets of `zone` over [start, end] (a day of margin either side)."""
    if zone is None or zone == "utc":
        return ZoneOffsets((-(2**62),), (0,))
    info = _zoneinfo(zone)
    # Offsets are followed between 1970 and 2100 only: a range reaching further (any epoch
    # milliseconds are valid input) keeps the edge offset there instead of probing millennia.
    lo = max(start_us - US_PER_DAY, 0)
    hi = max(lo, min(end_us + US_PER_DAY, _YEAR_2100))
    starts, offsets = [-(2**62)], [_offset_us(info, lo)]
    step = US_PER_DAY  # zones change offset a few times a year at most, never twice in a day
    probe = lo
    while probe < hi:
        nxt = min(probe + step, hi)
        if _offset_us(info, nxt) != offsets[-1]:
            # Binary search for the first second with the new offset.
            a, b = probe, nxt
            while b - a > US_PER_SECOND:
                mid = (a + b) // 2 // US_PER_SECOND * US_PER_SECOND
                if mid <= a:
                    break
                if _offset_us(info, mid) == offsets[-1]:
                    a = mid
                else:
                    b = mid
            starts.append(b)
            offsets.append(_offset_us(info, b))
        probe = nxt
    return ZoneOffsets(tuple(starts), tuple(offsets))


# --- units --------------------------------------------------------------------------------------


def add_months(value: datetime, months: int) -> datetime:
    month0 = value.month - 1 + months
    year, month = value.year + month0 // 12, month0 % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def allowed_units(start_us: int, end_us: int) -> tuple[str, ...]:
    """Units whose documented maximum covers the range.

    The docs ("Website statistics" › Unit parameter) give the limits: minute up to 60 minutes,
    hour up to 48 hours, day up to 12 months, month and year unlimited. (Umami 3.1's server
    allows hours up to 30 days and days up to 7 calendar months (docs/query-formulas.md#units); where the two
    disagree we follow the docs.)
    """
    span = end_us - start_us
    units = []
    if span <= 60 * US_PER_MINUTE:
        units.append("minute")
    if span <= 48 * US_PER_HOUR:
        units.append("hour")
    start = from_us(start_us)
    if start.year == 9999 or end_us <= to_us(add_months(start, 12)):  # year 10000 has no date
        units.append("day")
    units += ["month", "year"]
    return tuple(units)


def choose_unit(start_us: int, end_us: int, requested: str | None) -> str:
    """The requested unit when allowed, else the next coarser allowed one, else the finest."""
    if requested is not None and requested not in UNITS:
        raise BadRequest(f"unit: must be one of {', '.join(UNITS)}")
    allowed = allowed_units(start_us, max(start_us, end_us))
    if requested is None:
        return allowed[0]
    for unit in UNITS[UNITS.index(requested) :]:
        if unit in allowed:
            return unit
    return allowed[0]  # pragma: no cover - month and year are always allowed


# --- comparison windows -------------------------------------------------------------------------

COMPARES = ("prev", "yoy")


def parse_compare(raw: str | None) -> str | None:
    if raw in (None, ""):
        return None
    if raw not in COMPARES:
        raise BadRequest("compare: must be prev or yoy")
    return raw


def _sub_years(us: int, years: int) -> int:
    value = from_us(us)
    if value.year - years < 1:
        return MIN_US
    day = min(value.day, calendar.monthrange(value.year - years, value.month)[1])
    return to_us(value.replace(year=value.year - years, day=day))


def comparison_window(compare: str, start_us: int, end_us: int) -> tuple[int, int]:
    """`prev`: both ends shifted back by the range length in whole minutes (truncated, so a
    full day overlaps the previous one by a minute, as in Umami); `yoy`: one calendar year back."""
    if compare == "yoy":
        return _sub_years(start_us, 1), _sub_years(end_us, 1)
    # date-fns differenceInMinutes truncates toward zero, on millisecond timestamps.
    minutes = int((end_us // US_PER_MS - start_us // US_PER_MS) / 60_000)
    shift = minutes * US_PER_MINUTE
    # A window shifted before year 1 (absurd but valid input) starts there: nothing is older.
    return max(MIN_US, start_us - shift), max(MIN_US, end_us - shift)


# --- labels -------------------------------------------------------------------------------------

_UTC_FORMATS = {
    "minute": "%Y-%m-%dT%H:%M:00Z",
    "hour": "%Y-%m-%dT%H:00:00Z",
    "day": "%Y-%m-%dT00:00:00Z",
    "month": "%Y-%m-01T00:00:00Z",
    "year": "%Y-01-01T00:00:00Z",
}
_LOCAL_FORMATS = {
    "minute": "%Y-%m-%d %H:%M:00",
    "hour": "%Y-%m-%d %H:00:00",
    "day": "%Y-%m-%d 00:00:00",
    "month": "%Y-%m-01 00:00:00",
    "year": "%Y-01-01 00:00:00",
}


def bucket_label(local_us: int, unit: str, zone: str | None) -> str:
    """Umami's label of a bucket starting at `local_us` (wall-clock µs in the zone)."""
    formats = _UTC_FORMATS if is_utc_labels(zone) else _LOCAL_FORMATS
    return (EPOCH + timedelta(microseconds=local_us)).strftime(formats[unit])


def hour_label_utc(us: int) -> str:
    """Date values of event and session data are shown as their UTC hour (docs/query-formulas.md#rendered-values)."""
    return (EPOCH + timedelta(microseconds=us)).strftime(_UTC_FORMATS["hour"])


# --- every bucket of a range (the dashboard's chart) ----------------------------------------------

MAX_BUCKETS = 400


def _truncate(value: datetime, unit: str) -> datetime:
    if unit == "minute":
        return value.replace(second=0, microsecond=0)
    if unit == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    return day.replace(day=1) if unit == "month" else day.replace(month=1, day=1)


def bucket_of(us: int, unit: str, offsets: ZoneOffsets) -> int:
    """The wall-clock µs at which the bucket of `unit` containing `us` starts (sql.bucket, in
    Python)."""
    local = _truncate(EPOCH + timedelta(microseconds=offsets.local(us)), unit)
    return to_us(local.replace(tzinfo=UTC))


def weekly_cell(us: int, offsets: ZoneOffsets) -> int:
    """Day of week (0 = Sunday) × 24 + hour of `us` in the zone (sql.weekly_cell, in Python)."""
    hours = offsets.local(us) // US_PER_HOUR
    return ((hours // 24 + 4) % 7) * 24 + hours % 24  # 1970-01-01 was a Thursday


def _next(value: datetime, unit: str) -> datetime:
    if unit in FIXED_UNITS:
        return value + timedelta(microseconds=FIXED_UNITS[unit])
    return add_months(value, 1 if unit == "month" else 12)


def bucket_count(start_us: int, end_us: int, unit: str) -> int:
    """About how many buckets of `unit` the range spans (to keep a chart readable)."""
    span = max(0, end_us - start_us)
    per = FIXED_UNITS.get(unit) or (30 if unit == "month" else 365) * US_PER_DAY
    return span // per + 1


def every_bucket(start_us: int, end_us: int, unit: str, offsets: ZoneOffsets, zone: str | None):
    """The labels of every bucket from start to end (empty ones included), as `bucket_label`
    writes them, in the zone's wall-clock time; at most MAX_BUCKETS."""
    if unit in ("minute", "hour"):
        # Walked in UTC, a quarter of an hour at a time: an hour the clocks skip has no bucket,
        # one they repeat is one bucket (as the queries group by wall-clock time).
        step = US_PER_MINUTE if unit == "minute" else 15 * US_PER_MINUTE
        labels: list[str] = []
        for us in [*range(start_us, end_us, step), end_us]:
            local = _truncate(EPOCH + timedelta(microseconds=offsets.local(us)), unit)
            label = bucket_label(to_us(local.replace(tzinfo=UTC)), unit, zone)
            if label not in labels[-2:]:
                labels.append(label)
            if len(labels) == MAX_BUCKETS:
                break
        return labels
    local_end = EPOCH + timedelta(microseconds=offsets.local(end_us))
    value = _truncate(EPOCH + timedelta(microseconds=offsets.local(start_us)), unit)
    labels = []
    while value <= local_end and len(labels) < MAX_BUCKETS:
        labels.append(bucket_label(to_us(value.replace(tzinfo=UTC)), unit, zone))
        try:
            value = _next(value, unit)
        except (OverflowError, ValueError):  # past year 9999
            break
    return labels

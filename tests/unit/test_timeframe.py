"""Units, comparison windows, zones and labels of the read path (katsuo.analytics.timeframe)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from katsuo.analytics import timeframe as T
from katsuo.errors import BadRequest


def us(text: str) -> int:
    return T.to_us(datetime.fromisoformat(text).replace(tzinfo=UTC))


@pytest.mark.parametrize(
    "start,end,requested,unit",
    [
        ("2026-03-01T00:00:00", "2026-03-01T01:00:00", None, "minute"),
        ("2026-03-01T00:00:00", "2026-03-01T01:00:01", "minute", "hour"),
        ("2026-03-01T00:00:00", "2026-03-03T00:00:00", "hour", "hour"),
        ("2026-03-01T00:00:00", "2026-03-03T00:00:01", "hour", "day"),
        ("2026-03-01T00:00:00", "2026-03-31T00:00:00", None, "day"),
        ("2026-03-01T00:00:00", "2027-03-01T00:00:00", "day", "day"),
        ("2026-03-01T00:00:00", "2027-03-01T00:00:01", "day", "month"),
        ("2023-01-01T00:00:00", "2026-01-01T00:00:00", "month", "month"),
        ("2023-01-01T00:00:00", "2026-01-01T00:00:00", "year", "year"),
        ("2026-03-01T00:00:00", "2026-03-02T00:00:00", "year", "year"),
    ],
)
def test_units_follow_the_documented_limits(start, end, requested, unit):
    assert T.choose_unit(us(start), us(end), requested) == unit


def test_unknown_unit_is_rejected():
    with pytest.raises(BadRequest, match="^unit"):
        T.choose_unit(0, 1, "week")


def test_previous_window_shifts_by_whole_minutes():
    start, end = us("2026-03-06T00:00:00"), us("2026-03-06T23:59:59.999")
    assert T.comparison_window("prev", start, end) == (
        us("2026-03-05T00:01:00"),
        us("2026-03-06T00:00:59.999"),
    )
    assert T.comparison_window("yoy", us("2024-02-29T10:00:00"), end) == (
        us("2023-02-28T10:00:00"),
        us("2025-03-06T23:59:59.999"),
    )


def test_zone_offsets_follow_dst():
    offsets = T.zone_offsets(
        "America/New_York", us("2026-03-01T00:00:00"), us("2026-03-31T00:00:00")
    )
    assert offsets.at(us("2026-03-08T06:59:59")) == -5 * T.US_PER_HOUR
    assert offsets.at(us("2026-03-08T07:00:00")) == -4 * T.US_PER_HOUR
    assert offsets.aligned_to(30 * T.US_PER_MINUTE) and not offsets.constant
    assert T.zone_offsets("Asia/Kolkata", 0, T.US_PER_DAY).offsets == (int(5.5 * T.US_PER_HOUR),)
    assert not T.zone_offsets(
        "Asia/Kathmandu", us("2026-03-01T00:00:00"), us("2026-03-02T00:00:00")
    ).aligned_to(30 * T.US_PER_MINUTE)


def test_timezones_and_labels():
    assert T.parse_timezone("america/new_york") == "America/New_York"
    assert T.parse_timezone("Asia/Calcutta") == "Asia/Kolkata"
    assert T.parse_timezone("utc") == "utc"
    with pytest.raises(BadRequest, match="^timezone"):
        T.parse_timezone("Nowhere/Land")
    local = us("2026-03-08T00:00:00")
    assert T.bucket_label(local, "day", None) == "2026-03-08T00:00:00Z"
    assert T.bucket_label(local, "month", "Europe/Paris") == "2026-03-01 00:00:00"
    assert T.bucket_label(local, "hour", "utc") == "2026-03-08T00:00:00Z"


def test_every_bucket_of_a_range_in_wall_clock_time():
    # a Paris day in March with the clocks going forward: 23 hours, each labelled as /pageviews
    # labels them, the skipped 02:00 absent
    start, end = us("2026-03-28T23:00:00"), us("2026-03-29T21:59:59")
    zone = "Europe/Paris"
    hours = T.every_bucket(start, end, "hour", T.zone_offsets(zone, start, end), zone)
    assert len(hours) == 23 and hours[0] == "2026-03-29 00:00:00"
    assert "2026-03-29 02:00:00" not in hours and hours[-1] == "2026-03-29 23:00:00"
    # days and months in UTC labels, empty ones included; long ranges stop at MAX_BUCKETS
    utc = T.zone_offsets(None, 0, 1)
    days = T.every_bucket(us("2026-02-27T10:00:00"), us("2026-03-02T10:00:00"), "day", utc, None)
    assert days == [f"2026-0{m}-{d}T00:00:00Z" for m, d in ((2, 27), (2, 28), (3, "01"), (3, "02"))]
    months = T.every_bucket(
        us("2025-11-15T00:00:00"), us("2026-02-01T00:00:00"), "month", utc, None
    )
    assert months == [
        "2025-11-01T00:00:00Z",
        "2025-12-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "2026-02-01T00:00:00Z",
    ]
    many = T.every_bucket(us("2000-01-01T00:00:00"), us("2099-01-01T00:00:00"), "month", utc, None)
    assert len(many) == T.MAX_BUCKETS
    # the hour the range ends in is always there
    assert T.every_bucket(
        us("2026-03-01T10:50:00"), us("2026-03-01T11:04:00"), "hour", utc, None
    ) == [
        "2026-03-01T10:00:00Z",
        "2026-03-01T11:00:00Z",
    ]

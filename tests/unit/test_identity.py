"""Session and visit ids against the worked example of docs/ids.md#worked-example, computed
independently of Katsuo with hashlib + uuid5."""

import hashlib
from datetime import UTC, datetime

import pytest

from katsuo.collect import identity
from katsuo.config import Settings

SECRET = Settings.from_env({"APP_SECRET": "test-secret"}).secret
WEBSITE = "c1a5f6e2-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
MOMENT = datetime(2026, 5, 14, 10, 42, 7, tzinfo=UTC)


def test_secret_is_sha512_of_app_secret():
    assert SECRET.startswith("a11241a654a67456")


def test_session_of_anonymous_visitor():
    sid = identity.session_id(
        SECRET,
        WEBSITE,
        distinct_id=None,
        ip="203.0.113.7",
        user_agent=UA,
        moment=MOMENT,
        rotation="month",
    )
    assert sid == "edc41729-d956-5525-8511-21bfcccd45e4"


def test_visit_of_that_session():
    assert identity.visit_id(SECRET, "edc41729-d956-5525-8511-21bfcccd45e4", MOMENT) == (
        "b2dfff88-48c6-53fc-ad79-cec22825b359"
    )


def test_distinct_id_session_ignores_ip_and_agent():
    for ip, ua in (("", UA), ("198.51.100.1", "other")):
        assert (
            identity.session_id(
                SECRET,
                WEBSITE,
                distinct_id="user-42",
                ip=ip,
                user_agent=ua,
                moment=MOMENT,
                rotation="month",
            )
            == "5980cc8d-a5e1-5105-9841-7cd59196f6c2"
        )


def test_missing_ip_hashes_as_empty():
    assert (
        identity.session_id(
            SECRET, WEBSITE, distinct_id=None, ip="", user_agent=UA, moment=MOMENT, rotation="month"
        )
        == "173bf084-02bd-5440-816f-fd1d702166de"
    )


@pytest.mark.parametrize(
    ("rotation", "start"),
    [
        ("month", "Fri, 01 May 2026 00:00:00 GMT"),
        ("week", "Sun, 10 May 2026 00:00:00 GMT"),
        ("day", "Thu, 14 May 2026 00:00:00 GMT"),
    ],
)
def test_salt_periods(rotation, start):
    assert identity.session_salt(MOMENT, rotation) == identity.sha512_hex(start)


def test_same_visitor_same_month_same_session_new_month_new_session():
    def sid(moment):
        return identity.session_id(
            SECRET,
            WEBSITE,
            distinct_id=None,
            ip="203.0.113.7",
            user_agent=UA,
            moment=moment,
            rotation="month",
        )

    assert sid(MOMENT) == sid(datetime(2026, 5, 31, 23, 59, tzinfo=UTC))
    assert sid(MOMENT) != sid(datetime(2026, 6, 1, 0, 0, tzinfo=UTC))


def test_salts_follow_the_utc_hour_whatever_the_moment_zone():
    """Salts are looked up per UTC hour: the hour's first and last microsecond share them, the
    next hour has its own, and a moment in another zone salts as its UTC instant. Expected salts
    are SHA-512s of JavaScript's toUTCString() of the period start, computed here with hashlib."""
    from datetime import timedelta, timezone

    def sha512(text):
        return hashlib.sha512(text.encode()).hexdigest()

    start = datetime(2026, 5, 14, 10, 0, 0, tzinfo=UTC)
    last = datetime(2026, 5, 14, 10, 59, 59, 999_999, tzinfo=UTC)
    assert (
        identity.hour_salt(start)
        == identity.hour_salt(last)
        == sha512("Thu, 14 May 2026 10:00:00 GMT")
    )
    assert identity.hour_salt(last + timedelta(microseconds=1)) == sha512(
        "Thu, 14 May 2026 11:00:00 GMT"
    )
    kolkata = MOMENT.astimezone(timezone(timedelta(hours=5, minutes=30)))  # 16:12 local
    assert identity.hour_salt(kolkata) == sha512("Thu, 14 May 2026 10:00:00 GMT")
    # 01:30 on 1 June in UTC+2 is still 31 May in UTC: May's session salt.
    early_june_local = datetime(2026, 6, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert identity.session_salt(early_june_local, "month") == sha512(
        "Fri, 01 May 2026 00:00:00 GMT"
    )
    assert identity.session_salt(early_june_local, "day") == sha512("Sun, 31 May 2026 00:00:00 GMT")
    assert identity.visit_id(SECRET, "edc41729-d956-5525-8511-21bfcccd45e4", kolkata) == (
        "b2dfff88-48c6-53fc-ad79-cec22825b359"
    )

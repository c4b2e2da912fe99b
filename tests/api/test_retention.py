"""Retention: a website's `retentionDays` (validated, shown in its JSON) makes the daily round
delete what it collected before the limit — events, sessions left without events, and the visit
slices' share of them — and keep the rest, on every engine; the numbers read afterwards are
those of the hits kept. KATSUO_RETENTION_DAYS is the limit of websites without their own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
import sqlalchemy as sa

from katsuo.analytics import slices
from katsuo.ops import retention
from katsuo.store import schema
from tests.collect.conftest import send
from tests.conftest import WITH_CLICKHOUSE

DAY = 86400


@pytest.fixture(scope="session", params=WITH_CLICKHOUSE)
def engine(request) -> str:
    return request.param


def _hit(client, website: str, visitor: int, seconds_ago: int, path: str) -> None:
    response = send(
        client,
        {
            "website": website,
            "url": path,
            "hostname": "example.com",
            "timestamp": int(time.time()) - seconds_ago,
        },
        headers={"X-Forwarded-For": f"198.51.100.{visitor}"},
    )
    assert response.status_code == 200, response.text


def _stored(services, website: str) -> tuple[int, int, int, int]:
    """(events, sessions among them, session rows, events whose session row is missing)."""
    e, s = schema.website_event, schema.session
    with services.db.events.connect() as conn:
        events, sessions = conn.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(e.c.session_id))).where(
                e.c.website_id == website
            )
        ).one()
        rows = conn.execute(sa.select(sa.func.count()).where(s.c.website_id == website)).scalar()
        stored = sa.select(s.c.session_id).where(s.c.website_id == website)
        orphans = conn.execute(
            sa.select(sa.func.count()).where(
                e.c.website_id == website, e.c.session_id.not_in(stored)
            )
        ).scalar()
    return events, sessions, rows, orphans


def _stats(admin, website: str) -> tuple[int, int]:
    now = int(time.time() * 1000)
    body = admin.ok(
        "GET",
        f"/api/websites/{website}/stats",
        params={"startAt": now - 40 * DAY * 1000, "endAt": now + 3600_000},
    )
    return body["pageviews"], body["visitors"]


def test_retention_deletes_what_is_older_than_the_limit(api, client, services):
    admin = api.admin()
    kept, limited = admin.new_website("Kept")["id"], admin.new_website("Limited")["id"]
    for website in (kept, limited):
        _hit(client, website, 1, 20 * DAY, "/old-a")  # visitor 1: only before the limit
        _hit(client, website, 1, 20 * DAY - 60, "/old-b")
        _hit(client, website, 2, 20 * DAY, "/old-c")  # visitor 2: on both sides of it
        _hit(client, website, 2, 3 * 3600, "/new-a")
        _hit(client, website, 2, 3600, "/new-b")
        _hit(client, website, 3, 3600, "/new-c")  # visitor 3: only after it
    with_slices = not services.db.separate_events
    if with_slices:
        slices.rebuild(services.db)
    events, sessions, _, _ = _stored(services, limited)
    assert _stats(admin, limited) == (events, sessions) and events == 6

    body = admin.ok("POST", f"/api/websites/{limited}", {"retentionDays": 10})
    assert body["retentionDays"] == 10
    assert admin.ok("GET", f"/api/websites/{kept}")["retentionDays"] is None

    deleted = {str(website): counts for website, counts in services.retention.run_once().items()}
    assert set(deleted) == {limited} and deleted[limited]["website_event"] == 3
    events, sessions, rows, orphans = _stored(services, limited)
    assert (events, rows, orphans) == (3, sessions, 0)  # sessions without events went
    assert _stats(admin, limited) == (3, sessions)  # the slices' answer, kept events pending
    if with_slices:
        slices.settle(services.db)
        assert _stats(admin, limited) == (3, sessions)
        slices.rebuild(services.db)
        assert _stats(admin, limited) == (3, sessions)
    assert _stored(services, kept)[0] == 6
    assert retention.apply(services.db) == {}  # nothing more to delete

    # A round a day later than now minus two hours: visitor 2's first new hit and its session
    # go (as the writer is told), and the visitor's next hit gets its session row again.
    later = datetime.now(UTC) + timedelta(days=10, hours=-2)
    assert services.retention.run_once(later)[UUID(limited)]["website_event"] == 1
    _hit(client, limited, 2, 0, "/back")
    events, sessions, rows, orphans = _stored(services, limited)
    assert (events, rows, orphans) == (3, sessions, 0)
    assert _stats(admin, limited) == (3, sessions)

    with services.db.connect() as conn:
        assert {str(w): d for w, d in retention.limits(conn, 30)} == {kept: 30, limited: 10}
        assert {str(w): d for w, d in retention.limits(conn, 0)} == {limited: 10}

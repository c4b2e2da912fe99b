"""The visit slices follow Umami's tables whoever writes them: rows another writer inserts in
Umami's shape (now or with old timestamps), deletes, or a website reset done by SQL, while Katsuo
is stopped or running, show in the overview within the catch-up interval. The reference is the
same request answered from the raw tables (the same app with the slices turned off)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi import Query as FromQuery
from fastapi import Request
from fastapi.testclient import TestClient

from katsuo.analytics import slices
from katsuo.analytics.runner import Reader
from katsuo.api import targets
from katsuo.api.analytics_params import AnalyticsParams
from katsuo.api.deps import AnyActor, AppServices, Conn
from katsuo.api.targets import QueryBudget
from katsuo.app import create_app
from katsuo.config import Settings
from katsuo.services import Services
from katsuo.store import schema
from tests.conftest import make_env
from tests.helpers import Api

pytestmark = pytest.mark.slices

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
NOW = datetime.now(UTC)
WINDOW = {
    "startAt": int((NOW - timedelta(days=10)).timestamp() * 1000),
    "endAt": int((NOW + timedelta(hours=1)).timestamp() * 1000),
    "timezone": "UTC",
}
OVERVIEW = [
    ("stats", {}),
    ("pageviews", {"unit": "day"}),
    ("metrics", {"type": "path"}),
    ("metrics", {"type": "referrer"}),
    ("metrics", {"type": "country"}),
    ("metrics", {"type": "browser"}),
    ("metrics", {"type": "event"}),
    ("stats", {"path": "/outside"}),
    ("metrics", {"type": "country", "path": "/outside"}),
]


def _raw_analytics(
    website_id: UUID,
    request: Request,
    actor: AnyActor,
    conn: Conn,
    svc: AppServices,
    declared: Annotated[AnalyticsParams, FromQuery()],
    budget: QueryBudget,
):
    """The analytics dependency with the visit slices turned off: the raw-query reference."""
    target = targets.load_target(conn, actor, website_id)
    with Reader.of(svc.db, conn, budget=budget, use_slices=False) as reader:
        yield targets.Analytics(
            target, reader, dict(request.query_params), conn, targets.analytics_query.now_us()
        )


def _overview(api: Api, website: str) -> list:
    return [
        api.ok("GET", f"/api/websites/{website}/{tail}", params={**WINDOW, **extra})
        for tail, extra in OVERVIEW
    ]


def _send(client, website: str, path: str, ip: str) -> None:
    response = client.post(
        "/api/send",
        json={
            "type": "event",
            "payload": {"website": website, "url": f"https://example.com{path}"},
        },
        headers={"User-Agent": UA, "X-Forwarded-For": ip},
    )
    assert response.status_code == 200, response.text


def _write_as_umami(db, website: str, *, at: datetime, path: str, country: str) -> None:
    """A session with two page views of `path`, inserted by SQL as Umami writes them."""
    website_id, session_id, visit_id = UUID(website), uuid.uuid4(), uuid.uuid4()
    with db.begin() as conn:
        conn.execute(
            schema.session.insert().values(
                session_id=session_id,
                website_id=website_id,
                browser="firefox",
                os="Linux",
                device="desktop",
                country=country,
                created_at=at,
            )
        )
        for seconds in (0, 30):
            conn.execute(
                schema.website_event.insert().values(
                    event_id=uuid.uuid4(),
                    website_id=website_id,
                    session_id=session_id,
                    visit_id=visit_id,
                    created_at=at + timedelta(seconds=seconds),
                    url_path=path,
                    referrer_domain="news.example",
                    hostname="example.com",
                    event_type=1,
                )
            )


def _caught_up(db) -> bool:
    """Whether what the slices reflect equals website_event, with nothing pending or stale."""

    def count(table):
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    with db.connect() as conn:
        known = conn.execute(sa.select(sa.func.sum(schema.slice_count.c.events))).scalar() or 0
        return (
            count(schema.website_event),
            count(schema.slice_pending),
            count(schema.slice_stale),
        ) == (known, 0, 0)


def _apps(settings, services):
    app, raw = create_app(settings, services), create_app(settings, services)
    raw.dependency_overrides[targets.analytics] = _raw_analytics
    return app, raw


def _wait_until_equal(client, raw_client, websites, db, timeout=30.0) -> list:
    """Poll until the overview from the slices equals the raw one for every website."""
    api, raw_api = Api(client).admin(), Api(raw_client).admin()
    deadline = time.monotonic() + timeout
    while True:
        expected = [_overview(raw_api, w) for w in websites]
        answers = [_overview(api, w) for w in websites]
        if answers == expected and _caught_up(db):
            return answers
        differ = [
            (OVERVIEW[i], got, want)
            for ours, theirs in zip(answers, expected)
            for i, (got, want) in enumerate(zip(ours, theirs))
            if got != want
        ]
        assert time.monotonic() < deadline, (differ, _caught_up(db))
        time.sleep(0.3)


def test_outside_writes_while_stopped(engine, request, tmp_path_factory):
    settings = Settings.from_env(make_env(engine, request, tmp_path_factory))
    services = Services.start(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            admin = Api(client).admin()
            website = admin.new_website()["id"]
            for n, path in enumerate(["/", "/a", "/gone", "/a"]):
                _send(client, website, path, f"81.2.69.{60 + n}")
        slices.rebuild(services.db)
    finally:
        services.close()

    # Katsuo is stopped: another writer adds sessions now and days ago, and deletes a page view.
    db = Services.start(settings).db  # no upkeep (interval 0), just the store
    try:
        _write_as_umami(db, website, at=NOW - timedelta(minutes=5), path="/outside", country="FR")
        _write_as_umami(db, website, at=NOW - timedelta(days=4), path="/outside", country="JP")
        with db.begin() as conn:
            w = schema.website_event
            conn.execute(w.delete().where(w.c.url_path == "/gone"))
    finally:
        db.close()

    settings = Settings.from_env(
        {
            **make_env(engine, request, tmp_path_factory),
            **_store_of(settings),
            "KATSUO_SLICE_SETTLE_SECONDS": "1",
        }
    )
    services = Services.start(settings)
    try:
        app, raw = _apps(settings, services)
        with TestClient(app) as client, TestClient(raw) as raw_client:
            stats, _, paths, *_ = _wait_until_equal(client, raw_client, [website], services.db)[0]
            assert stats["pageviews"] == 3 + 4  # 4 sent, 1 deleted, 2 × 2 written outside
            assert {p["x"] for p in paths} == {"/", "/a", "/outside"}
    finally:
        services.close()


def _store_of(settings: Settings) -> dict[str, str]:
    """The environment that points at the same store as `settings`."""
    if settings.database_url:
        return {"DATABASE_URL": settings.database_url}
    return {"KATSUO_DATA_DIR": str(settings.data_dir)}


def test_outside_writes_while_running(request, tmp_path_factory):
    """PostgreSQL, where Umami can run beside Katsuo: current and late rows, a deletion and a
    website reset done by SQL, all while the server runs."""
    settings = Settings.from_env(
        make_env(
            "postgresql",
            request,
            tmp_path_factory,
            KATSUO_SLICE_SETTLE_SECONDS="1",
            KATSUO_SLICE_AUDIT_SECONDS="1",
        )
    )
    services = Services.start(settings)
    try:
        app, raw = _apps(settings, services)
        with TestClient(app) as client, TestClient(raw) as raw_client:
            admin = Api(client).admin()
            kept, reset = admin.new_website()["id"], admin.new_website(name="Reset")["id"]
            for n, path in enumerate(["/", "/a", "/gone"]):
                _send(client, kept, path, f"81.2.69.{60 + n}")
                _send(client, reset, path, f"81.2.69.{60 + n}")
            _write_as_umami(services.db, reset, at=NOW - timedelta(days=2), path="/x", country="DE")
            _wait_until_equal(client, raw_client, [kept, reset], services.db)

            _write_as_umami(
                services.db, kept, at=NOW - timedelta(minutes=1), path="/outside", country="FR"
            )
            _write_as_umami(
                services.db, kept, at=NOW - timedelta(days=6), path="/outside", country="JP"
            )
            _send(client, kept, "/b", "81.2.69.70")  # Katsuo's own writes go on meanwhile
            w, s = schema.website_event, schema.session
            with services.db.begin() as conn:
                conn.execute(w.delete().where(w.c.url_path == "/gone", w.c.website_id == kept))
                # Umami's website reset: the website's rows go, the website stays.
                conn.execute(w.delete().where(w.c.website_id == reset))
                conn.execute(s.delete().where(s.c.website_id == reset))
            ours, theirs = _wait_until_equal(client, raw_client, [kept, reset], services.db)
            assert ours[0]["pageviews"] == 2 + 1 + 4  # 3 sent, 1 deleted, 1 more, 4 outside
            assert theirs[0]["pageviews"] == 0
    finally:
        services.close()

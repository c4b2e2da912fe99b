"""Upkeep of the visit slices: built in the background at start and kept up to date from the
writer's hook, rebuilt by the CLI, emptied with a website's data."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from katsuo import cli
from katsuo.analytics import slices
from katsuo.config import Settings
from katsuo.services import Services
from katsuo.store import schema
from tests.conftest import make_env

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


pytestmark = pytest.mark.slices


def _count(db, table, **where) -> int:
    with db.connect() as conn:
        stmt = (
            sa.select(sa.func.count())
            .select_from(table)
            .where(*(table.c[k] == v for k, v in where.items()))
        )
        return conn.execute(stmt).scalar_one()


def _send(client, website, path="/"):
    response = client.post(
        "/api/send",
        json={"type": "event", "payload": {"website": website, "url": path}},
        headers={"User-Agent": UA, "X-Forwarded-For": "81.2.69.60"},
    )
    assert response.status_code == 200


def test_background_upkeep(engine, request, tmp_path_factory):
    """A server starting on a database without slices builds them, and folds new hits in."""
    from fastapi.testclient import TestClient

    from katsuo.app import create_app

    settings = Settings.from_env(
        make_env(engine, request, tmp_path_factory, KATSUO_SLICE_SETTLE_SECONDS="1")
    )
    services = Services.start(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            token = client.post(
                "/api/auth/login", json={"username": "admin", "password": "umami"}
            ).json()["token"]
            website = client.post(
                "/api/websites",
                json={"name": "W", "domain": "example.com"},
                headers={"Authorization": f"Bearer {token}"},
            ).json()["id"]
            _send(client, website)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and _count(services.db, schema.slice_pending):
                time.sleep(0.2)
            assert _count(services.db, schema.slice_pending) == 0
            with services.db.connect() as conn:
                assert slices.is_built(conn)
            assert (
                _count(services.db, schema.visit_slice, website_id=uuid.UUID(website), dim=0) == 1
            )
    finally:
        services.close()


def test_cli_rebuild(engine, request, tmp_path_factory, monkeypatch, capsys):
    env = make_env(engine, request, tmp_path_factory)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env(env)
    services = Services.start(settings)
    website = uuid.uuid4()
    try:
        with services.db.begin() as conn:
            conn.execute(
                schema.website_event.insert().values(
                    event_id=uuid.uuid4(),
                    website_id=website,
                    session_id=uuid.uuid4(),
                    visit_id=uuid.uuid4(),
                    created_at=datetime(2026, 3, 1, tzinfo=UTC),
                    url_path="/imported",
                    event_type=1,
                )
            )
    finally:
        services.close()
    cli.main(["slices", "rebuild"])
    assert "rebuilt" in capsys.readouterr().out
    services = Services.start(settings)
    try:
        assert _count(services.db, schema.visit_slice, website_id=website, dim=1) == 1
        with services.db.connect() as conn:
            assert slices.is_built(conn)
    finally:
        services.close()


def test_reset_and_delete_empty_the_slices(api, services):
    admin = api.admin()
    website = admin.new_website()["id"]
    _send(api.client, website)
    slices.rebuild(services.db)
    _send(api.client, website, "/later")
    key = uuid.UUID(website)
    assert _count(services.db, schema.visit_slice, website_id=key) > 0
    assert _count(services.db, schema.slice_pending, website_id=key) == 1
    admin.ok("POST", f"/api/websites/{website}/reset")
    assert _count(services.db, schema.visit_slice, website_id=key) == 0
    assert _count(services.db, schema.slice_pending, website_id=key) == 0


def test_rebuild_parts_fit_the_memory_limit(request, tmp_path_factory):
    """Under KATSUO_DUCKDB_MEMORY the rebuild cuts the events into parts small enough for it
    (slices.PART_BYTES_PER_EVENT each), runs within that memory, and builds every slice."""
    env = make_env("duckdb", request, tmp_path_factory, KATSUO_DUCKDB_MEMORY="128MB")
    services = Services.start(Settings.from_env(env))
    website = uuid.uuid4()
    # Each one visit of three views of /a, /b, /c a minute apart, starting a second apart.
    sessions = 100_000
    try:
        with services.db.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO website_event (event_id, website_id, session_id, visit_id,"
                " created_at, url_path, event_type) SELECT uuid(), ?, s.id, s.id,"
                " TIMESTAMPTZ '2026-03-01 00:00:00+00' + to_seconds(s.n)"
                " + to_minutes(CAST(v.i AS BIGINT)), '/' || chr(CAST(97 + v.i AS INTEGER)), 1"
                " FROM (SELECT uuid() AS id, range AS n FROM range(?)) s, range(3) v(i)",
                (website, sessions),
            )
        totals = []
        slices.rebuild(services.db, lambda done, total: totals.append(total))
        assert totals and set(totals) == {-(-3 * sessions // 128_000)}  # 300,000 events: 3 parts
        v = schema.visit_slice
        with services.db.connect() as conn:
            figures = conn.execute(
                sa.select(v.c.dim, sa.func.count(v.c.visit_id.distinct()), sa.func.sum(v.c.hits))
                .where(v.c.website_id == website, v.c.dim.in_([0, 1]))
                .group_by(v.c.dim)
                .order_by(v.c.dim)
            ).all()
        assert [tuple(row) for row in figures] == [
            (0, sessions, 3 * sessions),
            (1, sessions, 3 * sessions),
        ]
    finally:
        services.close()

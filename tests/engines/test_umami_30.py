"""An Umami 3.0 database (before the migrations of Umami 3.1): Katsuo collects into it, answers
every read endpoint without a 500, says with a 400 what needs Umami 3.1's schema, creates no
object with an Umami name, and leaves the database so that Umami 3.1's migrations still apply."""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from katsuo.app import create_app
from katsuo.config import Settings
from katsuo.services import Services
from tests.api.test_authorization_matrix import ANALYTICS, REPORT_PARAMETERS
from tests.conftest import APP_SECRET
from tests.engines.test_umami_adoption import DDL, UMAMI_31_MIGRATIONS
from tests.helpers import Api

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
UMAMI_30_MIGRATIONS = UMAMI_31_MIGRATIONS[:14]  # up to 14_add_link_and_pixel
# What Umami 3.1 adds, undone on our 3.1-shaped DDL to get 3.0's shape.
TO_UMAMI_30 = """
DROP TABLE share, board, session_replay, session_replay_saved;
ALTER TABLE website_event DROP COLUMN lcp, DROP COLUMN inp, DROP COLUMN fcp, DROP COLUMN ttfb,
    DROP COLUMN cls;
ALTER TABLE website DROP COLUMN replay_enabled, DROP COLUMN replay_config,
    ADD COLUMN share_id VARCHAR(50);
CREATE UNIQUE INDEX website_share_id_key ON website(share_id);
CREATE INDEX website_share_id_idx ON website(share_id);
"""
# What Umami 3.1's migrations do to such a database, in our words: each must still succeed.
UMAMI_31_CHANGES = (
    "CREATE TABLE share (share_id UUID PRIMARY KEY, slug VARCHAR(100) NOT NULL)",
    "CREATE UNIQUE INDEX share_slug_key ON share(slug)",
    "DROP INDEX website_share_id_idx",
    "DROP INDEX website_share_id_key",
    "ALTER TABLE website DROP COLUMN share_id",
    "CREATE TABLE board (board_id UUID PRIMARY KEY)",
    "CREATE INDEX board_created_at_idx ON board(board_id)",
    "ALTER TABLE website_event ADD COLUMN lcp DECIMAL(10,1), ADD COLUMN cls DECIMAL(10,4)",
    "ALTER TABLE website ADD COLUMN replay_enabled BOOLEAN NOT NULL DEFAULT false",
    "CREATE TABLE session_replay (replay_id UUID PRIMARY KEY)",
    "CREATE TABLE session_replay_saved (saved_replay_id UUID PRIMARY KEY)",
)


def _objects(conn) -> set[tuple[str, str]]:
    """Every table, column and index of the public schema that is not Katsuo's."""
    columns = conn.execute(
        sa.text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
    ).all()
    indexes = conn.execute(
        sa.text("SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'")
    ).all()
    return {(t, n) for t, n in [*columns, *indexes] if not t.startswith("katsuo_")}


@pytest.fixture
def umami_30(postgres_databases):
    url = postgres_databases.create()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql(DDL)
        conn.exec_driver_sql(TO_UMAMI_30)
        for number, name in enumerate(UMAMI_30_MIGRATIONS):
            conn.execute(
                sa.text(
                    "INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, "
                    "applied_steps_count) VALUES (:id, 'c', :name, now(), 1)"
                ),
                {"id": f"m{number}", "name": name},
            )
        before = _objects(conn)
    yield url, engine, before
    engine.dispose()


def test_katsuo_on_an_umami_30_database(umami_30, tmp_path):
    url, engine, before = umami_30
    settings = Settings.from_env(
        {
            "DATABASE_URL": url,
            "APP_SECRET": APP_SECRET,
            "KATSUO_DATA_DIR": str(tmp_path),
        }
    )
    services = Services.start(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            admin = Api(client).admin()
            website = admin.new_website()["id"]
            assert admin.ok("GET", f"/api/websites/{website}")["shareId"] is None
            sent = []
            for payload, kind in (
                ({"url": "https://example.com/", "referrer": "https://other.org/"}, "event"),
                (
                    {"url": "https://example.com/b", "name": "signup", "data": {"plan": "x"}},
                    "event",
                ),
                ({"url": "https://example.com/b", "lcp": 1200.5, "cls": 0.05}, "performance"),
                ({"id": "user-1", "data": {"plan": "free"}}, "identify"),
            ):
                response = client.post(
                    "/api/send",
                    json={"type": kind, "payload": {"website": website, **payload}},
                    headers={"User-Agent": UA},
                )
                assert response.status_code == 200, response.text
                sent.append(response.json())
            session = sent[0]["sessionId"]

            now_ms = int(time.time() * 1000)
            window = {
                "startAt": now_ms - 86_400_000,
                "endAt": now_ms + 3_600_000,
                "unit": "hour",
                "timezone": "UTC",
            }
            stats = admin.ok("GET", f"/api/websites/{website}/stats", params=window)
            assert stats["pageviews"] == 1  # the named event is a custom event
            for tail, (_, extra) in ANALYTICS.items():
                response = admin.get(f"/api/websites/{website}/{tail}", params={**window, **extra})
                assert response.status_code == 200, (tail, response.text)
            for tail in ("", "/activity", "/properties"):
                response = admin.get(
                    f"/api/websites/{website}/sessions/{session}{tail}", params=window
                )
                assert response.status_code == 200, (tail, response.text)

            dates = {"startDate": window["startAt"], "endDate": window["endAt"]}
            for kind, parameters in REPORT_PARAMETERS.items():
                response = admin.post(
                    f"/api/reports/{kind}",
                    {
                        "websiteId": website,
                        "type": kind.removesuffix("s"),
                        "filters": {},
                        "parameters": {**dates, **parameters},
                    },
                )
                if kind == "performance":
                    assert response.status_code == 400, response.text
                    assert "Umami 3.1" in response.json()["error"]["message"]
                else:
                    assert response.status_code == 200, (kind, response.text)

            # Sharing needs Umami 3.1's `share` table: a clear 400, and no shares to list.
            shares = admin.get(f"/api/websites/{website}/shares")
            assert shares.status_code == 200 and shares.json()["data"] == []
            response = admin.post(f"/api/websites/{website}/shares", {"name": "Public"})
            assert response.status_code == 400 and "Umami 3.1" in response.text
            assert admin.post(f"/api/websites/{website}/reset").status_code == 200
            assert (
                admin.ok("GET", f"/api/websites/{website}/stats", params=window)["pageviews"] == 0
            )
            assert admin.delete(f"/api/websites/{website}").status_code == 200
    finally:
        services.close()

    with engine.connect() as conn:
        assert _objects(conn) == before  # no Umami-named table, column or index added
        for statement in UMAMI_31_CHANGES:  # Umami 3.1's migrations still apply
            conn.exec_driver_sql(statement)
        conn.rollback()


def test_the_umami_level_is_read_from_the_migration_history(umami_30):
    from katsuo.store import umami

    _, engine, _ = umami_30
    with engine.connect() as conn:
        level = umami.detect(conn)
        assert level.adopted and not level.has(umami.PERFORMANCE)
        assert not level.has_table("share") and level.has_table("website")
        conn.execute(
            sa.text(
                "INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, "
                "applied_steps_count) VALUES (:id, 'c', '18_add_performance', now(), 1)"
            ),
            {"id": str(uuid.uuid4())},
        )
        assert umami.detect(conn).has(umami.PERFORMANCE)

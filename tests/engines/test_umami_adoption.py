"""Pointing Katsuo at an existing Umami v3 PostgreSQL database: its users log in with the
passwords bcryptjs hashed, see their websites, teams and shares, and Umami's tables are left
exactly as they were (columns, indexes, rows Katsuo did not write)."""

from __future__ import annotations

import uuid
from pathlib import Path

import bcrypt
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from katsuo.app import create_app
from katsuo.config import Settings
from katsuo.services import Services
from katsuo.store import schema as katsuo_schema
from tests.conftest import APP_SECRET
from tests.helpers import Api

DDL = Path(__file__).with_name("umami_v3.sql").read_text()
# The migration history of an Umami 3.1 database, the shape umami_v3.sql builds.
UMAMI_31_MIGRATIONS = [
    "01_init",
    "02_report_schema_session_data",
    "03_metric_performance_index",
    "04_team_redesign",
    "05_add_visit_id",
    "06_session_data",
    "07_add_tag",
    "08_add_utm_clid",
    "09_update_hostname_region",
    "10_add_distinct_id",
    "11_add_segment",
    "12_update_report_parameter",
    "13_add_revenue",
    "14_add_link_and_pixel",
    "15_add_share",
    "16_boards",
    "17_remove_duplicate_key",
    "18_add_performance",
    "19_add_session_replay",
]


def _bcryptjs_hash(password: str) -> str:
    """What bcryptjs writes at cost 10 (`$2a$10$…`)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(10, prefix=b"2a")).decode()


def _shape(conn) -> dict:
    """Every column (type, length, nullability, default) and index of the public schema."""
    columns = conn.execute(
        sa.text(
            "SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision, "
            "numeric_scale, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, column_name"
        )
    ).all()
    indexes = conn.execute(
        sa.text(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname"
        )
    ).all()
    return {
        "columns": [tuple(row) for row in columns if not row[0].startswith("katsuo_")],
        "indexes": [tuple(row) for row in indexes if not row[0].startswith("katsuo_")],
    }


@pytest.fixture
def umami_database(postgres_databases):
    url = postgres_databases.create()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    ids = {
        name: uuid.uuid4()
        for name in ("alice", "bob", "team", "site_a", "site_b", "team_site", "share")
    }
    with engine.begin() as conn:
        conn.exec_driver_sql(DDL)
        conn.execute(
            sa.text(
                "INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count) "
                "SELECT 'm' || n, 'c', name, now(), 1 FROM unnest(CAST(:names AS text[])) "
                "WITH ORDINALITY AS m(name, n)"
            ),
            {"names": UMAMI_31_MIGRATIONS},
        )
        conn.execute(
            sa.text(
                'INSERT INTO "user" (user_id, username, password, role, created_at) VALUES '
                "(:alice, 'alice', :alice_pw, 'user', now()), (:bob, 'bob', :bob_pw, 'admin', now())"
            ),
            {
                "alice": ids["alice"],
                "bob": ids["bob"],
                "alice_pw": _bcryptjs_hash("alice-secret"),
                "bob_pw": _bcryptjs_hash("bob-secret"),
            },
        )
        conn.execute(
            sa.text(
                "INSERT INTO team (team_id, name, access_code, created_at) VALUES (:team, 'Umami team', 'team_abcdefghijklmnop', now())"
            ),
            ids,
        )
        conn.execute(
            sa.text(
                "INSERT INTO team_user (team_user_id, team_id, user_id, role, created_at) VALUES "
                "(gen_random_uuid(), :team, :alice, 'team-member', now())"
            ),
            ids,
        )
        conn.execute(
            sa.text(
                "INSERT INTO website (website_id, name, domain, user_id, team_id, created_by, created_at, replay_config) VALUES "
                "(:site_a, 'Alice blog', 'alice.example', :alice, NULL, :alice, now() - interval '2 days', NULL), "
                "(:site_b, 'Bob shop', 'bob.example', :bob, NULL, :bob, now(), '{\"sampleRate\": 0.5}'), "
                "(:team_site, 'Team site', 'team.example', NULL, :team, :bob, now(), NULL)"
            ),
            ids,
        )
        conn.execute(
            sa.text(
                "INSERT INTO share (share_id, entity_id, name, share_type, slug, parameters, created_at) VALUES "
                "(:share, :site_a, 'Public', 1, 'alice-public', '{\"overview\": true}', now())"
            ),
            ids,
        )
        before = _shape(conn)
        migrations = conn.execute(sa.text("SELECT * FROM _prisma_migrations ORDER BY id")).all()
    yield url, ids, engine, before, migrations
    engine.dispose()


def test_katsuo_adopts_an_umami_database_without_altering_it(umami_database, tmp_path):
    url, ids, engine, before, migrations = umami_database
    settings = Settings.from_env(
        {"DATABASE_URL": url, "APP_SECRET": APP_SECRET, "KATSUO_DATA_DIR": str(tmp_path)}
    )
    services = Services.start(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            anonymous = Api(client)
            # the default admin/umami account is not added to a database that has users
            assert (
                anonymous.post(
                    "/api/auth/login", {"username": "admin", "password": "umami"}
                ).status_code
                == 401
            )
            alice = anonymous.login("alice", "alice-secret")
            assert alice.user["id"] == str(ids["alice"]) and alice.user["role"] == "user"
            assert alice.user["teams"] == [
                {"id": str(ids["team"]), "name": "Umami team", "logoUrl": None}
            ]
            mine = alice.ok("GET", "/api/websites")
            assert [(w["id"], w["name"], w["shareId"]) for w in mine["data"]] == [
                (str(ids["site_a"]), "Alice blog", "alice-public")
            ]
            assert alice.ok("GET", f"/api/teams/{ids['team']}/websites")["data"][0]["id"] == str(
                ids["team_site"]
            )
            assert alice.get(f"/api/websites/{ids['site_b']}").status_code == 401
            assert (
                anonymous.post(
                    "/api/auth/login", {"username": "alice", "password": "wrong"}
                ).status_code
                == 401
            )

            bob = anonymous.login("bob", "bob-secret")
            assert bob.user["isAdmin"] is True
            assert bob.ok("GET", "/api/admin/websites")["count"] == 3
            assert anonymous.ok("GET", "/api/share/alice-public")["websiteId"] == str(ids["site_a"])

            # what Katsuo writes through its API lands in Umami's tables, readable by Umami
            created = alice.new_website(name="Written by Katsuo")
    finally:
        services.close()

    with engine.connect() as conn:
        assert _shape(conn) == before
        assert (
            conn.execute(sa.text("SELECT * FROM _prisma_migrations ORDER BY id")).all()
            == migrations
        )
        katsuo_tables = set(
            conn.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'katsuo_%'"
                )
            ).scalars()
        )
        # only Katsuo's own tables were added (and the visit-slice partitions of PostgreSQL)
        own = {t.name for t in katsuo_schema.metadata.sorted_tables if t.name.startswith("katsuo_")}
        assert {t for t in katsuo_tables if not t.startswith("katsuo_visit_slice_")} == own
        row = conn.execute(
            sa.text("SELECT name, user_id, created_by FROM website WHERE website_id = :id"),
            {"id": created["id"]},
        ).one()
        assert row == ("Written by Katsuo", ids["alice"], ids["alice"])
        hashes = (
            conn.execute(sa.text('SELECT password FROM "user" ORDER BY username')).scalars().all()
        )
        assert all(h.startswith("$2a$10$") for h in hashes)  # logins did not rewrite them

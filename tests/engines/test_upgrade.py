"""A database left by the previous release (schema steps 1–5, logins without a generation) is
upgraded at start: the new steps add their tables, logins issued before keep working until the
user's first password change, and deletes retire ids. On both engines."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from katsuo.app import create_app
from katsuo.auth import tokens
from katsuo.config import Settings
from katsuo.services import Services
from katsuo.store import migrations, schema
from katsuo.store.migrations import DEFAULT_ADMIN_ID
from tests.conftest import make_env
from tests.helpers import Api

# What the steps after the previous release (5: collect journal position) added.
ADDED_TABLES = ("katsuo_login_generation", "katsuo_deleted_id", "katsuo_purge")
ADDED_STEPS = (6, 7)


def _to_previous_release(svc: Services) -> None:
    with svc.db.begin() as conn:
        for table in ADDED_TABLES:
            conn.exec_driver_sql(f"DROP TABLE {table}")
        version = schema.schema_version.c.version
        conn.execute(schema.schema_version.delete().where(version.in_(ADDED_STEPS)))


def test_a_database_of_the_previous_release_is_upgraded_at_start(engine, request, tmp_path_factory):
    settings = Settings.from_env(make_env(engine, request, tmp_path_factory))
    svc = Services.start(settings)
    _to_previous_release(svc)
    # A login token as the previous release signed it: user and role, no generation.
    old_token = tokens.sign({"userId": DEFAULT_ADMIN_ID, "role": "admin"}, settings.secret)
    svc.close()

    svc = Services.start(settings)
    try:
        with svc.db.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
        assert set(ADDED_TABLES) <= present
        assert migrations.pending(svc.db) == []
        with TestClient(create_app(settings, svc)) as client:
            old = Api(client, token=old_token)
            assert old.get("/api/me").status_code == 200
            admin = Api(client).login()
            website = admin.new_website()["id"]
            assert admin.delete(f"/api/websites/{website}").status_code == 200
            reused = admin.post(
                "/api/websites", {"id": website, "name": "Again", "domain": "again.example"}
            )
            assert reused.status_code == 400
            changed = admin.post(
                "/api/me/password", {"currentPassword": "umami", "newPassword": "a-new-password"}
            )
            assert changed.status_code == 200
            assert old.get("/api/me").status_code == 401
    finally:
        svc.close()

"""With REDIS_URL, login state lives in real Redis and logout ends it; on both engines."""

from __future__ import annotations

import json

import pytest
import redis
from fastapi.testclient import TestClient

from katsuo.app import create_app
from katsuo.auth.logins import LOGIN_TTL
from katsuo.config import Settings
from katsuo.services import Services
from tests.conftest import make_env
from tests.helpers import Api


@pytest.fixture
def redis_client(engine, request, tmp_path_factory, redis_url):
    store = redis.Redis.from_url(redis_url, decode_responses=True)
    store.flushdb()  # failed-login counts of an earlier test live here too
    settings = Settings.from_env(make_env(engine, request, tmp_path_factory, REDIS_URL=redis_url))
    services = Services.start(settings)
    with TestClient(create_app(settings, services)) as client:
        yield Api(client), store
    services.close()


def test_login_lives_in_redis_and_logout_revokes_it(redis_client):
    api, store = redis_client
    admin = api.login()
    me = admin.ok("GET", "/api/me")
    auth_key = me["authKey"]
    assert auth_key.startswith("auth:") and len(auth_key) == len("auth:") + 32
    assert json.loads(store.get(auth_key))["userId"] == admin.user["id"]
    assert 0 < store.ttl(auth_key) <= LOGIN_TTL

    # the token carries only the key: losing the Redis record ends the login
    other = api.login()
    assert other.token != admin.token
    store.delete(other.ok("GET", "/api/me")["authKey"])
    assert other.get("/api/me").status_code == 401

    assert admin.ok("POST", "/api/auth/logout") == {"ok": True}
    assert store.get(auth_key) is None
    for method, path in (
        ("GET", "/api/me"),
        ("GET", "/api/websites"),
        ("POST", "/api/auth/verify"),
    ):
        assert admin.request(method, path).status_code == 401, path
    # logging in again works, with a new key
    again = api.login()
    assert again.ok("GET", "/api/me")["authKey"] != auth_key


def test_password_and_role_changes_and_deletion_end_redis_backed_logins(redis_client):
    api, store = redis_client
    admin = api.login()
    user = admin.new_user()
    name = user.user["username"]
    laptop = api.login(name, "password123")
    laptop_key = laptop.ok("GET", "/api/me")["authKey"]
    changing = api.login(name, "password123")
    changing.ok(
        "POST",
        "/api/me/password",
        {"currentPassword": "password123", "newPassword": "changed-pass"},
    )
    # the Redis records are still there: the generation in them is what no longer matches
    assert store.get(laptop_key) is not None
    for login in (user, laptop):
        assert login.get("/api/me").status_code == 401
    # the login that made the change goes on, with the same token
    assert changing.ok("GET", "/api/me")["user"]["id"] == user.user["id"]

    admin.ok("POST", f"/api/users/{user.user['id']}", {"role": "view-only"})
    assert changing.get("/api/me").status_code == 401
    after_role = api.login(name, "changed-pass")
    assert after_role.ok("GET", "/api/me")["user"]["role"] == "view-only"
    admin.ok("DELETE", f"/api/users/{user.user['id']}")
    assert after_role.get("/api/me").status_code == 401
    admin.ok("GET", "/api/me")  # the administrator's own login is untouched throughout


def test_a_user_recreated_with_the_same_id_does_not_inherit_logins(redis_client):
    api, _ = redis_client
    admin = api.login()
    body = {
        "id": "0b6f1a52-2d8e-4c57-9a33-7f0e2b8c1d44",
        "username": "phoenix",
        "password": "password123",
        "role": "user",
    }
    admin.ok("POST", "/api/users", body)
    old = api.login("phoenix", "password123")
    admin.ok("DELETE", f"/api/users/{body['id']}")
    admin.ok("POST", "/api/users", {**body, "username": "phoenix-2"})
    assert old.get("/api/me").status_code == 401
    assert api.login("phoenix-2", "password123").ok("GET", "/api/me")["user"]["id"] == body["id"]


def test_failed_login_counts_live_in_redis(redis_client):
    api, store = redis_client
    for _ in range(10):
        assert (
            api.post("/api/auth/login", {"username": "admin", "password": "wrong"}).status_code
            == 401
        )
    assert any(key.startswith("katsuo-ratelimit") for key in store.scan_iter())
    refused = api.post("/api/auth/login", {"username": "admin", "password": "umami"})
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 900

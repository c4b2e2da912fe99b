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
    settings = Settings.from_env(make_env(engine, request, tmp_path_factory, REDIS_URL=redis_url))
    services = Services.start(settings)
    with TestClient(create_app(settings, services)) as client:
        yield Api(client), redis.Redis.from_url(redis_url, decode_responses=True)
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
    for method, path in (("GET", "/api/me"), ("GET", "/api/websites"), ("POST", "/api/auth/verify")):
        assert admin.request(method, path).status_code == 401, path
    # logging in again works, with a new key
    again = api.login()
    assert again.ok("GET", "/api/me")["authKey"] != auth_key

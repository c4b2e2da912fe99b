"""Fixtures for the dashboard's HTTP tests: apps with other settings over the same services, and
a client that logs in as the pages do (cookie + CSRF header)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from katsuo.auth import browser as browser_auth


@pytest.fixture
def make_client(services, app):
    """A TestClient for an app built with changed settings, e.g. make_client(base_path="/x")."""
    from katsuo.app import create_app

    clients = []

    def build(**changes) -> TestClient:
        settings = services.settings.model_copy(update=changes)
        client = TestClient(create_app(settings, services), follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def cookie_login(client, username="admin", password="umami", base="") -> str:
    """Log in as the pages do: API login, then hand the token to /session."""
    token = client.post(
        f"{base}/api/auth/login", json={"username": username, "password": password}
    ).json()["token"]
    response = client.post(
        f"{base}/session", json={"token": token}, headers={browser_auth.CSRF_HEADER: "1"}
    )
    assert response.status_code == 200, response.text
    return token

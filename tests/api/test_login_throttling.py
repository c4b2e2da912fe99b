"""Failed-login throttling over HTTP, on both engines: counted per (username, client address) and
per address, where the address is the socket peer unless KATSUO_TRUSTED_PROXIES or
CLIENT_IP_HEADER says which forwarding header to believe."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from katsuo.app import create_app
from katsuo.auth.ratelimit import PER_IP, PER_USERNAME_AND_IP
from katsuo.config import Settings

WINDOW = 15 * 60
SPOOFED = ("x-forwarded-for", "x-real-ip", "true-client-ip", "cf-connecting-ip", "forwarded")


@pytest.fixture
def peer(services, app):
    """peer(address, **env) -> a client whose requests come from that socket address, to an app
    whose settings read `env` (e.g. KATSUO_TRUSTED_PROXIES) as the server would at start."""
    clients = []

    def build(address: str, **env: str) -> TestClient:
        parsed = Settings.from_env({"APP_SECRET": "unused", **env})
        settings = services.settings.model_copy(
            update={
                "trusted_proxies": parsed.trusted_proxies,
                "client_ip_header": parsed.client_ip_header,
            }
        )
        client = TestClient(create_app(settings, services), client=(address, 50000))
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def login(client, username="admin", password="wrong-password", headers=None):
    return client.post(
        "/api/auth/login", json={"username": username, "password": password}, headers=headers or {}
    )


def assert_throttled(response):
    assert response.status_code == 429
    assert response.json()["error"] == {
        "message": "Too many attempts, try again later",
        "code": "too-many-requests",
        "status": 429,
    }
    assert 0 < int(response.headers["retry-after"]) <= WINDOW


def test_failures_elsewhere_do_not_lock_the_real_user_out(peer):
    """Umami-style lockout per username lets anyone lock an account by guessing wrong on purpose."""
    attacker, owner = peer("203.0.113.5"), peer("198.51.100.7")
    assert PER_USERNAME_AND_IP.amount == 10
    for _ in range(10):
        assert login(attacker).status_code == 401
    assert_throttled(login(attacker, password="umami"))  # even the right password, from there
    assert login(owner, password="umami").status_code == 200
    assert login(owner).status_code == 401  # the owner's own count starts at zero


def test_spoofed_forwarding_headers_are_ignored_without_trusted_proxies(peer):
    attacker = peer("203.0.113.5")
    for attempt in range(10):
        header = SPOOFED[attempt % len(SPOOFED)]
        value = f"for=192.0.2.{attempt}" if header == "forwarded" else f"192.0.2.{attempt}"
        assert login(attacker, headers={header: value}).status_code == 401
    assert_throttled(
        login(attacker, headers={"x-forwarded-for": "192.0.2.200", "x-real-ip": "192.0.2.201"})
    )
    # the real user, whose address the attacker named in the headers, is not affected
    assert login(peer("192.0.2.3"), password="umami").status_code == 200


def test_one_address_has_a_ceiling_whatever_usernames_it_tries(peer):
    attacker = peer("203.0.113.9")
    assert PER_IP.amount == 30
    for attempt in range(30):
        response = login(
            attacker, username=f"guess-{attempt}", headers={"x-forwarded-for": f"192.0.2.{attempt}"}
        )
        assert response.status_code == 401
    assert_throttled(login(attacker, username="admin", password="umami"))
    assert login(peer("203.0.113.10"), password="umami").status_code == 200


def test_trusted_proxies_forward_the_client_address(peer):
    proxies = {"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32"}
    proxy = peer("10.0.0.2", **proxies)
    # the proxy appends the address it saw; whatever the client wrote before that is a claim
    for attempt in range(10):
        forwarded = {"x-forwarded-for": f"192.0.2.{attempt}, 203.0.113.5"}
        assert login(proxy, headers=forwarded).status_code == 401
    assert_throttled(login(proxy, password="umami", headers={"x-forwarded-for": "203.0.113.5"}))
    # through a chain of trusted proxies too
    assert_throttled(
        login(proxy, password="umami", headers={"x-forwarded-for": "203.0.113.5, 10.1.1.1"})
    )
    # another client behind the same proxy is not affected, nor is the proxy itself a client
    assert (
        login(proxy, password="umami", headers={"x-forwarded-for": "198.51.100.7"}).status_code
        == 200
    )
    assert login(proxy, password="umami", headers={"x-real-ip": "198.51.100.8"}).status_code == 200
    assert_throttled(login(proxy, password="umami", headers={"x-real-ip": "203.0.113.5"}))
    assert (
        login(
            peer("2001:db8::1", **proxies),
            password="umami",
            headers={"x-forwarded-for": "198.51.100.7"},
        ).status_code
        == 200
    )
    # a caller that is not one of the proxies gets no say through the header
    direct = peer("203.0.113.5", **proxies)
    assert_throttled(login(direct, password="umami", headers={"x-forwarded-for": "198.51.100.7"}))
    assert (
        login(
            peer("198.51.100.99", **proxies),
            password="umami",
            headers={"x-forwarded-for": "203.0.113.5"},
        ).status_code
        == 200
    )


def test_client_ip_header_is_believed_when_configured(peer):
    proxy = peer("10.0.0.2", CLIENT_IP_HEADER="X-Client-Address")
    for _ in range(10):
        assert (
            login(
                proxy, headers={"x-client-address": "203.0.113.5", "x-forwarded-for": "1.2.3.4"}
            ).status_code
            == 401
        )
    assert_throttled(login(proxy, password="umami", headers={"x-client-address": "203.0.113.5"}))
    assert (
        login(proxy, password="umami", headers={"x-client-address": "198.51.100.7"}).status_code
        == 200
    )
    # without the header (or with garbage in it) the socket peer counts
    for _ in range(10):
        assert login(proxy, headers={"x-client-address": "not an address"}).status_code == 401
    assert_throttled(login(proxy, password="umami"))

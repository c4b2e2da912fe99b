"""Client IP from proxy headers for collection (docs/ids.md#client-address-for-collection),
IGNORE_IP matching (docs/collection.md#ignored-addresses), and the address login throttling
trusts (KATSUO_TRUSTED_PROXIES, CLIENT_IP_HEADER)."""

import pytest

from katsuo.auth.client import resolve
from katsuo.collect.ip import client_ip, is_ignored, is_local
from katsuo.config import ConfigError, Settings


@pytest.mark.parametrize(
    ("headers", "ip"),
    [
        ({}, ""),
        ({"x-forwarded-for": " 203.0.113.9 , 10.0.0.1"}, "203.0.113.9"),
        ({"x-real-ip": "198.51.100.2", "x-forwarded-for": "203.0.113.9"}, "198.51.100.2"),
        ({"cf-connecting-ip": "2001:DB8::1", "true-client-ip": "198.51.100.3"}, "198.51.100.3"),
        ({"forwarded": 'for="[2001:db8::7]:443";proto=https'}, "2001:db8::7"),
        ({"x-forwarded-for": "::ffff:192.0.2.128"}, "192.0.2.128"),
        ({"x-forwarded-for": "192.0.2.5:8080"}, "192.0.2.5"),
        ({"x-client-ip": "not-an-ip"}, "not-an-ip"),
    ],
)
def test_header_order_and_normalisation(headers, ip):
    assert client_ip(headers) == ip


def test_custom_header_comes_first():
    headers = {"x-my-ip": "192.0.2.44", "x-forwarded-for": "192.0.2.1"}
    assert client_ip(headers, "x-my-ip") == "192.0.2.44"
    assert client_ip({"x-forwarded-for": "192.0.2.1"}, "x-my-ip") == "192.0.2.1"


def test_ignore_ip_single_addresses_and_ranges_v4_v6():
    networks = Settings.from_env(
        {"IGNORE_IP": "192.0.2.7, 10.1.0.0/16 ,2001:db8:aa::/48,::1"}
    ).ignore_ip
    for ip in ("192.0.2.7", "10.1.200.3", "2001:db8:aa:1::9", "::1"):
        assert is_ignored(ip, networks), ip
    for ip in ("192.0.2.8", "10.2.0.1", "2001:db8:ab::1", "", "garbage"):
        assert not is_ignored(ip, networks), ip


@pytest.mark.parametrize(
    ("ip", "local"),
    [
        ("", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("::", True),
        ("10.3.4.5", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.10.10", True),
        ("fd00::1", True),
        ("fe80::1", True),
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
        ("172.32.0.1", False),
    ],
)
def test_local_addresses(ip, local):
    assert is_local(ip) is local


# --- the address security decisions use (auth/client.py) ------------------------------------


def _settings(**env) -> Settings:
    return Settings.from_env({"APP_SECRET": "x", **env})


@pytest.mark.parametrize(
    ("env", "peer", "headers", "expected"),
    [
        # no configuration: the socket peer, whatever the headers say
        (
            {},
            "203.0.113.5",
            {
                "x-forwarded-for": "192.0.2.1",
                "x-real-ip": "192.0.2.2",
                "true-client-ip": "192.0.2.3",
            },
            "203.0.113.5",
        ),
        ({}, "::ffff:203.0.113.5", {}, "203.0.113.5"),
        # a trusted proxy: X-Forwarded-For from the right, skipping trusted hops
        (
            {"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8"},
            "10.0.0.2",
            {"x-forwarded-for": "1.1.1.1, 203.0.113.5"},
            "203.0.113.5",
        ),
        (
            {"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8"},
            "10.0.0.2",
            {"x-forwarded-for": "203.0.113.5, 10.9.9.9"},
            "203.0.113.5",
        ),
        (
            {"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8"},
            "10.0.0.2",
            {"x-forwarded-for": "10.1.1.1, 10.2.2.2"},
            "10.1.1.1",
        ),
        (
            {"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8"},
            "10.0.0.2",
            {"x-forwarded-for": "junk, 10.2.2.2"},
            "10.2.2.2",
        ),
        (
            {"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8"},
            "10.0.0.2",
            {"x-real-ip": "203.0.113.7"},
            "203.0.113.7",
        ),
        ({"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8"}, "10.0.0.2", {"x-real-ip": "junk"}, "10.0.0.2"),
        (
            {"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8"},
            "10.0.0.2",
            {"true-client-ip": "203.0.113.7"},
            "10.0.0.2",
        ),
        (
            {"KATSUO_TRUSTED_PROXIES": "2001:db8::/32"},
            "2001:db8::1",
            {"x-forwarded-for": "[2001:db9::5]:443"},
            "2001:db9::5",
        ),
        # an untrusted peer gets no say
        (
            {"KATSUO_TRUSTED_PROXIES": "10.0.0.0/8"},
            "203.0.113.5",
            {"x-forwarded-for": "10.0.0.1"},
            "203.0.113.5",
        ),
        # CLIENT_IP_HEADER: that header, else the peer
        (
            {"CLIENT_IP_HEADER": "X-Client"},
            "10.0.0.2",
            {"x-client": "203.0.113.5", "x-forwarded-for": "1.1.1.1"},
            "203.0.113.5",
        ),
        ({"CLIENT_IP_HEADER": "X-Client"}, "10.0.0.2", {"x-client": "nonsense"}, "10.0.0.2"),
        ({"CLIENT_IP_HEADER": "X-Client"}, "10.0.0.2", {"x-forwarded-for": "1.1.1.1"}, "10.0.0.2"),
    ],
)
def test_security_address(env, peer, headers, expected):
    assert resolve(headers, peer, _settings(**env)) == expected


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.local", "10.0.0.1, nope", "1.2.3.4/abc"])
def test_bad_trusted_proxies_stop_the_start(value):
    with pytest.raises(ConfigError, match="KATSUO_TRUSTED_PROXIES"):
        _settings(KATSUO_TRUSTED_PROXIES=value)

"""A website's domain: host names, with an optional port and localhost-style names, are accepted;
anything with a scheme, a path, spaces or punctuation is a 400 naming the field, on create and on
update, and nothing is stored."""

from __future__ import annotations

import pytest

ACCEPTED = [
    "example.com",
    "blog.example.co.uk",
    "localhost",
    "localhost:3000",
    "127.0.0.1",
    "127.0.0.1:8080",
    "münchen.de",
    "[::1]:3000",
]
REFUSED = [
    "not a domain!!",
    "https://example.com",
    "example.com/blog",
    "example.com?x=1",
    "-example.com",
    "a..example.com",
    "localhost:0",
    "localhost:70000",
    "under_score.example",
    "x" * 64 + ".example",
]


@pytest.mark.parametrize("domain", ACCEPTED)
def test_host_names_with_or_without_a_port_are_accepted(api, domain):
    admin = api.admin()
    created = admin.new_website(name="Site", domain=domain)
    assert created["domain"] == domain
    updated = admin.ok("POST", f"/api/websites/{created['id']}", {"domain": domain})
    assert updated["domain"] == domain


def test_what_is_not_a_domain_is_refused_by_name(api):
    admin = api.admin()
    kept = admin.new_website(name="Kept", domain="kept.example")
    for domain in REFUSED:
        created = admin.post("/api/websites", {"name": "Bad", "domain": domain})
        assert created.status_code == 400, domain
        error = created.json()["error"]
        assert error["errors"][0]["field"] == "domain", domain
        assert "example.com or localhost:3000" in error["message"], domain
        updated = admin.post(f"/api/websites/{kept['id']}", {"domain": domain})
        assert updated.status_code == 400, domain
    listed = admin.ok("GET", "/api/websites")
    assert [w["domain"] for w in listed["data"]] == ["kept.example"]

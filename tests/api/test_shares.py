"""Shares (docs/shares.md): per-entity share links, the public slug resolution and its token, and
what that token opens; on both engines."""

from __future__ import annotations

import time

import jwt

from tests.conftest import APP_SECRET


def _share_headers(token: str, context: str | None = "1") -> dict[str, str]:
    headers = {"x-umami-share-token": token}
    if context:
        headers["x-umami-share-context"] = context
    return headers


def test_website_share_lifecycle_and_token(api, services):
    owner = api.new_user()
    website, other_site = owner.new_website(), owner.new_website(name="Other")
    share = owner.ok(
        "POST",
        f"/api/websites/{website['id']}/shares",
        {"name": "Public", "parameters": {"overview": True}},
    )
    assert set(share) == {
        "id",
        "entityId",
        "name",
        "shareType",
        "slug",
        "parameters",
        "createdAt",
        "updatedAt",
    }
    assert (
        share["shareType"] == 1 and share["entityId"] == website["id"] and len(share["slug"]) == 16
    )

    resolved = api.ok("GET", f"/api/share/{share['slug']}")  # anonymous
    assert {k: resolved[k] for k in ("shareId", "shareType", "parameters", "websiteId")} == {
        "shareId": share["id"],
        "shareType": 1,
        "parameters": {"overview": True},
        "websiteId": website["id"],
    }
    assert set(resolved) == {"shareId", "shareType", "parameters", "websiteId", "token"}
    claims = jwt.decode(resolved["token"], services.settings.secret, algorithms=["HS256"])
    assert claims["websiteId"] == website["id"] and claims["shareId"] == share["id"]
    assert claims["exp"] - claims["iat"] == 24 * 3600 and abs(claims["iat"] - time.time()) < 60
    assert APP_SECRET != services.settings.secret  # signed with the derived secret, not the raw one

    token = resolved["token"]
    assert (
        api.ok("GET", f"/api/websites/{website['id']}", headers=_share_headers(token))["id"]
        == website["id"]
    )
    assert (
        api.get(f"/api/websites/{website['id']}", headers=_share_headers(token, None)).status_code
        == 401
    )
    assert (
        api.get(f"/api/websites/{other_site['id']}", headers=_share_headers(token)).status_code
        == 401
    )
    assert (
        api.post(
            f"/api/websites/{website['id']}", {"name": "x"}, headers=_share_headers(token)
        ).status_code
        == 401
    )
    assert api.get("/api/me", headers=_share_headers(token)).status_code == 401
    forged = jwt.encode(
        {"shareId": share["id"], "websiteId": other_site["id"], "iat": 1},
        "a-different-secret-" * 4,
        algorithm="HS256",
    )
    assert (
        api.get(f"/api/websites/{other_site['id']}", headers=_share_headers(forged)).status_code
        == 401
    )

    listed = owner.ok("GET", f"/api/websites/{website['id']}/shares")
    assert listed["count"] == 1 and listed["data"] == [share]
    assert owner.ok("GET", f"/api/share/id/{share['id']}") == share
    changed = owner.ok(
        "POST",
        f"/api/share/id/{share['id']}",
        {"name": "Renamed", "slug": "my-share", "parameters": {}},
    )
    assert changed["slug"] == "my-share" and changed["name"] == "Renamed"
    assert api.get(f"/api/share/{share['slug']}").status_code == 404
    assert api.ok("GET", "/api/share/my-share")["shareId"] == share["id"]

    assert owner.ok("DELETE", f"/api/share/id/{share['id']}") == {"ok": True}
    assert api.get("/api/share/my-share").status_code == 404
    # unlike Umami's, the tokens already handed out die with their share
    assert (
        api.get(f"/api/websites/{website['id']}", headers=_share_headers(token)).status_code == 401
    )


def test_create_share_by_entity_and_slug_rules(api):
    owner, other = api.new_user(), api.new_user()
    website = owner.new_website()
    created = owner.ok(
        "POST",
        "/api/share",
        {
            "entityId": website["id"],
            "shareType": 1,
            "name": "Chosen",
            "slug": "chosen-slug",
            "parameters": {"events": True},
        },
    )
    assert created["slug"] == "chosen-slug" and created["parameters"] == {"events": True}
    taken = owner.post(
        "/api/share",
        {
            "entityId": website["id"],
            "shareType": 1,
            "name": "x",
            "slug": "chosen-slug",
            "parameters": {},
        },
    )
    assert (
        taken.status_code == 400
        and taken.json()["error"]["message"] == "That slug is already taken."
    )
    mismatch = owner.post(
        "/api/share", {"entityId": website["id"], "shareType": 2, "name": "x", "parameters": {}}
    )
    assert mismatch.status_code == 400 and "shareType" in mismatch.json()["error"]["message"]
    denied = other.post(
        "/api/share", {"entityId": website["id"], "shareType": 1, "name": "x", "parameters": {}}
    )
    assert denied.status_code == 401
    assert other.get(f"/api/share/id/{created['id']}").status_code == 401
    assert other.delete(f"/api/share/id/{created['id']}").status_code == 401
    assert owner.ok("GET", f"/api/websites/{website['id']}/shares")["count"] == 1


def test_link_and_pixel_shares(api):
    owner = api.new_user()
    link = owner.ok(
        "POST", "/api/links", {"name": "L", "url": "https://x.example", "slug": "link-slug"}
    )
    pixel = owner.ok("POST", "/api/pixels", {"name": "P", "slug": "pixel-slug"})
    for kind, entity, share_type in (("link", link, 2), ("pixel", pixel, 3)):
        share = owner.ok("POST", f"/api/{kind}s/{entity['id']}/shares", {"name": "Public"})
        assert share["shareType"] == share_type and share["parameters"] == {}
        resolved = api.ok("GET", f"/api/share/{share['slug']}")
        assert resolved["websiteId"] == entity["id"] and resolved[f"{kind}Id"] == entity["id"]
        headers = _share_headers(resolved["token"])
        assert api.ok("GET", f"/api/{kind}s/{entity['id']}", headers=headers)["id"] == entity["id"]
        assert owner.ok("GET", f"/api/{kind}s/{entity['id']}/shares")["data"] == [share]
    # the link routes take link ids only
    assert owner.get(f"/api/links/{pixel['id']}/shares").status_code == 404


def test_legacy_share_id_is_a_share(api):
    owner = api.new_user()
    website = owner.new_website(shareId="legacy-slug")
    resolved = api.ok("GET", "/api/share/legacy-slug")
    assert resolved["websiteId"] == website["id"] and resolved["parameters"] == {
        "overview": True,
        "events": True,
    }
    owner.ok("POST", f"/api/websites/{website['id']}", {"shareId": None})
    assert api.get("/api/share/legacy-slug").status_code == 404

"""Links and pixels: create, list, search, get, update, delete; slugs of at least 8 characters,
unique; on both engines."""

from __future__ import annotations

import uuid

import pytest

KINDS = {
    "links": {"name": "Docs", "url": "https://docs.example/start", "slug": "docs-link"},
    "pixels": {"name": "Mail pixel", "slug": "mail-pixel"},
}


@pytest.fixture(params=list(KINDS))
def kind(request):
    return request.param


def test_crud(api, kind):
    user = api.new_user()
    body = KINDS[kind]
    created = user.ok("POST", f"/api/{kind}", body)
    expected = {"id", "name", "slug", "userId", "teamId", "createdAt", "updatedAt", "deletedAt"}
    assert set(created) == expected | ({"url"} if kind == "links" else set())
    assert {k: created[k] for k in body} == body
    assert (
        created["userId"] == user.user["id"]
        and created["teamId"] is None
        and created["deletedAt"] is None
    )

    assert user.ok("GET", f"/api/{kind}/{created['id']}") == created
    listed = user.ok("GET", f"/api/{kind}")
    assert listed["count"] == 1 and listed["data"] == [created]
    assert api.new_user().ok("GET", f"/api/{kind}")["count"] == 0

    updated = user.ok(
        "POST", f"/api/{kind}/{created['id']}", {"name": "Renamed", "slug": "new-slug-1"}
    )
    assert (
        updated["name"] == "Renamed"
        and updated["slug"] == "new-slug-1"
        and updated["updatedAt"] >= created["updatedAt"]
    )
    assert user.ok("DELETE", f"/api/{kind}/{created['id']}") == {"ok": True}
    assert user.get(f"/api/{kind}/{created['id']}").status_code == 404
    assert user.ok("GET", f"/api/{kind}")["count"] == 0


def test_slug_rules(api, kind):
    user = api.new_user()
    body = KINDS[kind]
    short = user.post(f"/api/{kind}", {**body, "slug": "short"})
    assert short.status_code == 400 and "slug" in short.json()["error"]["message"]
    first = user.ok("POST", f"/api/{kind}", body)
    taken = user.post(f"/api/{kind}", {**body, "name": "Second"})
    assert (
        taken.status_code == 400
        and taken.json()["error"]["message"] == "That slug is already taken."
    )
    second = user.ok("POST", f"/api/{kind}", {**body, "slug": "another-slug"})
    clash = user.post(f"/api/{kind}/{second['id']}", {"slug": first["slug"]})
    assert (
        clash.status_code == 400
        and clash.json()["error"]["message"] == "That slug is already taken."
    )
    assert user.post(f"/api/{kind}/{second['id']}", {"slug": "tiny"}).status_code == 400
    assert user.post(f"/api/{kind}/{second['id']}", {"slug": "has/slash"}).status_code == 400
    # keeping one's own slug is fine
    assert (
        user.ok("POST", f"/api/{kind}/{second['id']}", {"slug": "another-slug"})["slug"]
        == "another-slug"
    )
    assert user.ok("GET", f"/api/{kind}")["count"] == 2


def test_search_paging_and_fixed_id(api, kind):
    user = api.new_user()
    body = KINDS[kind]
    wanted = str(uuid.uuid4())
    assert user.ok("POST", f"/api/{kind}", {**body, "id": wanted})["id"] == wanted
    again = user.post(f"/api/{kind}", {**body, "id": wanted, "slug": "other-slug"})
    assert again.status_code == 400
    for i in range(4):
        user.ok("POST", f"/api/{kind}", {**body, "name": f"Campaign {i}", "slug": f"campaign-{i}"})
    assert user.ok("GET", f"/api/{kind}", params={"search": "CAMPAIGN"})["count"] == 4
    assert user.ok("GET", f"/api/{kind}", params={"search": "campaign-3"})["count"] == 1
    page = user.ok("GET", f"/api/{kind}", params={"page": 2, "pageSize": 3})
    assert (
        page["count"] == 5
        and len(page["data"]) == 2
        and page["page"] == 2
        and page["pageSize"] == 3
    )


def test_unknown_and_foreign(api, kind):
    owner, other = api.new_user(), api.new_user()
    created = owner.ok("POST", f"/api/{kind}", KINDS[kind])
    assert owner.get(f"/api/{kind}/{uuid.uuid4()}").status_code == 404
    assert owner.get(f"/api/{kind}/not-an-id").status_code == 400
    assert other.get(f"/api/{kind}/{created['id']}").status_code == 401
    assert other.post(f"/api/{kind}/{created['id']}", {"name": "x"}).status_code == 401
    assert other.delete(f"/api/{kind}/{created['id']}").status_code == 401
    assert owner.ok("GET", f"/api/{kind}/{created['id']}")["name"] == created["name"]
    viewer = api.new_user(role="view-only")
    assert viewer.post(f"/api/{kind}", {**KINDS[kind], "slug": "viewer-slug"}).status_code == 401


def test_ids_are_unique_across_websites_links_and_pixels(api, client):
    """One id space serves every lookup: an id taken by any kind (deleted ones included) cannot
    be given to another, whoever asks, so nobody reaches another tenant's statistics through it."""
    owner, attacker = api.new_user(), api.new_user()
    website = owner.new_website()["id"]
    link = owner.ok("POST", "/api/links", {**KINDS["links"], "slug": "owners-link"})["id"]
    pixel = owner.ok("POST", "/api/pixels", {**KINDS["pixels"], "slug": "owners-pixel"})["id"]
    deleted = owner.ok("POST", "/api/pixels", {**KINDS["pixels"], "slug": "gone-pixel"})["id"]
    owner.ok("DELETE", f"/api/pixels/{deleted}")
    creates = {
        "websites": {"name": "Mine", "domain": "mine.example"},
        "links": {**KINDS["links"], "slug": "attacker-link"},
        "pixels": {**KINDS["pixels"], "slug": "attacker-pixel"},
    }
    for taken in (website, link, pixel, deleted):
        for kind, body in creates.items():
            response = attacker.post(f"/api/{kind}", {**body, "id": taken})
            assert response.status_code == 400, (kind, taken, response.text)
            assert response.json()["error"] == {
                "message": "That ID is already in use by a website, link or pixel.",
                "code": "bad-request",
                "status": 400,
            }
    assert attacker.ok("GET", "/api/websites")["count"] == 0
    assert (
        attacker.ok("GET", "/api/links")["count"] == 0
        and attacker.ok("GET", "/api/pixels")["count"] == 0
    )
    stats = {"startAt": 0, "endAt": 2**41}
    assert attacker.get(f"/api/websites/{link}/stats", params=stats).status_code == 401
    assert owner.get(f"/api/websites/{link}/stats", params=stats).status_code == 200


def test_an_id_held_by_two_kinds_is_refused_not_guessed(api, services):
    """An adopted database may already hold one id as a website and as a link (Umami never
    checked): its statistics would mix both, so neither is served through the shared lookup."""
    from datetime import UTC, datetime

    from katsuo.store import schema

    owner = api.new_user()
    website = owner.new_website()["id"]
    with services.db.begin() as conn:
        conn.execute(
            schema.link.insert().values(
                link_id=uuid.UUID(website),
                name="Clash",
                url="https://example.com/",
                slug="clashing-link",
                user_id=uuid.UUID(owner.user["id"]),
                created_at=datetime.now(UTC),
            )
        )
    stats = {"startAt": 0, "endAt": 2**41}
    for path in (f"/api/websites/{website}/stats", f"/api/websites/{website}/metrics"):
        response = owner.get(path, params={**stats, "type": "path"})
        assert response.status_code == 404, response.text
    share = owner.post(
        "/api/share", {"entityId": website, "shareType": 1, "name": "S", "slug": "clash-share"}
    )
    assert share.status_code == 404 and share.json()["error"]["message"] == "Entity not found"
    # The owner can still see and remove the duplicate through its own kind's API; then the
    # website is served again.
    assert owner.ok("GET", f"/api/links/{website}")["name"] == "Clash"
    owner.ok("DELETE", f"/api/links/{website}")
    assert owner.get(f"/api/websites/{website}/stats", params=stats).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JAVASCRIPT:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "/relative/path",
        "//evil.example/x",
        "https:/missing-slash",
        "https://",
        "ftp://files.example/x",
        "https://exa mple.com/",
        "http://[::1",
    ],
)
def test_link_urls_must_be_absolute_http_urls(api, url):
    user = api.new_user()
    created = user.post("/api/links", {**KINDS["links"], "url": url})
    assert created.status_code == 400 and "url" in created.json()["error"]["message"], created.text
    link = user.ok("POST", "/api/links", KINDS["links"])
    updated = user.post(f"/api/links/{link['id']}", {"url": url})
    assert updated.status_code == 400 and "url" in updated.json()["error"]["message"], updated.text
    assert user.ok("GET", f"/api/links/{link['id']}")["url"] == KINDS["links"]["url"]
    assert user.ok("POST", f"/api/links/{link['id']}", {"url": "HTTP://Example.com/ok?x=1"})[
        "url"
    ] == ("HTTP://Example.com/ok?x=1")

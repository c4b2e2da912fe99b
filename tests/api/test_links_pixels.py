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
    assert created["userId"] == user.user["id"] and created["teamId"] is None and created["deletedAt"] is None

    assert user.ok("GET", f"/api/{kind}/{created['id']}") == created
    listed = user.ok("GET", f"/api/{kind}")
    assert listed["count"] == 1 and listed["data"] == [created]
    assert api.new_user().ok("GET", f"/api/{kind}")["count"] == 0

    updated = user.ok("POST", f"/api/{kind}/{created['id']}", {"name": "Renamed", "slug": "new-slug-1"})
    assert updated["name"] == "Renamed" and updated["slug"] == "new-slug-1" and updated["updatedAt"] >= created["updatedAt"]
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
    assert taken.status_code == 400 and taken.json()["error"]["message"] == "That slug is already taken."
    second = user.ok("POST", f"/api/{kind}", {**body, "slug": "another-slug"})
    clash = user.post(f"/api/{kind}/{second['id']}", {"slug": first["slug"]})
    assert clash.status_code == 400 and clash.json()["error"]["message"] == "That slug is already taken."
    assert user.post(f"/api/{kind}/{second['id']}", {"slug": "tiny"}).status_code == 400
    assert user.post(f"/api/{kind}/{second['id']}", {"slug": "has/slash"}).status_code == 400
    # keeping one's own slug is fine
    assert user.ok("POST", f"/api/{kind}/{second['id']}", {"slug": "another-slug"})["slug"] == "another-slug"
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
    assert page["count"] == 5 and len(page["data"]) == 2 and page["page"] == 2 and page["pageSize"] == 3


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

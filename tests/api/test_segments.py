"""Segments and cohorts of a website: CRUD, type filter, search, parameters stored as given."""

from __future__ import annotations

import uuid

SEGMENT_PARAMETERS = {
    "filters": [{"name": "path", "operator": "eq", "value": "/pricing"}],
    "match": "all",
    "futureKey": {"kept": [1, 2.5, None, True]},
}
COHORT_PARAMETERS = {
    "filters": [{"name": "country", "operator": "eq", "value": "SE"}],
    "dateRange": "30day",
    "action": {"type": "path", "value": "/signup"},
}


def test_crud_for_segments_and_cohorts(api):
    user = api.new_user()
    website = user.new_website()
    base = f"/api/websites/{website['id']}/segments"
    segment = user.ok(
        "POST",
        base,
        {"type": "segment", "name": "Pricing visitors", "parameters": SEGMENT_PARAMETERS},
    )
    cohort = user.ok(
        "POST", base, {"type": "cohort", "name": "Swedish signups", "parameters": COHORT_PARAMETERS}
    )
    assert set(segment) == {
        "id",
        "websiteId",
        "type",
        "name",
        "parameters",
        "createdAt",
        "updatedAt",
    }
    assert segment["parameters"] == SEGMENT_PARAMETERS  # unknown keys kept, values as sent
    assert cohort["parameters"] == COHORT_PARAMETERS and cohort["type"] == "cohort"

    assert user.ok("GET", base, params={"type": "segment"})["data"] == [segment]
    assert user.ok("GET", base, params={"type": "cohort"})["data"] == [cohort]
    assert user.ok("GET", base, params={"type": "cohort", "search": "SWED"})["count"] == 1
    assert user.ok("GET", base, params={"type": "cohort", "search": "pricing"})["count"] == 0
    assert user.ok("GET", f"{base}/{segment['id']}") == segment

    changed = user.ok(
        "POST",
        f"{base}/{segment['id']}",
        {"type": "segment", "name": "Renamed", "parameters": {"any": "thing"}},
    )
    assert changed["name"] == "Renamed" and changed["parameters"] == {"any": "thing"}
    assert user.ok("DELETE", f"{base}/{segment['id']}") == {"ok": True}
    assert user.get(f"{base}/{segment['id']}").status_code == 404
    assert user.ok("GET", base, params={"type": "segment"})["count"] == 0


def test_validation_and_scoping(api):
    user, other = api.new_user(), api.new_user()
    website, second = user.new_website(), user.new_website(name="Second")
    base = f"/api/websites/{website['id']}/segments"
    bad_operator = {"filters": [{"name": "path", "operator": "like", "value": "/"}]}
    for body, field in (
        ({"type": "group", "name": "x", "parameters": {}}, "type"),
        ({"type": "segment", "name": "", "parameters": {}}, "name"),
        ({"type": "segment", "name": "x", "parameters": bad_operator}, "parameters"),
        ({"type": "segment", "name": "x", "parameters": {"match": "some"}}, "parameters"),
        ({"type": "segment", "name": "x"}, "parameters"),
    ):
        response = user.post(base, body)
        assert response.status_code == 400 and field in response.json()["error"]["message"], body
    assert user.get(base).status_code == 400  # type is required
    assert user.ok("GET", base, params={"type": "segment"})["count"] == 0

    segment = user.ok("POST", base, {"type": "segment", "name": "s", "parameters": {}})
    # a segment is reached only through its own website
    assert user.get(f"/api/websites/{second['id']}/segments/{segment['id']}").status_code == 404
    assert (
        user.get(f"/api/websites/{uuid.uuid4()}/segments", params={"type": "segment"}).status_code
        == 404
    )
    assert other.get(base, params={"type": "segment"}).status_code == 401
    assert other.post(base, {"type": "segment", "name": "s", "parameters": {}}).status_code == 401
    assert other.delete(f"{base}/{segment['id']}").status_code == 401

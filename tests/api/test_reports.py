"""Saved reports: create, list (by website and type), read, update, delete, on both engines."""

from __future__ import annotations

import uuid

GOAL = {
    "type": "goal",
    "name": "Visited /pricing",
    "parameters": {"type": "path", "value": "/pricing"},
}


def test_crud_and_listing(api):
    user = api.new_user()
    website = user.new_website()
    created = user.ok("POST", "/api/reports", {**GOAL, "websiteId": website["id"]})
    assert set(created) == {
        "id",
        "userId",
        "websiteId",
        "type",
        "name",
        "description",
        "parameters",
        "createdAt",
        "updatedAt",
    }
    assert created["userId"] == user.user["id"] and created["description"] == ""
    assert created["parameters"] == GOAL["parameters"]
    funnel = user.ok(
        "POST",
        "/api/reports",
        {
            "websiteId": website["id"],
            "type": "funnel",
            "name": "Signup",
            "description": "steps",
            "parameters": {
                "steps": [{"type": "path", "value": "/"}, {"type": "event", "value": "signup"}],
                "window": 60,
            },
        },
    )
    assert user.ok("GET", f"/api/reports/{created['id']}") == created

    listed = user.ok("GET", "/api/reports", params={"websiteId": website["id"]})
    assert listed["count"] == 2 and {r["id"] for r in listed["data"]} == {
        created["id"],
        funnel["id"],
    }
    goals = user.ok("GET", "/api/reports", params={"websiteId": website["id"], "type": "goal"})
    assert [r["id"] for r in goals["data"]] == [created["id"]]
    assert user.ok("GET", f"/api/websites/{website['id']}/reports", params={"type": "funnel"})[
        "data"
    ] == [funnel]

    changed = user.ok(
        "POST",
        f"/api/reports/{created['id']}",
        {
            **GOAL,
            "websiteId": website["id"],
            "name": "Pricing",
            "parameters": {"type": "event", "value": "buy"},
        },
    )
    assert changed["name"] == "Pricing" and changed["parameters"] == {
        "type": "event",
        "value": "buy",
    }
    assert user.ok("DELETE", f"/api/reports/{created['id']}") == {"ok": True}
    assert user.get(f"/api/reports/{created['id']}").status_code == 404
    assert user.delete(f"/api/reports/{created['id']}").status_code == 404


def test_validation_and_access(api):
    owner, other = api.new_user(), api.new_user()
    website = owner.new_website()
    for body, field in (
        ({**GOAL}, "websiteId"),
        ({**GOAL, "websiteId": website["id"], "type": "pie"}, "type"),
        ({**GOAL, "websiteId": website["id"], "name": "n" * 201}, "name"),
        ({**GOAL, "websiteId": website["id"], "parameters": [1, 2]}, "parameters"),
        ({**GOAL, "websiteId": website["id"], "description": "d" * 501}, "description"),
    ):
        response = owner.post("/api/reports", body)
        assert response.status_code == 400 and field in response.json()["error"]["message"], body
    assert owner.get("/api/reports").status_code == 400  # websiteId is required
    assert owner.post("/api/reports", {**GOAL, "websiteId": str(uuid.uuid4())}).status_code == 404

    report = owner.ok("POST", "/api/reports", {**GOAL, "websiteId": website["id"]})
    assert other.get(f"/api/reports/{report['id']}").status_code == 401
    assert other.get("/api/reports", params={"websiteId": website["id"]}).status_code == 401
    assert other.post("/api/reports", {**GOAL, "websiteId": website["id"]}).status_code == 401
    # moving a report onto a website one cannot update is refused
    foreign = other.new_website()
    moved = owner.post(f"/api/reports/{report['id']}", {**GOAL, "websiteId": foreign["id"]})
    assert moved.status_code == 401
    assert owner.ok("GET", f"/api/reports/{report['id']}")["websiteId"] == website["id"]


def test_reports_go_with_their_website(api):
    user = api.new_user()
    website = user.new_website()
    report = user.ok("POST", "/api/reports", {**GOAL, "websiteId": website["id"]})
    user.ok("POST", f"/api/websites/{website['id']}/reset")
    assert user.ok("GET", f"/api/reports/{report['id']}")["id"] == report["id"]  # reset keeps them
    user.ok("DELETE", f"/api/websites/{website['id']}")
    assert user.get(f"/api/reports/{report['id']}").status_code == 404

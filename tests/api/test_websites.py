"""Website management: CRUD, share id, reset, delete, transfer and validation, on both engines."""

from __future__ import annotations

import uuid


def test_create_get_update_delete(api):
    admin = api.admin()
    created = admin.new_website(name="Blog", domain="blog.example.com")
    assert created["name"] == "Blog" and created["domain"] == "blog.example.com"
    assert created["userId"] == admin.user["id"] and created["createdBy"] == admin.user["id"]
    assert created["teamId"] is None and created["shareId"] is None and created["resetAt"] is None

    fetched = admin.ok("GET", f"/api/websites/{created['id']}")
    assert fetched == created

    updated = admin.ok("POST", f"/api/websites/{created['id']}", {"name": "Journal"})
    assert updated["name"] == "Journal" and updated["domain"] == "blog.example.com"
    assert updated["updatedAt"] is not None

    listed = admin.ok("GET", "/api/websites")
    assert listed["count"] == 1 and listed["page"] == 1 and listed["pageSize"] == 20
    assert listed["data"][0]["user"] == {"id": admin.user["id"], "username": "admin"}

    assert admin.ok("DELETE", f"/api/websites/{created['id']}") == {"ok": True}
    assert admin.get(f"/api/websites/{created['id']}").status_code == 404


def test_fixed_id_and_duplicate(api):
    admin = api.admin()
    wanted = str(uuid.uuid4())
    assert admin.new_website(id=wanted)["id"] == wanted
    again = admin.post("/api/websites", {"id": wanted, "name": "x", "domain": "x.com"})
    assert again.status_code == 400


def test_share_id_on_off_and_taken(api):
    admin = api.admin()
    website = admin.new_website(shareId="first-slug")
    assert website["shareId"] == "first-slug"
    changed = admin.ok("POST", f"/api/websites/{website['id']}", {"shareId": "second-slug"})
    assert changed["shareId"] == "second-slug"
    other = admin.new_website(name="Other")
    taken = admin.post(f"/api/websites/{other['id']}", {"shareId": "second-slug"})
    assert (
        taken.status_code == 400
        and taken.json()["error"]["message"] == "That share ID is already taken."
    )
    off = admin.ok("POST", f"/api/websites/{website['id']}", {"shareId": None})
    assert off["shareId"] is None


def test_search_and_paging(api):
    admin = api.admin()
    for i in range(5):
        admin.new_website(name=f"Shop {i}", domain=f"shop{i}.example")
    admin.new_website(name="Docs", domain="docs.example")
    found = admin.ok("GET", "/api/websites", params={"search": "SHOP"})
    assert found["count"] == 5
    page = admin.ok("GET", "/api/websites", params={"page": 2, "pageSize": 4})
    assert (
        page["count"] == 6
        and len(page["data"]) == 2
        and page["page"] == 2
        and page["pageSize"] == 4
    )
    by_domain = admin.ok("GET", "/api/websites", params={"search": "docs.ex"})
    assert [w["name"] for w in by_domain["data"]] == ["Docs"]


def test_bad_input_is_400_naming_the_field_and_changes_nothing(api):
    admin = api.admin()
    cases = [
        ({"domain": "x.com"}, "name"),
        ({"name": "x" * 101, "domain": "x.com"}, "name"),
        ({"name": "ok", "domain": "d" * 501}, "domain"),
        ({"name": 12, "domain": "x.com"}, "name"),
        ({"name": "ok", "teamId": "not-a-uuid"}, "teamId"),
        ({"name": "ok", "id": "nope"}, "id"),
    ]
    for body, field in cases:
        response = admin.post("/api/websites", body)
        assert response.status_code == 400, body
        assert field in response.json()["error"]["message"], (body, response.text)
    assert admin.ok("GET", "/api/websites")["count"] == 0
    bad_json = admin.client.post(
        "/api/websites",
        content=b"{not json",
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400


def test_unknown_website_is_404(api):
    admin = api.admin()
    assert admin.get(f"/api/websites/{uuid.uuid4()}").status_code == 404
    assert admin.post(f"/api/websites/{uuid.uuid4()}", {"name": "x"}).status_code == 404


def test_transfer_between_user_and_team(api):
    """Into a team needs owner/manager there; back to oneself needs team-owner; admins get no
    special treatment (docs/permissions.md#transfers)."""
    owner, manager, member = api.new_user(), api.new_user(), api.new_user()
    team = owner.new_team()
    owner.add_member(team["id"], manager, "team-manager")
    owner.add_member(team["id"], member, "team-member")
    admin = api.admin()

    mine = member.new_website(name="Member's")
    assert (
        member.post(f"/api/websites/{mine['id']}/transfer", {"teamId": team["id"]}).status_code
        == 401
    )
    personal = manager.new_website(name="Manager's")
    assert (
        admin.post(f"/api/websites/{personal['id']}/transfer", {"teamId": team["id"]}).status_code
        == 401
    )
    moved = manager.ok("POST", f"/api/websites/{personal['id']}/transfer", {"teamId": team["id"]})
    assert moved["teamId"] == team["id"] and moved["userId"] is None

    path = f"/api/websites/{personal['id']}/transfer"
    assert (
        manager.post(path, {"userId": manager.user["id"]}).status_code == 401
    )  # only the team owner
    assert owner.post(path, {"userId": manager.user["id"]}).status_code == 401  # only to oneself
    back = owner.ok("POST", path, {"userId": owner.user["id"]})
    assert back["userId"] == owner.user["id"] and back["teamId"] is None
    assert owner.post(path, {}).status_code == 400


def test_export_neutralises_spreadsheet_formulas_sent_through_send(api, client):
    """Event names come from anyone who can reach /api/send: in the export's CSV, a cell a
    spreadsheet would run as a formula gets a leading apostrophe; plain names stay as sent."""
    import base64
    import csv
    import io
    import time
    import zipfile

    from tests.collect.conftest import send

    admin = api.admin()
    website = admin.new_website()["id"]
    hostile = [
        '=HYPERLINK("http://evil.example","x")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\tTAB",
        "\rCR",
    ]
    for name in [*hostile, "signup"]:
        response = send(
            client, {"website": website, "url": "/", "hostname": "example.com", "name": name}
        )
        assert response.status_code == 200, response.text
    now_ms = int(time.time() * 1000)
    body = admin.ok(
        "GET",
        f"/api/websites/{website}/export",
        params={"startAt": now_ms - 3_600_000, "endAt": now_ms + 60_000},
    )
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(body["zip"])))
    rows = list(csv.reader(io.StringIO(archive.read("events.csv").decode(), newline="")))
    names = sorted(row[0] for row in rows[1:])
    assert names == sorted(["'" + name for name in hostile] + ["signup"])


def test_retention_days_must_be_a_positive_integer_or_null(api):
    """Katsuo's `retentionDays` (tests/api/test_retention.py has what it does)."""
    admin = api.admin()
    website = admin.new_website("Checked")["id"]
    for value in (0, -3, "5", 1.5, True, 40000, [7]):
        response = admin.post(f"/api/websites/{website}", {"retentionDays": value})
        assert response.status_code == 400, (value, response.text)
        assert "retentionDays" in response.text
    assert admin.ok("GET", f"/api/websites/{website}")["retentionDays"] is None
    assert admin.ok("POST", f"/api/websites/{website}", {"retentionDays": 7})["retentionDays"] == 7
    assert admin.ok("POST", f"/api/websites/{website}", {"name": "Renamed"})["retentionDays"] == 7
    assert (
        admin.ok("POST", f"/api/websites/{website}", {"retentionDays": None})["retentionDays"]
        is None
    )

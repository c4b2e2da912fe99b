"""User management: admin CRUD, self-service limits, the admin list, and what deleting a user
takes with it (data-model §5); on both engines."""

from __future__ import annotations

import uuid


def test_admin_creates_reads_updates_and_lists(api):
    admin = api.admin()
    wanted = str(uuid.uuid4())
    created = admin.ok("POST", "/api/users", {"id": wanted, "username": "member", "password": "password123", "role": "user"})
    assert created == {"id": wanted, "username": "member", "role": "user"}
    dup = admin.post("/api/users", {"username": "member", "password": "password123", "role": "user"})
    assert dup.status_code == 400 and dup.json()["error"]["message"] == "User already exists"
    fetched = admin.ok("GET", f"/api/users/{wanted}")
    assert set(fetched) == {"id", "username", "role", "createdAt"}
    changed = admin.ok("POST", f"/api/users/{wanted}", {"username": "renamed", "role": "view-only"})
    assert changed["username"] == "renamed" and changed["role"] == "view-only"

    member = api.login("renamed", "password123")
    assert member.post("/api/websites", {"name": "x"}).status_code == 401
    admin.ok("POST", f"/api/users/{wanted}", {"role": "user"})
    member.new_website()

    listing = admin.ok("GET", "/api/admin/users")
    assert listing["count"] == 2 and listing["orderBy"] == "createdAt"
    assert [u["username"] for u in listing["data"]] == ["renamed", "admin"]  # newest first
    assert listing["data"][0]["_count"] == {"websites": 1}
    assert admin.ok("GET", "/api/admin/users", params={"search": "REN"})["count"] == 1


def test_self_service_limits(api):
    user, other = api.new_user(), api.new_user()
    me = f"/api/users/{user.user['id']}"
    assert user.ok("GET", me)["id"] == user.user["id"]
    ignored = user.ok("POST", me, {"role": "admin", "username": "boss", "password": "newpassword"})
    assert ignored["role"] == "user" and ignored["username"] == user.user["username"]
    api.login(user.user["username"], "newpassword")
    assert other.get(me).status_code == 401
    assert other.post(me, {"password": "hijacked!!"}).status_code == 401
    assert user.delete(me).status_code == 401  # only admins delete users
    assert user.get(f"/api/users/{other.user['id']}/websites").status_code == 401
    assert user.get(f"/api/users/{other.user['id']}/teams").status_code == 401
    assert user.get("/api/admin/users").status_code == 401
    admin = api.admin()
    refused = admin.delete(f"/api/users/{admin.user['id']}")
    assert refused.status_code == 400 and refused.json()["error"]["message"] == "You cannot delete yourself."
    assert admin.post(f"/api/users/{uuid.uuid4()}", {"role": "user"}).status_code == 404


def test_deleting_a_user_removes_what_they_own(api):
    admin = api.admin()
    doomed, teammate = api.new_user(), api.new_user()
    personal = doomed.new_website(name="Personal")
    report = doomed.ok("POST", "/api/reports", {"websiteId": personal["id"], "type": "goal", "name": "g", "parameters": {}})
    owned_team = doomed.new_team("Owned")
    doomed.add_member(owned_team["id"], teammate, "team-member")
    team_site = doomed.new_website(name="Team site", teamId=owned_team["id"])
    joined_team = teammate.new_team("Joined")
    teammate.add_member(joined_team["id"], doomed, "team-member")
    kept_site = teammate.new_website(name="Kept")
    foreign_report = doomed.ok("POST", "/api/reports", {
        "websiteId": team_site["id"], "type": "goal", "name": "by doomed", "parameters": {},
    })

    assert admin.ok("DELETE", f"/api/users/{doomed.user['id']}") == {"ok": True}
    assert admin.get(f"/api/users/{doomed.user['id']}").status_code == 404
    assert api.post("/api/auth/login", {"username": doomed.user["username"], "password": "password123"}).status_code == 401
    assert doomed.get("/api/me").status_code == 401
    assert admin.get(f"/api/websites/{personal['id']}").status_code == 404
    assert admin.get(f"/api/reports/{report['id']}").status_code == 404
    assert admin.get(f"/api/reports/{foreign_report['id']}").status_code == 404  # reports they created
    assert admin.get(f"/api/teams/{owned_team['id']}").status_code == 404  # teams they owned
    members = teammate.ok("GET", f"/api/teams/{joined_team['id']}/users")
    assert [m["userId"] for m in members["data"]] == [teammate.user["id"]]
    assert teammate.ok("GET", f"/api/websites/{kept_site['id']}")["id"] == kept_site["id"]


def test_deleting_a_user_stops_collection_for_their_websites(api):
    admin = api.admin()
    owner = api.new_user()
    website = owner.new_website()
    hit = {"type": "event", "payload": {"website": website["id"], "url": "/", "hostname": "example.com"}}
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"}
    assert api.client.post("/api/send", json=hit, headers=browser).status_code == 200
    admin.ok("DELETE", f"/api/users/{owner.user['id']}")
    refused = api.client.post("/api/send", json=hit, headers=browser)
    assert refused.status_code == 400 and refused.json()["error"]["message"] == "Website not found."

"""User management: admin CRUD, self-service limits, the admin list, and what deleting a user
takes with it (docs/data-lifecycle.md#deleting-and-resetting); on both engines."""

from __future__ import annotations

import uuid


def test_admin_creates_reads_updates_and_lists(api):
    admin = api.admin()
    wanted = str(uuid.uuid4())
    created = admin.ok(
        "POST",
        "/api/users",
        {"id": wanted, "username": "member", "password": "password123", "role": "user"},
    )
    assert created == {"id": wanted, "username": "member", "role": "user"}
    dup = admin.post(
        "/api/users", {"username": "member", "password": "password123", "role": "user"}
    )
    assert dup.status_code == 400 and dup.json()["error"]["message"] == "User already exists"
    fetched = admin.ok("GET", f"/api/users/{wanted}")
    assert set(fetched) == {"id", "username", "role", "createdAt"}
    changed = admin.ok("POST", f"/api/users/{wanted}", {"username": "renamed", "role": "view-only"})
    assert changed["username"] == "renamed" and changed["role"] == "view-only"

    member = api.login("renamed", "password123")
    assert member.post("/api/websites", {"name": "x"}).status_code == 401
    admin.ok("POST", f"/api/users/{wanted}", {"role": "user"})
    assert member.get("/api/me").status_code == 401  # a role change ends the user's logins
    api.login("renamed", "password123").new_website()

    listing = admin.ok("GET", "/api/admin/users")
    assert listing["count"] == 2 and listing["orderBy"] == "createdAt"
    assert [u["username"] for u in listing["data"]] == ["renamed", "admin"]  # newest first
    assert listing["data"][0]["_count"] == {"websites": 1}
    assert admin.ok("GET", "/api/admin/users", params={"search": "REN"})["count"] == 1


def test_self_service_limits(api):
    user, other = api.new_user(), api.new_user()
    me = f"/api/users/{user.user['id']}"
    assert user.ok("GET", me)["id"] == user.user["id"]
    ignored = user.ok("POST", me, {"role": "admin", "username": "boss"})
    assert ignored["role"] == "user" and ignored["username"] == user.user["username"]
    assert other.get(me).status_code == 401
    assert other.post(me, {"password": "hijacked!!"}).status_code == 401
    assert user.delete(me).status_code == 401  # only admins delete users
    assert user.get(f"/api/users/{other.user['id']}/websites").status_code == 401
    assert user.get(f"/api/users/{other.user['id']}/teams").status_code == 401
    assert user.get("/api/admin/users").status_code == 401
    admin = api.admin()
    refused = admin.delete(f"/api/users/{admin.user['id']}")
    assert (
        refused.status_code == 400
        and refused.json()["error"]["message"] == "You cannot delete yourself."
    )
    assert admin.post(f"/api/users/{uuid.uuid4()}", {"role": "user"}).status_code == 404


def test_deleting_a_user_removes_what_they_own(api):
    admin = api.admin()
    doomed, teammate = api.new_user(), api.new_user()
    personal = doomed.new_website(name="Personal")
    report = doomed.ok(
        "POST",
        "/api/reports",
        {"websiteId": personal["id"], "type": "goal", "name": "g", "parameters": {}},
    )
    owned_team = doomed.new_team("Owned")
    doomed.add_member(owned_team["id"], teammate, "team-member")
    team_site = doomed.new_website(name="Team site", teamId=owned_team["id"])
    joined_team = teammate.new_team("Joined")
    teammate.add_member(joined_team["id"], doomed, "team-member")
    kept_site = teammate.new_website(name="Kept")
    foreign_report = doomed.ok(
        "POST",
        "/api/reports",
        {
            "websiteId": team_site["id"],
            "type": "goal",
            "name": "by doomed",
            "parameters": {},
        },
    )

    assert admin.ok("DELETE", f"/api/users/{doomed.user['id']}") == {"ok": True}
    assert admin.get(f"/api/users/{doomed.user['id']}").status_code == 404
    assert (
        api.post(
            "/api/auth/login", {"username": doomed.user["username"], "password": "password123"}
        ).status_code
        == 401
    )
    assert doomed.get("/api/me").status_code == 401
    assert admin.get(f"/api/websites/{personal['id']}").status_code == 404
    assert admin.get(f"/api/reports/{report['id']}").status_code == 404
    assert (
        admin.get(f"/api/reports/{foreign_report['id']}").status_code == 404
    )  # reports they created
    assert admin.get(f"/api/teams/{owned_team['id']}").status_code == 404  # teams they owned
    members = teammate.ok("GET", f"/api/teams/{joined_team['id']}/users")
    assert [m["userId"] for m in members["data"]] == [teammate.user["id"]]
    assert teammate.ok("GET", f"/api/websites/{kept_site['id']}")["id"] == kept_site["id"]


def test_deleting_a_user_stops_collection_for_their_websites(api):
    admin = api.admin()
    owner = api.new_user()
    website = owner.new_website()
    hit = {
        "type": "event",
        "payload": {"website": website["id"], "url": "/", "hostname": "example.com"},
    }
    browser = {
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
    }
    assert api.client.post("/api/send", json=hit, headers=browser).status_code == 200
    admin.ok("DELETE", f"/api/users/{owner.user['id']}")
    refused = api.client.post("/api/send", json=hit, headers=browser)
    assert refused.status_code == 400 and refused.json()["error"]["message"] == "Website not found."


def _can_log_in(api, username: str, password: str) -> bool:
    return (
        api.post("/api/auth/login", {"username": username, "password": password}).status_code == 200
    )


def test_own_password_through_the_user_endpoint_needs_the_current_one(api):
    """Umami lets `POST /api/users/<own id> {password}` through without the current password, so a
    stolen login or API key takes the account over; Katsuo wants `currentPassword` for one's own id."""
    user = api.new_user()
    name, me = user.user["username"], f"/api/users/{user.user['id']}"
    key = user.ok("POST", "/api/me/api-keys", {"name": "k"})["key"]
    by_key = {"x-umami-api-key": key}
    for credential, headers in ((user, {}), (api, by_key)):
        for body in (
            {"password": "taken-over"},
            {"password": "taken-over", "currentPassword": "wrong-one"},
            {"password": "taken-over", "currentPassword": ""},
        ):
            refused = credential.post(me, body, headers=headers)
            assert refused.status_code == 400, body
            assert refused.json()["error"]["message"] == "Current password is incorrect"
    assert not _can_log_in(api, name, "taken-over") and _can_log_in(api, name, "password123")
    changed = api.post(
        me, {"password": "by-api-key", "currentPassword": "password123"}, headers=by_key
    )
    assert changed.status_code == 200
    assert _can_log_in(api, name, "by-api-key") and not _can_log_in(api, name, "password123")

    # administrators too, for their own account; other users' passwords they set freely
    admin = api.admin()
    own = f"/api/users/{admin.user['id']}"
    assert admin.post(own, {"password": "admin-new-1"}).status_code == 400
    assert _can_log_in(api, "admin", "umami")
    admin.ok("POST", f"/api/users/{user.user['id']}", {"password": "set-by-admin"})
    assert _can_log_in(api, name, "set-by-admin")
    fresh = api.login()
    fresh.ok("POST", own, {"password": "admin-new-1", "currentPassword": "umami"})
    assert _can_log_in(api, "admin", "admin-new-1")


def test_admins_cannot_change_their_own_role_or_remove_the_last_admin(api):
    admin = api.admin()
    me = f"/api/users/{admin.user['id']}"
    for role in ("user", "view-only"):
        refused = admin.post(me, {"role": role})
        assert (
            refused.status_code == 400
            and refused.json()["error"]["message"] == "You cannot change your own role."
        )
    assert admin.ok("POST", me, {"role": "admin"})["role"] == "admin"  # no change is no change
    assert admin.ok("GET", me)["role"] == "admin"
    # a second administrator may be demoted or deleted by the first, never the other way round
    second = api.new_user(role="admin")
    assert second.post(f"/api/users/{second.user['id']}", {"role": "user"}).status_code == 400
    assert second.delete(f"/api/users/{second.user['id']}").status_code == 400
    admin.ok("POST", f"/api/users/{second.user['id']}", {"role": "user"})
    assert second.delete(f"/api/users/{admin.user['id']}").status_code == 401  # no longer an admin
    assert admin.ok("GET", me)["role"] == "admin"


def test_role_and_password_changes_end_that_users_logins(api):
    admin = api.admin()
    user = api.new_user()
    name = user.user["username"]
    second = api.login(name, "password123")
    key = user.ok("POST", "/api/me/api-keys", {"name": "k"})["key"]
    admin.ok("POST", f"/api/users/{user.user['id']}", {"role": "view-only"})
    for login in (user, second):
        assert login.get("/api/me").status_code == 401
    # API keys are not logins: they stay until deleted, with the new role
    assert (
        api.get("/api/me", headers={"x-umami-api-key": key}).json()["user"]["role"] == "view-only"
    )
    # a rename is neither: it leaves the logins alone
    third = api.login(name, "password123")
    admin.ok("POST", f"/api/users/{user.user['id']}", {"username": name + "-renamed"})
    third.ok("GET", "/api/me")
    admin.ok("POST", f"/api/users/{user.user['id']}", {"password": "reset-by-admin"})
    assert third.get("/api/me").status_code == 401
    assert (
        admin.ok("GET", "/api/me")["user"]["id"] == admin.user["id"]
    )  # the admin's own login goes on
    api.login(name + "-renamed", "reset-by-admin").ok("GET", "/api/me")

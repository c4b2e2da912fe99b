"""Teams: creation, listing shapes, joining by access code, its regeneration, members and roles,
team-owned websites/links/pixels and deletion, on both engines."""

from __future__ import annotations

import re
import uuid

ACCESS_CODE = re.compile(r"^team_[0-9A-Za-z]{16}$")


def test_create_returns_team_and_owner_membership(api):
    user = api.new_user()
    response = user.ok("POST", "/api/teams", {"name": "Marketing"})
    assert isinstance(response, list) and len(response) == 2
    team, owner = response
    assert set(team) == {
        "id",
        "name",
        "accessCode",
        "logoUrl",
        "createdAt",
        "updatedAt",
        "deletedAt",
    }
    assert team["name"] == "Marketing" and ACCESS_CODE.match(team["accessCode"])
    assert set(owner) == {"id", "teamId", "userId", "role", "createdAt", "updatedAt"}
    assert (
        owner["teamId"] == team["id"]
        and owner["userId"] == user.user["id"]
        and owner["role"] == "team-owner"
    )
    # the login response now lists the team
    assert user.ok("POST", "/api/auth/verify")["teams"] == [
        {"id": team["id"], "name": "Marketing", "logoUrl": None}
    ]


def test_team_lists_have_members_with_users_and_counts(api):
    owner, member = api.new_user(), api.new_user()
    team = owner.new_team("Docs")
    owner.add_member(team["id"], member, "team-member")
    owner.new_website(name="Site", teamId=team["id"])
    owner.new_team("Other")

    for listing in (
        member.ok("GET", "/api/teams"),
        member.ok("GET", "/api/me/teams"),
        member.ok("GET", f"/api/users/{member.user['id']}/teams"),
    ):
        assert listing["count"] == 1 and listing["page"] == 1 and listing["pageSize"] == 20
        row = listing["data"][0]
        assert row["id"] == team["id"] and row["_count"] == {"websites": 1, "members": 2}
        users = [(m["role"], m["user"]) for m in row["members"]]
        assert users == [
            ("team-owner", {"id": owner.user["id"], "username": owner.user["username"]}),
            ("team-member", {"id": member.user["id"], "username": member.user["username"]}),
        ]
    assert owner.ok("GET", "/api/teams")["count"] == 2

    detail = member.ok("GET", f"/api/teams/{team['id']}")
    assert [m["userId"] for m in detail["members"]] == [owner.user["id"], member.user["id"]]
    assert "user" not in detail["members"][0]


def test_join_by_access_code(api):
    owner, joiner = api.new_user(), api.new_user(role="view-only")
    team = owner.new_team()
    unknown = joiner.post("/api/teams/join", {"accessCode": "team_nope"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "team-not-found"
    joined = joiner.ok("POST", "/api/teams/join", {"accessCode": team["accessCode"]})
    assert joined["teamId"] == team["id"] and joined["userId"] == joiner.user["id"]
    assert joined["role"] == "team-member"
    again = joiner.post("/api/teams/join", {"accessCode": team["accessCode"]})
    assert (
        again.status_code == 400
        and again.json()["error"]["message"] == "User is already a team member."
    )


def test_access_code_regeneration_as_umamis_ui_does_it(api):
    """The UI makes a new `team_` code itself and posts the whole team object back."""
    owner, manager, member, joiner = api.new_user(), api.new_user(), api.new_user(), api.new_user()
    team = owner.new_team("Ops")
    owner.add_member(team["id"], manager, "team-manager")
    owner.add_member(team["id"], member, "team-member")
    old_code = team["accessCode"]
    new_code = "team_" + uuid.uuid4().hex[:16]
    edited = {**manager.ok("GET", f"/api/teams/{team['id']}"), "accessCode": new_code}
    saved = manager.ok("POST", f"/api/teams/{team['id']}", edited)
    assert (
        saved["accessCode"] == new_code
        and saved["name"] == "Ops"
        and saved["updatedAt"] is not None
    )
    assert joiner.post("/api/teams/join", {"accessCode": old_code}).status_code == 404
    joiner.ok("POST", "/api/teams/join", {"accessCode": new_code})

    denied = member.post(f"/api/teams/{team['id']}", {"accessCode": "team_by_a_member"})
    assert denied.status_code == 401
    assert denied.json()["error"]["message"] == "You must be the owner/manager of this team."
    other = owner.new_team("Other")
    taken = owner.post(f"/api/teams/{other['id']}", {"accessCode": new_code})
    assert taken.status_code == 400
    assert owner.ok("GET", f"/api/teams/{other['id']}")["accessCode"] == other["accessCode"]


def test_members_roles_and_removal(api):
    owner, manager, member, outsider = (api.new_user() for _ in range(4))
    team = owner.new_team()
    added = owner.add_member(team["id"], manager, "team-manager")
    assert added["role"] == "team-manager"
    dup = owner.post(
        f"/api/teams/{team['id']}/users", {"userId": manager.user["id"], "role": "team-member"}
    )
    assert (
        dup.status_code == 400
        and dup.json()["error"]["message"] == "User is already a member of the Team."
    )
    bad_role = owner.post(
        f"/api/teams/{team['id']}/users", {"userId": member.user["id"], "role": "team-owner"}
    )
    assert bad_role.status_code == 400 and "role" in bad_role.json()["error"]["message"]
    ghost = owner.post(
        f"/api/teams/{team['id']}/users", {"userId": str(uuid.uuid4()), "role": "team-member"}
    )
    assert ghost.status_code == 404
    manager.add_member(team["id"], member, "team-view-only")

    path = f"/api/teams/{team['id']}/users/{member.user['id']}"
    assert manager.ok("GET", path)["role"] == "team-view-only"
    assert manager.ok("POST", path, {"role": "team-member"})["role"] == "team-member"
    assert member.get(path).status_code == 401  # reading one membership needs owner/manager
    missing = owner.post(
        f"/api/teams/{team['id']}/users/{outsider.user['id']}", {"role": "team-member"}
    )
    assert (
        missing.status_code == 400
        and missing.json()["error"]["message"] == "The User does not exists on this team."
    )

    listing = member.ok("GET", f"/api/teams/{team['id']}/users")
    assert [m["user"]["username"] for m in listing["data"]] == [
        owner.user["username"],
        manager.user["username"],
        member.user["username"],
    ]
    found = member.ok(
        "GET", f"/api/teams/{team['id']}/users", params={"search": manager.user["username"].upper()}
    )
    assert [m["userId"] for m in found["data"]] == [manager.user["id"]]
    assert outsider.get(f"/api/teams/{team['id']}/users").status_code == 401

    # a member may leave; a manager may remove a member
    assert outsider.delete(path).status_code == 401
    assert member.ok("DELETE", path) == {"ok": True}
    manager.add_member(team["id"], member, "team-member")
    assert manager.ok("DELETE", path) == {"ok": True}
    remaining = manager.ok("GET", f"/api/teams/{team['id']}/users")
    assert [m["userId"] for m in remaining["data"]] == [owner.user["id"], manager.user["id"]]


def test_the_owner_membership_is_untouchable(api):
    """Umami lets a manager demote or remove the owner; Katsuo refuses it to everyone (400)."""
    owner, manager, member = api.new_user(), api.new_user(), api.new_user()
    admin = api.admin()
    team = owner.new_team()
    owner.add_member(team["id"], manager, "team-manager")
    owner.add_member(team["id"], member, "team-member")
    owner_path = f"/api/teams/{team['id']}/users/{owner.user['id']}"
    for actor in (manager, admin, owner):
        for role in ("team-member", "team-manager", "team-view-only"):
            refused = actor.post(owner_path, {"role": role})
            assert refused.status_code == 400, (actor.user["username"], role)
            assert (
                refused.json()["error"]["message"]
                == "The team owner's membership cannot be changed or removed."
            )
        assert (
            actor.delete(owner_path).status_code == 400
        )  # removing the owner, or the owner leaving
    # team-owner is never handed out through the member endpoints
    member_path = f"/api/teams/{team['id']}/users/{member.user['id']}"
    for actor in (manager, admin, owner):
        promoted = actor.post(member_path, {"role": "team-owner"})
        assert promoted.status_code == 400 and "role" in promoted.json()["error"]["message"]
    # non-managers are still told they lack the right first
    assert member.post(owner_path, {"role": "team-member"}).status_code == 401
    assert member.delete(owner_path).status_code == 401
    roles = {
        m["userId"]: m["role"] for m in owner.ok("GET", f"/api/teams/{team['id']}/users")["data"]
    }
    assert roles == {
        owner.user["id"]: "team-owner",
        manager.user["id"]: "team-manager",
        member.user["id"]: "team-member",
    }


def test_team_websites_links_and_pixels(api):
    owner, viewer = api.new_user(), api.new_user()
    team = owner.new_team()
    owner.add_member(team["id"], viewer, "team-view-only")
    site = owner.new_website(name="Shop", domain="shop.example", teamId=team["id"])
    owner.new_website(name="Blog", domain="blog.example", teamId=team["id"])
    owner.new_website(name="Personal")
    link = owner.ok(
        "POST",
        "/api/links",
        {"name": "L", "url": "https://x.example", "slug": "team-link", "teamId": team["id"]},
    )
    pixel = owner.ok(
        "POST", "/api/pixels", {"name": "P", "slug": "team-pixel", "teamId": team["id"]}
    )
    assert link["teamId"] == team["id"] and link["userId"] is None and pixel["teamId"] == team["id"]

    sites = viewer.ok("GET", f"/api/teams/{team['id']}/websites")
    assert sites["count"] == 2
    assert {w["name"] for w in sites["data"]} == {"Shop", "Blog"}
    shop = next(w for w in sites["data"] if w["id"] == site["id"])
    assert shop["createUser"] == {"id": owner.user["id"], "username": owner.user["username"]}
    assert (
        viewer.ok("GET", f"/api/teams/{team['id']}/websites", params={"search": "shop.ex"})["count"]
        == 1
    )
    assert [x["id"] for x in viewer.ok("GET", f"/api/teams/{team['id']}/links")["data"]] == [
        link["id"]
    ]
    assert [x["id"] for x in viewer.ok("GET", f"/api/teams/{team['id']}/pixels")["data"]] == [
        pixel["id"]
    ]
    # the view-only member can see but not change them
    assert viewer.ok("GET", f"/api/websites/{site['id']}")["id"] == site["id"]
    assert viewer.post(f"/api/websites/{site['id']}", {"name": "x"}).status_code == 401
    assert viewer.post("/api/websites", {"name": "x", "teamId": team["id"]}).status_code == 401


def test_delete_team_keeps_its_websites(api):
    owner, manager = api.new_user(), api.new_user()
    team = owner.new_team()
    owner.add_member(team["id"], manager, "team-manager")
    site = owner.new_website(teamId=team["id"])
    denied = manager.delete(f"/api/teams/{team['id']}")
    assert denied.status_code == 401
    assert owner.ok("DELETE", f"/api/teams/{team['id']}") == {"ok": True}
    assert owner.get(f"/api/teams/{team['id']}").status_code == 404
    assert owner.ok("GET", "/api/teams")["count"] == 0
    # Team-owned websites stay, with their (now dangling) team id
    # (docs/data-lifecycle.md#deleting-and-resetting).
    kept = api.admin().ok("GET", f"/api/websites/{site['id']}")
    assert kept["teamId"] == team["id"]


def test_create_team_rules_and_validation(api):
    viewer = api.new_user(role="view-only")
    assert viewer.post("/api/teams", {"name": "Nope"}).status_code == 401
    user = api.new_user()
    for body, field in (
        ({}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "ok", "ownerId": "nope"}, "ownerId"),
    ):
        response = user.post("/api/teams", body)
        assert response.status_code == 400 and field in response.json()["error"]["message"], body
    other = api.new_user()
    # only administrators name another owner (Umami does not check `ownerId`)
    refused = user.post("/api/teams", {"name": "For other", "ownerId": other.user["id"]})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert (
        user.post("/api/teams", {"name": "Ghost", "ownerId": str(uuid.uuid4())}).status_code == 401
    )
    assert (
        other.ok("GET", "/api/teams")["count"] == 0 and user.ok("GET", "/api/teams")["count"] == 0
    )
    _mine, me_owner = user.ok("POST", "/api/teams", {"name": "Mine", "ownerId": user.user["id"]})
    assert me_owner["userId"] == user.user["id"] and me_owner["role"] == "team-owner"
    team, owner = api.admin().ok(
        "POST", "/api/teams", {"name": "For other", "ownerId": other.user["id"]}
    )
    assert owner["userId"] == other.user["id"] and owner["role"] == "team-owner"
    assert other.ok("GET", f"/api/teams/{team['id']}")["accessCode"] == team["accessCode"]
    assert user.get(f"/api/teams/{team['id']}").status_code == 401
    assert user.get(f"/api/teams/{uuid.uuid4()}").status_code == 404
    assert (
        api.admin().post("/api/teams", {"name": "x", "ownerId": str(uuid.uuid4())}).status_code
        == 404
    )


def test_admin_team_list(api):
    admin, user = api.admin(), api.new_user()
    first = user.new_team("Alpha")
    second = user.new_team("Beta")
    listing = admin.ok("GET", "/api/admin/teams")
    assert [t["id"] for t in listing["data"]] == [second["id"], first["id"]]  # newest first
    assert listing["data"][0]["_count"] == {"websites": 0, "members": 1}
    assert listing["data"][0]["members"][0]["user"]["username"] == user.user["username"]
    assert [
        t["name"] for t in admin.ok("GET", "/api/admin/teams", params={"search": "alp"})["data"]
    ] == ["Alpha"]
    assert user.get("/api/admin/teams").status_code == 401


def test_access_code_is_shown_only_to_those_who_manage_members(api):
    """A view-only member who could read the code could leave and rejoin as a member (who may
    edit the team's websites): the code is null for everyone but admins, owners and managers."""
    owner, manager, member, viewer = api.new_user(), api.new_user(), api.new_user(), api.new_user()
    admin = api.admin()
    team = owner.new_team("Secret")
    code = team["accessCode"]
    owner.add_member(team["id"], manager, "team-manager")
    owner.add_member(team["id"], member, "team-member")
    owner.add_member(team["id"], viewer, "team-view-only")

    def codes_seen(actor) -> list:
        """The access code of this team in every response that includes the team."""
        found = [actor.ok("GET", f"/api/teams/{team['id']}")]
        for path in ("/api/teams", "/api/me/teams", f"/api/users/{actor.user['id']}/teams"):
            found += [t for t in actor.ok("GET", path)["data"] if t["id"] == team["id"]]
        return [t["accessCode"] for t in found]

    for actor in (owner, manager):
        assert codes_seen(actor) == [code] * 4
    for actor in (member, viewer):
        seen = codes_seen(actor)
        assert seen == [None] * 4  # the key is kept, its value hidden
    admin_rows = [t for t in admin.ok("GET", "/api/admin/teams")["data"] if t["id"] == team["id"]]
    assert [t["accessCode"] for t in admin_rows] == [code]
    assert admin.ok("GET", f"/api/teams/{team['id']}")["accessCode"] == code
    assert admin.ok("GET", f"/api/users/{viewer.user['id']}/teams")["data"][0]["accessCode"] == code
    # login and verify list teams without their codes at all
    for body in (
        api.login(viewer.user["username"], "password123").user,
        viewer.ok("POST", "/api/auth/verify"),
    ):
        assert body["teams"] == [{"id": team["id"], "name": "Secret", "logoUrl": None}]
    # the view-only member cannot turn itself into a member: it never learns the code
    viewer.ok("DELETE", f"/api/teams/{team['id']}/users/{viewer.user['id']}")
    assert code not in str(viewer.ok("GET", "/api/me/teams"))
    # a member promoted to manager sees it from then on
    owner.ok("POST", f"/api/teams/{team['id']}/users/{member.user['id']}", {"role": "team-manager"})
    assert codes_seen(member) == [code] * 4

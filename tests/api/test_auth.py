"""Login, verify, logout, /api/me and API keys, on both engines."""

from __future__ import annotations

from tests.helpers import Api


def test_default_admin_logs_in_with_documented_shape(api):
    response = api.post("/api/auth/login", {"username": "admin", "password": "umami"})
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["token"], str) and body["token"]
    user = body["user"]
    assert user["username"] == "admin" and user["role"] == "admin" and user["isAdmin"] is True
    assert user["id"] == "41e2b680-648e-4b09-bcd7-3e2b10c06264"
    assert user["createdAt"].endswith("Z") and user["teams"] == []


def test_wrong_password_is_401_with_umami_code(api):
    response = api.post("/api/auth/login", {"username": "admin", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "incorrect-username-password"


def test_missing_fields_are_400_naming_the_field(api):
    response = api.post("/api/auth/login", {"username": "admin"})
    assert response.status_code == 400
    assert "password" in response.json()["error"]["message"]


def test_verify_and_me(api):
    admin = api.admin()
    verified = admin.ok("POST", "/api/auth/verify")
    assert (
        verified["username"] == "admin" and verified["isAdmin"] is True and verified["teams"] == []
    )
    me = admin.ok("GET", "/api/me")
    assert (
        me["user"]["username"] == "admin"
        and me["token"] == admin.token
        and me["shareToken"] is None
    )


def test_requests_without_token_are_401(api):
    for path in ("/api/me", "/api/websites"):
        response = api.get(path)
        assert response.status_code == 401
        assert response.json() == {
            "error": {"message": "Unauthorized", "code": "unauthorized", "status": 401}
        }
    garbage = api.get("/api/me", headers={"Authorization": "Bearer not-a-token"})
    assert garbage.status_code == 401


def test_change_password(api):
    user = api.new_user()
    wrong = user.post(
        "/api/me/password", {"currentPassword": "bad-password", "newPassword": "another-pass"}
    )
    assert wrong.status_code == 400
    # Shorter than the documented default "umami" (5 characters) is refused.
    short = user.post("/api/me/password", {"currentPassword": "password123", "newPassword": "four"})
    assert short.status_code == 400 and "newPassword" in short.json()["error"]["message"]
    changed = user.ok(
        "POST",
        "/api/me/password",
        {"currentPassword": "password123", "newPassword": "another-pass"},
    )
    assert changed["username"] == user.user["username"]
    assert (
        api.post(
            "/api/auth/login", {"username": user.user["username"], "password": "password123"}
        ).status_code
        == 401
    )
    api.login(user.user["username"], "another-pass")


def test_a_password_change_ends_the_users_other_logins(api):
    """Without Redis a login token is self-contained; its generation claim is what ends it."""
    user = api.new_user()
    name = user.user["username"]
    phone, laptop = api.login(name, "password123"), api.login(name, "password123")
    key = user.ok("POST", "/api/me/api-keys", {"name": "k"})["key"]
    bystander = api.new_user()
    phone.ok(
        "POST",
        "/api/me/password",
        {"currentPassword": "password123", "newPassword": "changed-pass"},
    )
    for login in (
        user,
        laptop,
        phone,
    ):  # a bearer client logs in again (the browser gets a new cookie)
        for method, path in (
            ("GET", "/api/me"),
            ("POST", "/api/auth/verify"),
            ("GET", "/api/websites"),
        ):
            assert login.request(method, path).status_code == 401, path
    assert api.get("/api/me", headers={"x-umami-api-key": key}).status_code == 200  # API keys stay
    bystander.ok("GET", "/api/me")  # other users' logins are not touched
    again = api.login(name, "changed-pass")
    again.ok("GET", "/api/me")
    # a refused change ends nothing
    assert (
        again.post(
            "/api/me/password", {"currentPassword": "wrong", "newPassword": "whatever-1"}
        ).status_code
        == 400
    )
    again.ok("GET", "/api/me")


def test_tokens_from_before_login_generations_last_until_the_first_change(api, services):
    """A token issued before the upgrade has no generation claim: it counts as generation 0."""
    from katsuo.auth import tokens

    user = api.new_user()
    old = Api(
        api.client,
        tokens.sign({"userId": user.user["id"], "role": "user"}, services.settings.secret),
    )
    assert old.ok("GET", "/api/me")["user"]["id"] == user.user["id"]
    user.ok(
        "POST",
        "/api/me/password",
        {"currentPassword": "password123", "newPassword": "changed-pass"},
    )
    assert old.get("/api/me").status_code == 401


def test_api_keys_are_shown_once_and_act_as_their_owner(api):
    user = api.new_user()
    created = user.ok("POST", "/api/me/api-keys", {"name": "ci"})
    key = created["key"]
    assert key.startswith("katsuo_") and created["name"] == "ci"
    listed = user.ok("GET", "/api/me/api-keys")
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0] and key.startswith(listed[0]["prefix"])

    website = user.new_website()
    by_header = api.get("/api/websites", headers={"x-umami-api-key": key})
    by_bearer = api.get("/api/websites", headers={"Authorization": f"Bearer {key}"})
    for response in (by_header, by_bearer):
        assert response.status_code == 200
        assert [w["id"] for w in response.json()["data"]] == [website["id"]]
    # same permissions as the owner: not an admin
    new_user = {"username": "someone", "password": "password123", "role": "user"}
    assert api.post("/api/users", new_user, headers={"x-umami-api-key": key}).status_code == 401

    user.ok("DELETE", f"/api/me/api-keys/{created['id']}")
    assert api.get("/api/websites", headers={"x-umami-api-key": key}).status_code == 401
    assert user.delete(f"/api/me/api-keys/{created['id']}").status_code == 404


def test_failed_logins_are_rate_limited_per_username_and_address(api):
    other = api.new_user()
    for _ in range(10):
        assert (
            api.post("/api/auth/login", {"username": "admin", "password": "wrong"}).status_code
            == 401
        )
    blocked = api.post("/api/auth/login", {"username": "admin", "password": "umami"})
    assert blocked.status_code == 429
    # another account from the same address is not locked out
    api.login(other.user["username"], "password123")
